import type { SnapshotProxy } from "@trellis/config";
import { canonicalHost } from "./mesh-index";
import type { MeshIndex } from "./mesh-index";

/** Which outbound hosts a proxy receives: all of them, or the closure of its Service's `egress`. */
export type OutboundScope = { kind: "all" } | { kind: "egress"; hosts: readonly string[] };

/**
 * The outbound hosts of a proxy. Without `egress` on its Service: every host. With it: the
 * hosts it lists (resolved in the Service's namespace; `*.suffix` matches every host ending in
 * `.suffix`), plus every host reachable through their routes (destinations and mirrors), plus
 * the destinations of routes bound to Gateways the proxy runs, so every route in the snapshot
 * leads to a cluster that is in it. Depends only on the proxy's namespace and Service, so it
 * is shared by every replica of that Service.
 */
export function outboundScope(index: MeshIndex, proxy: Pick<SnapshotProxy, "service" | "namespace">): OutboundScope {
  const target = index.targets.get(`${proxy.service}.${proxy.namespace}`);
  const egress = target?.kind === "service" ? target.service.spec.egress : undefined;
  if (egress === undefined) return { kind: "all" };

  const seeds = new Set<string>();
  for (const ref of egress) {
    if (ref.startsWith("*.")) {
      const suffix = ref.slice(1);
      for (const h of index.hostNames) if (h.endsWith(suffix) || h === ref) seeds.add(h);
      continue;
    }
    const host = canonicalHost(index.hostIndex, ref, proxy.namespace);
    if (host !== undefined) seeds.add(host);
  }
  for (const gw of gatewaysOf(index, proxy.service)) {
    for (const r of index.routes) if (r.gateways.includes(gw)) for (const d of r.destinations) seeds.add(d);
  }

  const out = new Set<string>();
  const queue = [...seeds];
  for (let host = queue.pop(); host !== undefined; host = queue.pop()) {
    if (out.has(host) || !index.targets.has(host)) continue;
    out.add(host);
    for (const r of index.routesByHost.get(host) ?? []) for (const d of r.destinations) if (!out.has(d)) queue.push(d);
  }
  return { kind: "egress", hosts: [...out].sort() };
}

/** Gateways (`namespace/name`) whose selector names this Service: gateway proxies in any namespace, as Istio matches by default. */
export function gatewaysOf(index: MeshIndex, service: string): string[] {
  return index.gateways.filter((g) => g.spec.selector.service === service).map((g) => `${g.metadata.namespace}/${g.metadata.name}`);
}
