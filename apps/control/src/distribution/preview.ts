import { analyze, applyChange, resourceKey } from "@trellis/config";
import type { Finding, Resource, ResourceRef } from "@trellis/config";
import { fieldChanges } from "../revisions/field-diff";
import type { FieldChange } from "../revisions/types";
import { snapshotsOf } from "./compile-state";
import type { CompileState } from "./compile-state";

export interface ProxyImpact {
  proxyId: string;
  service: string;
  namespace: string;
  /** The snapshot version it gets now and would get after the change. */
  before: string;
  after: string;
  /** What changes in its snapshot, field by field (at most `maxFields`; `truncated` when more). */
  fields: FieldChange[];
  truncated: boolean;
}

export interface ChangePreview {
  /** The revision the preview was computed against (a write must be based on it). */
  baseRevision: number;
  /** The findings on the mesh after the change; errors would refuse the write. */
  findings: Finding[];
  valid: boolean;
  /** Live sidecars and gateways. */
  proxies: number;
  /** Those whose snapshot would change, with their diff. */
  changed: ProxyImpact[];
}

/**
 * The blast radius of a change before it is written: the analyzer's findings on the mesh as it
 * would be, and for every live proxy, whether its snapshot would change and how — compiled by
 * the very compiler that feeds the proxies, once from the current config and once from the
 * proposed one (snapshotsOf).
 */
export function previewChange(state: CompileState, upserts: readonly Resource[], deletes: readonly ResourceRef[], maxFields = 200): ChangePreview {
  const after = applyChange(state.resources, upserts, deletes.map((d) => resourceKey(d)));
  const findings = analyze(after);
  const now = snapshotsOf(state);
  const next = snapshotsOf(state, after);
  const changed: ProxyImpact[] = [];
  const proxies = state.endpoints.filter((e) => e.sidecar);
  for (const e of proxies) {
    const a = now(e);
    const b = next(e);
    if (a.version === b.version) continue;
    // The revision differs by construction and says nothing: compare the content.
    const { revision: _r1, version: _v1, ...sa } = a.snapshot();
    const { revision: _r2, version: _v2, ...sb } = b.snapshot();
    const fields = fieldChanges(sa, sb);
    changed.push({ proxyId: e.id, service: e.service, namespace: e.namespace, before: a.version, after: b.version, fields: fields.slice(0, maxFields), truncated: fields.length > maxFields });
  }
  changed.sort((x, y) => x.proxyId.localeCompare(y.proxyId));
  return { baseRevision: state.revision, findings, valid: !findings.some((f) => f.severity === "error"), proxies: proxies.length, changed };
}
