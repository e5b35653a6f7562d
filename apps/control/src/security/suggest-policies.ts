import { spiffeId } from "@trellis/config";
import type { Resource } from "@trellis/config";
import type { Graph } from "../graph/types";

export interface PolicySuggestion {
  /** One ALLOW policy per destination service that had callers in the window. */
  policies: Resource[];
  /** What the policies cannot express or leave out, in words. */
  notes: string[];
}

/**
 * Authorization policies that allow exactly the calls seen in a window of traffic: for every
 * service of `namespace` that was called, an ALLOW policy selecting it whose one rule names the
 * SPIFFE principals of the services that called it. Applying them denies every caller not
 * seen. Calls from workloads without a sidecar have no principal to name: they are listed in
 * the notes (such callers would be denied), as are services that were not called at all
 * (left without a policy, so they stay open).
 */
export function suggestPolicies(graph: Graph, namespace: string, trustDomain: string, existing: readonly Resource[]): PolicySuggestion {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const callers = new Map<string, Set<string>>();
  const notes: string[] = [];
  for (const e of graph.edges) {
    const dst = nodes.get(e.target);
    const src = nodes.get(e.source);
    if (!dst || dst.type !== "service" || dst.namespace !== namespace || !dst.service) continue;
    const requests = (e.traffic?.requests ?? 0) + (e.tcp?.connectionsOpened ?? 0);
    if (requests === 0) continue;
    if (!src || src.type !== "service" || !src.service) {
      notes.push(`${dst.service} was called by ${src?.label ?? e.source}, which has no sidecar and so no principal: the suggested policy would deny it`);
      continue;
    }
    const set = callers.get(dst.service) ?? new Set<string>();
    set.add(spiffeId({ trustDomain, namespace: src.namespace, serviceAccount: src.service }));
    callers.set(dst.service, set);
  }
  const taken = new Set(existing.filter((r) => r.kind === "AuthorizationPolicy" && r.metadata.namespace === namespace).map((r) => r.metadata.name));
  const policies: Resource[] = [...callers]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, principals]) => {
      let name = `${service}-observed`;
      for (let i = 2; taken.has(name); i++) name = `${service}-observed-${i}`;
      return { kind: "AuthorizationPolicy", metadata: { name, namespace }, spec: { selector: { service }, action: "ALLOW", rules: [{ from: [{ source: { principals: [...principals].sort() } }] }] } } as Resource;
    });
  const idle = graph.nodes.filter((n) => n.type === "service" && n.namespace === namespace && n.service && !callers.has(n.service) && !notes.some((x) => x.startsWith(`${n.service} `)));
  if (idle.length) notes.push(`not called in the window, so no policy suggested (they stay as they are): ${idle.map((n) => n.service).sort().join(", ")}`);
  return { policies, notes };
}
