import { applyChange, resourceKey } from "@trellis/config";
import type { Resource, ResourceRef } from "@trellis/config";
import { snapshotsOf } from "../distribution/compile-state";
import type { CompileState } from "../distribution/compile-state";
import { inbound } from "./what-if";

/** Calls seen in the window between a caller and a service (from the destinations' telemetry). */
export interface ObservedFlow {
  srcNamespace: string;
  srcService: string;
  srcWorkload: string;
  dstNamespace: string;
  dstService: string;
  requests: number;
}

/** A sampled request of a flow (from its traces): method, path, how often. */
export interface SampledOperation {
  method: string;
  path: string;
  count: number;
}

export interface FlowImpact {
  source: string;
  destination: string;
  requests: number;
  /** Whether actual requests (traces) were checked; without any, a GET / stands in for the flow. */
  sampled: boolean;
  verdict: "newly denied" | "partly denied" | "newly allowed" | "unchanged";
  /** Each request checked: let in now, and after the change, with the deciding reason after. */
  checked: { method: string; path: string; count: number; now: boolean; after: boolean; reason: string }[];
}

/**
 * What a change would do to the traffic of the last minutes: every flow seen (caller →
 * service) is run through the destination's inbound decision (mTLS mode, authorization) as it
 * is and as the change would make it, with the requests sampled from that flow's traces (method
 * and path), or a GET / when none was sampled. Flows whose answer changes come first.
 */
export function authzImpact(state: CompileState, change: { upserts: readonly Resource[]; deletes: readonly ResourceRef[] }, flows: readonly ObservedFlow[], samples: (f: ObservedFlow) => SampledOperation[]): FlowImpact[] {
  const after = applyChange(state.resources, change.upserts, change.deletes.map((d) => resourceKey(d)));
  const now = snapshotsOf(state);
  const next = snapshotsOf(state, after);
  const out: FlowImpact[] = [];
  for (const f of flows) {
    const target = state.endpoints.find((e) => e.sidecar && e.namespace === f.dstNamespace && e.service === f.dstService);
    if (!target || f.requests === 0) continue;
    const a = now(target).snapshot();
    const b = next(target).snapshot();
    const port = a.inbound.listeners[0]?.port ?? 0;
    const caller = state.endpoints.find((e) => e.sidecar && e.namespace === f.srcNamespace && e.workload === f.srcWorkload);
    const mtls = caller !== undefined && state.trust !== undefined;
    const sampled = samples(f);
    const ops = sampled.length ? sampled : [{ method: "GET", path: "/", count: 0 }];
    const checked = ops.map((op) => {
      const req = { method: op.method, path: op.path, headers: {}, jwt: undefined };
      const x = inbound(a, port, mtls, caller, state, req);
      const y = inbound(b, port, mtls, caller, state, req);
      return { method: op.method, path: op.path, count: op.count, now: x.refusedWith === null, after: y.refusedWith === null, reason: y.reason };
    });
    const denied = checked.filter((c) => c.now && !c.after).length;
    const allowed = checked.filter((c) => !c.now && c.after).length;
    const verdict: FlowImpact["verdict"] = denied === checked.length ? "newly denied" : denied > 0 ? "partly denied" : allowed > 0 ? "newly allowed" : "unchanged";
    out.push({ source: f.srcService ? `${f.srcNamespace}/${f.srcService}` : "unknown (no sidecar)", destination: `${f.dstNamespace}/${f.dstService}`, requests: f.requests, sampled: sampled.length > 0, verdict, checked });
  }
  const rank = { "newly denied": 0, "partly denied": 1, "newly allowed": 2, unchanged: 3 } as const;
  return out.sort((x, y) => rank[x.verdict] - rank[y.verdict] || y.requests - x.requests);
}
