import { resourceKey } from "@trellis/config";
import type { Member, MeshIndex } from "./mesh-index";

/**
 * What SnapshotCompiler compares between two mesh indexes to reuse work across revisions.
 * Resources are compared by identity: the store hands out the same (immutable) object for a
 * resource a new revision did not touch, so an untouched resource costs one `===`. A fresh
 * object with equal content only costs a rebuild, never a wrong result.
 */

/**
 * What resolving a host reference depends on (see resolveHost): the Services by
 * `namespace/name` and the ServiceEntries' hosts in resource order. While it is unchanged, every
 * Route compiles to the same canonical destinations and the host names are the same.
 */
export function resolutionKey(index: MeshIndex): string {
  const services = [...index.hostIndex.services.keys()].join(",");
  const entries = index.hostIndex.entries.map((e) => `${resourceKey(e)}=${e.spec.hosts.join(" ")}`).join(",");
  return `${services}|${entries}`;
}

/**
 * What outbound scopes depend on besides resolution and the proxy's own Service: which hosts
 * each Route governs, sends to and binds to, and which Service each Gateway selects. Route
 * weights, timeouts and the like are not part of it, so editing them keeps every scope.
 */
export function topologyKey(index: MeshIndex): string {
  const routes = index.routes.map((r) => `${r.meshHosts.join(" ")}>${r.destinations.join(" ")}@${r.gateways.join(" ")}`).join(";");
  const gateways = index.gateways.map((g) => `${resourceKey(g)}=${g.spec.selector.service}`).join(";");
  return `${routes}#${gateways}`;
}

/**
 * Everything compileOutboundHost reads for `host`, besides resolution and the caller's variant:
 * its Service or ServiceEntry, its DestinationPolicies and Routes (by identity) and its members
 * (by content, as endpoints are listed afresh each time).
 */
export function hostInputs(index: MeshIndex, host: string): unknown[] {
  const target = index.targets.get(host);
  if (!target) return [];
  const deps: unknown[] = [target.kind === "service" ? target.service : target.entry];
  for (const p of index.policiesByHost.get(host) ?? []) deps.push(p);
  deps.push("routes");
  for (const r of index.routesByHost.get(host) ?? []) deps.push(r.route);
  if (target.kind === "service") {
    const { name, namespace } = target.service.metadata;
    const members = index.members.get(`${namespace}/${name}`) ?? [];
    deps.push(membersKey(members));
  }
  return deps;
}

/** The members' content as one string (what a host's clusters are made of). */
function membersKey(members: readonly Member[]): string {
  let key = "";
  for (const m of members) {
    key += `${JSON.stringify(m.id)} ${JSON.stringify(m.address)} ${m.inboundPort ?? "-"} ${m.weight} ${m.sidecar} ${m.peerAuth ? JSON.stringify([m.peerAuth.mode, m.peerAuth.portLevel ?? null]) : "-"} [`;
    for (const [name, port] of m.portsByName) key += `${JSON.stringify(name)}:${port},`;
    key += "] {";
    for (const k in m.labels) key += `${JSON.stringify(k)}:${JSON.stringify(m.labels[k])},`;
    key += "}\n";
  }
  return key;
}

/** Element-wise `===`. */
export function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
