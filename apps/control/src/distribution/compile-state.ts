import type { Endpoint, Resource, SnapshotTrust } from "@trellis/config";
import { SnapshotCompiler } from "./snapshot-compiler";
import type { CompiledSnapshot } from "./snapshot-compiler";

/** What the snapshots are compiled from: the config at a revision, the live endpoints, the trust bundle. */
export interface CompileState {
  revision: number;
  resources: readonly Resource[];
  endpoints: readonly Endpoint[];
  trust: SnapshotTrust | undefined;
}

/**
 * Compiles endpoints' snapshots from `state`, or from `proposed` resources in its config's
 * place (as one revision on) — what dump, preview and what-if read. A fresh compiler each
 * time, so the push path's caches are never touched by a what-if.
 */
export function snapshotsOf(state: CompileState, proposed?: readonly Resource[]): (e: Endpoint) => CompiledSnapshot {
  const compiler = new SnapshotCompiler();
  compiler.update({ revision: state.revision + (proposed ? 1 : 0), resources: proposed ?? state.resources, endpoints: state.endpoints, trust: state.trust });
  return (e) => compiler.compile({ id: e.id, service: e.service, namespace: e.namespace, labels: e.labels });
}
