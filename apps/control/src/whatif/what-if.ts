import { applyChange, authorize, compileHttpMatch, dialsMtls, effectiveWeight, HostTable, normalizePath, resolveCluster, resourceKey, rulesFor, spiffeId } from "@trellis/config";
import type { AuthzDecision, Endpoint, HttpRouteRule, MtlsMode, Resource, ResourceRef, Snapshot } from "@trellis/config";
import { snapshotsOf } from "../distribution/compile-state";
import type { CompileState } from "../distribution/compile-state";

/**
 * What-if: where a described request would go and whether it would be let in — computed from
 * the snapshots the control plane compiles (for the config as it is, or as a proposed change
 * would make it) by the code the proxies run: the shared host table, route matching, weighted
 * split and cluster resolution of `@trellis/config` (trellis-proxy's outbound router uses the
 * same functions), then at each destination the inbound side's mTLS mode, path normalization,
 * JWT issuers and `authorize`, exactly as the destination's proxy would apply them.
 *
 * The JWT is taken as valid (its signature is the one thing not checked: the what-if holds no
 * token); its issuer must still be one the destination accepts.
 */

export interface WhatIfRequest {
  /** The calling workload: a live proxy, `namespace/workload`. */
  source: string;
  /** What the app addresses: `reviews`, `reviews:9080`, `api.example.com`. */
  authority: string;
  method: string;
  /** Path with query. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** A token the request would carry (taken as valid): issuer, subject, further claims. */
  jwt?: { issuer: string; subject: string; claims?: Record<string, unknown> } | undefined;
}

export interface DestinationVerdict {
  host: string;
  subset: string | null;
  port: number;
  weight: number;
  /** Share of requests this destination gets, 0..1. */
  share: number;
  cluster: string;
  /** Members of the cluster (0: a 503, no healthy upstream). */
  endpoints: number;
  workloads: string[];
  /** The caller's sidecar dials it over mTLS. */
  mtls: boolean;
  /** The destination's effective PeerAuthentication mode on that port (null: no sidecar there). */
  peerAuthentication: MtlsMode | null;
  /** The HTTP status the destination's proxy answers before the app (null: it reaches the app). */
  refusedWith: number | null;
  /** Why it is let in or refused. */
  reason: string;
  /** The authorization decision (null: no sidecar at the destination, nothing decides). */
  authorization: AuthzDecision | null;
}

export interface WhatIfAnswer {
  revision: number;
  /** Evaluated against a proposed change rather than the config as it is. */
  proposed: boolean;
  outcome: "routed" | "no-host" | "no-route" | "bad-request";
  message: string;
  route: { source: string; rule: number; name: string; match: string | null; timeout: string | null; retries: HttpRouteRule["retries"] | null; fault: HttpRouteRule["fault"] | null; mirror: HttpRouteRule["mirror"] | null } | null;
  destinations: DestinationVerdict[];
  /** Every destination with a share lets it in. */
  allowed: boolean;
}

export class WhatIfError extends Error {}

/** Answers a what-if against `state`, or against `state` with the change applied. */
export function whatIf(state: CompileState, req: WhatIfRequest, change?: { upserts: readonly Resource[]; deletes: readonly ResourceRef[] }): WhatIfAnswer {
  const resources = change ? applyChange(state.resources, change.upserts, change.deletes.map((d) => resourceKey(d))) : state.resources;
  const snapshots = snapshotsOf(state, change ? resources : undefined);
  const compile = (e: Endpoint): Snapshot => snapshots(e).snapshot();
  const base = { revision: state.revision, proposed: change !== undefined, route: null, destinations: [], allowed: false };

  const caller = state.endpoints.find((e) => e.id === req.source && e.sidecar);
  if (!caller) throw new WhatIfError(`source '${req.source}' is not a live proxy: name one as namespace/workload (see proxies.status)`);
  const snap = compile(caller);
  const hosts = new HostTable(snap.outbound.hosts);
  const addressed = hosts.resolve(req.authority);
  if (!addressed) return { ...base, outcome: "no-host", message: `${req.source} has no outbound host '${req.authority}': the sidecar answers 404 (NR)` };
  const { host } = addressed;
  const requestPort = addressed.port.port;
  const rreq = { method: req.method, path: req.path, headers: req.headers };

  let chosen: { rule: HttpRouteRule; source: string; index: number; match: string | null } | undefined;
  const rules = rulesFor(host);
  for (const r of rules) {
    if (!r.rule.match?.length) {
      chosen = { ...r, match: null };
      break;
    }
    const hit = r.rule.match.map((m) => compileHttpMatch(m)).find((m) => m.test(rreq));
    if (hit) {
      chosen = { ...r, match: hit.name ?? null };
      break;
    }
  }
  // No rules at all: the whole host, as the proxy's fallback does.
  const rule: Pick<HttpRouteRule, "route"> | undefined = chosen?.rule ?? (rules.length === 0 ? { route: [{ destination: { host: host.host } }] } : undefined);
  if (!rule) return { ...base, outcome: "no-route", message: `no route rule of ${host.host} matches ${req.method} ${req.path}: the sidecar answers 404 (NR)` };

  const weights = rule.route.map((_, i) => effectiveWeight(rule, i));
  const total = weights.reduce((s, w) => s + w, 0);
  const identity = state.trust !== undefined;
  const destinations = rule.route.map((wd, i): DestinationVerdict => {
    const weight = weights[i]!;
    const share = total > 0 ? weight / total : i === 0 ? 1 : 0;
    const c = resolveCluster(hosts, wd.destination.host, wd.destination.port, wd.destination.subset, requestPort);
    const members = c?.cluster?.endpoints ?? [];
    const workloads = state.endpoints.filter((e) => members.some((m) => m.address === e.address && (m.port === e.inboundPort || e.ports.some((p) => p.port === m.port))) && `${e.service}.${e.namespace}` === c?.host.host);
    const v: DestinationVerdict = { host: wd.destination.host, subset: wd.destination.subset ?? null, port: c?.port ?? requestPort, weight, share, cluster: c?.name ?? "", endpoints: members.length, workloads: workloads.map((w) => w.id), mtls: false, peerAuthentication: null, refusedWith: null, reason: "", authorization: null };
    if (!c?.cluster || members.length === 0) return { ...v, refusedWith: 503, reason: `no endpoint in ${c?.name ?? wd.destination.host}: the caller's sidecar answers 503 (UH)` };
    const target = workloads.find((w) => w.sidecar);
    if (!target) return { ...v, reason: "no sidecar at the destination: nothing there authorizes; the request reaches it" };
    v.mtls = dialsMtls(c.host, members[0]!, identity);
    return { ...v, ...inbound(compile(target), v.port, v.mtls, caller, state, req) };
  });
  const shared = destinations.filter((d) => d.share > 0);
  const allowed = shared.length > 0 && shared.every((d) => d.refusedWith === null);
  const route = chosen ? { source: chosen.source, rule: chosen.index, name: chosen.rule.name ?? chosen.match ?? "default", match: chosen.match, timeout: chosen.rule.timeout ?? null, retries: chosen.rule.retries ?? null, fault: chosen.rule.fault ?? null, mirror: chosen.rule.mirror ?? null } : null;
  const fault = chosen?.rule.fault;
  const faultNote = fault?.abort ? ` (and the route's fault injection aborts ${fault.abort.percentage} % with ${fault.abort.httpStatus ?? `gRPC ${fault.abort.grpcStatus}`})` : "";
  return {
    ...base,
    outcome: "routed",
    route,
    destinations,
    allowed,
    message: `${req.method} ${req.path} to ${host.host}:${requestPort} takes ${route ? `${route.source} rule ${route.rule}` : "the whole host (no routes)"}; ${allowed ? "let in" : "refused"} ${shared.length > 1 ? "at every destination" : ""}${faultNote}`.replace(/ +/g, " ").trim(),
  };
}

/** The destination proxy's inbound decision, in the order it applies them. */
export function inbound(snap: Snapshot, port: number, mtls: boolean, caller: Endpoint | undefined, state: CompileState, req: Pick<WhatIfRequest, "method" | "path" | "headers" | "jwt">): Pick<DestinationVerdict, "peerAuthentication" | "refusedWith" | "reason" | "authorization"> {
  const pa = snap.inbound.peerAuthentication;
  // Port-level modes are keyed by the workload's port, as the proxy looks them up.
  const listener = snap.inbound.listeners.find((l) => l.port === port);
  const mode = pa.portLevel[String(listener?.targetPort ?? port)] ?? pa.mode;
  if (mode === "STRICT" && !mtls) return { peerAuthentication: mode, refusedWith: 403, reason: `PeerAuthentication STRICT on port ${port} refuses plaintext (${pa.source ?? "mesh default"})`, authorization: null };
  if (mode === "DISABLE" && mtls) return { peerAuthentication: mode, refusedWith: 503, reason: `PeerAuthentication DISABLE on port ${port} refuses TLS`, authorization: null };
  const normalized = normalizePath(req.path);
  // The proxy normalizes the whole path, then authorizes on it without the query.
  const path = normalized === undefined ? undefined : normalized.split("?")[0]!;
  if (path === undefined) return { peerAuthentication: mode, refusedWith: 400, reason: `the path '${req.path}' is malformed (it must start with / and hold no bad escapes)`, authorization: null };
  let requestPrincipal: string | undefined;
  let claims: Record<string, unknown> | undefined;
  // Without a RequestAuthentication the proxy does not look at tokens at all: no principal, no claims.
  if (req.jwt && snap.inbound.jwtRules.length > 0) {
    const issuers = snap.inbound.jwtRules.map((r) => r.rule.issuer);
    if (!issuers.includes(req.jwt.issuer)) return { peerAuthentication: mode, refusedWith: 401, reason: `the token's issuer '${req.jwt.issuer}' is not one the destination accepts (${issuers.join(", ")})`, authorization: null };
    requestPrincipal = `${req.jwt.issuer}/${req.jwt.subject}`;
    claims = { ...req.jwt.claims, iss: req.jwt.issuer, sub: req.jwt.subject };
  }
  const sourcePrincipal = mtls && caller && state.trust ? spiffeId({ trustDomain: state.trust.trustDomain, namespace: caller.namespace, serviceAccount: caller.service }) : undefined;
  const decision = authorize(snap.inbound.authorizationPolicies, {
    method: req.method,
    path,
    port,
    headers: req.headers,
    sourcePrincipal,
    sourceNamespace: sourcePrincipal ? caller?.namespace : undefined,
    requestPrincipal,
    claims,
  });
  return { peerAuthentication: mode, refusedWith: decision.allowed ? null : 403, reason: decision.reason, authorization: decision };
}
