import { buildHostIndex, effectivePeerAuthentication, resolveHost, resourceKey } from "@trellis/config";
import type {
  AuthorizationPolicy,
  Destination,
  DestinationPolicy,
  Endpoint,
  Gateway,
  HostIndex,
  PeerAuthentication,
  RateLimitPolicy,
  RequestAuthentication,
  Resource,
  ResourceKind,
  ResourceOfKind,
  Route,
  Service,
  ServiceEntry,
  SnapshotRoute,
} from "@trellis/config";

/**
 * Everything the per-proxy compilation looks up, built once from (resources, endpoints):
 * resources grouped by kind and ordered by key, hosts resolved to their canonical names,
 * Route rules with their destination hosts already rewritten to canonical names.
 * Pure data; building it has no side effects.
 */

/** What a canonical outbound host is. */
export type HostTarget = { kind: "service"; service: Service } | { kind: "external"; entry: ServiceEntry };

/** One workload backing a Service: a registered endpoint or a static Workload resource. */
export interface Member {
  /** `namespace/workload`. */
  id: string;
  address: string;
  /** Port name → port on the workload. */
  portsByName: ReadonlyMap<string, number>;
  /** The port of the workload's proxy inbound listener, which peers dial for every Service port; undefined: dial `portsByName`. */
  inboundPort: number | undefined;
  labels: Record<string, string>;
  weight: number;
  sidecar: boolean;
  /** The PeerAuthentication governing the workload (see effectivePeerAuthentication); undefined: PERMISSIVE. */
  peerAuth: PeerAuthentication["spec"] | undefined;
}

/** A Route with its rules compiled for snapshots. */
export interface CompiledRoute {
  route: Route;
  /** The Route's rules with destination hosts canonical. */
  snapshot: SnapshotRoute;
  /** Canonical hosts whose mesh traffic it governs (empty when it binds to gateways only). */
  meshHosts: string[];
  /** Gateways it binds to, as `namespace/name`. */
  gateways: string[];
  /** Canonical hosts its rules send traffic to (destinations and mirrors). */
  destinations: string[];
}

export interface MeshIndex {
  hostIndex: HostIndex;
  /** Every outbound host by canonical name: `name.namespace` for Services, the written host for ServiceEntries. */
  targets: ReadonlyMap<string, HostTarget>;
  /** Canonical names of every outbound host, sorted. */
  hostNames: readonly string[];
  /** Routes by the canonical hosts they govern, each list ordered by resource key. */
  routesByHost: ReadonlyMap<string, CompiledRoute[]>;
  /** Every Route, ordered by resource key. */
  routes: readonly CompiledRoute[];
  /** DestinationPolicies by canonical host, ordered by resource key. */
  policiesByHost: ReadonlyMap<string, DestinationPolicy[]>;
  /** Members by Service, keyed `namespace/name`, ordered by id. */
  members: ReadonlyMap<string, Member[]>;
  /** Registered endpoints by id. */
  endpoints: ReadonlyMap<string, Endpoint>;
  authorizationPolicies: readonly AuthorizationPolicy[];
  peerAuthentications: readonly PeerAuthentication[];
  requestAuthentications: readonly RequestAuthentication[];
  rateLimitPolicies: readonly RateLimitPolicy[];
  gateways: readonly Gateway[];
}

/**
 * The canonical outbound host a reference written in `fromNamespace` names; undefined when
 * nothing in the mesh has it. Resolution is @trellis/config's resolveHost, so analyze and the
 * compiler agree on what a host means (`.svc` FQDNs included).
 */
export function canonicalHost(hostIndex: HostIndex, host: string, fromNamespace: string): string | undefined {
  const r = resolveHost(host, fromNamespace, hostIndex);
  if (!r) return undefined;
  return r.kind === "service" ? `${r.name}.${r.namespace}` : r.host;
}

function byKey<K extends ResourceKind>(resources: readonly Resource[], kind: K): ResourceOfKind<K>[] {
  return resources
    .filter((r): r is ResourceOfKind<K> => r.kind === kind)
    .map((r) => ({ r, k: resourceKey(r) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.r);
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function compileRoute(hostIndex: HostIndex, route: Route): CompiledRoute {
  const ns = route.metadata.namespace;
  const destinations = new Set<string>();
  const resolve = (d: Destination): Destination => {
    const host = canonicalHost(hostIndex, d.host, ns);
    if (host === undefined) return d; // an unknown host: analyze reports it; the proxy answers 503 for it
    destinations.add(host);
    return { ...d, host };
  };
  const http = (route.spec.http ?? []).map((rule) => ({
    ...rule,
    route: rule.route.map((w) => ({ ...w, destination: resolve(w.destination) })),
    ...(rule.mirror ? { mirror: { ...rule.mirror, destination: resolve(rule.mirror.destination) } } : {}),
  }));
  const tcp = (route.spec.tcp ?? []).map((rule) => ({ ...rule, route: rule.route.map((w) => ({ ...w, destination: resolve(w.destination) })) }));
  const bound = route.spec.gateways;
  const mesh = bound === undefined || bound.includes("mesh");
  const meshHosts = mesh ? [...new Set(route.spec.hosts.map((h) => canonicalHost(hostIndex, h, ns)).filter((h): h is string => h !== undefined))] : [];
  const gateways = (bound ?? []).filter((g) => g !== "mesh").map((g) => (g.includes("/") ? g : `${ns}/${g}`));
  return { route, snapshot: { source: resourceKey(route), http, tcp }, meshHosts, gateways, destinations: [...destinations].sort() };
}

function members(resources: readonly Resource[], endpoints: readonly Endpoint[]): { members: Map<string, Member[]>; endpoints: Map<string, Endpoint> } {
  const byId = new Map<string, Endpoint>();
  const out = new Map<string, Member[]>();
  for (const ep of endpoints) {
    byId.set(ep.id, ep);
    push(out, `${ep.namespace}/${ep.service}`, {
      id: ep.id,
      address: ep.address,
      portsByName: new Map(ep.ports.map((p) => [p.name, p.port])),
      inboundPort: ep.inboundPort,
      labels: ep.labels,
      weight: 1,
      sidecar: ep.sidecar,
      peerAuth: undefined,
    });
  }
  for (const w of byKey(resources, "Workload")) {
    const id = `${w.metadata.namespace}/${w.metadata.name}`;
    if (byId.has(id)) continue; // the workload registered itself; its live registration wins
    push(out, `${w.metadata.namespace}/${w.spec.service}`, {
      id,
      address: w.spec.address,
      portsByName: new Map(Object.entries(w.spec.ports ?? {})),
      inboundPort: undefined,
      labels: w.spec.labels,
      weight: w.spec.weight,
      sidecar: w.spec.sidecar,
      peerAuth: undefined,
    });
  }
  for (const list of out.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members: out, endpoints: byId };
}

/** Builds the index. Cost is linear in resources and endpoints (host resolution aside). */
export function buildMeshIndex(resources: readonly Resource[], endpoints: readonly Endpoint[]): MeshIndex {
  const hostIndex = buildHostIndex(resources);
  const targets = new Map<string, HostTarget>();
  for (const service of byKey(resources, "Service")) targets.set(`${service.metadata.name}.${service.metadata.namespace}`, { kind: "service", service });
  for (const entry of byKey(resources, "ServiceEntry")) {
    for (const host of entry.spec.hosts) if (!targets.has(host)) targets.set(host, { kind: "external", entry });
  }

  const routes = byKey(resources, "Route").map((r) => compileRoute(hostIndex, r));
  const routesByHost = new Map<string, CompiledRoute[]>();
  for (const r of routes) for (const h of r.meshHosts) push(routesByHost, h, r);

  const policiesByHost = new Map<string, DestinationPolicy[]>();
  for (const p of byKey(resources, "DestinationPolicy")) {
    const host = canonicalHost(hostIndex, p.spec.host, p.metadata.namespace);
    if (host !== undefined) push(policiesByHost, host, p);
  }

  // Callers dial a member in plaintext where its PeerAuthentication says DISABLE: each member's governing policy, decided as its own proxy's inbound is.
  const peerAuthentications = byKey(resources, "PeerAuthentication");
  const indexed = members(resources, endpoints);
  if (peerAuthentications.length > 0) {
    for (const [key, list] of indexed.members) {
      const slash = key.indexOf("/");
      for (const m of list) if (m.sidecar) m.peerAuth = effectivePeerAuthentication(peerAuthentications, key.slice(0, slash), key.slice(slash + 1), m.labels)?.spec;
    }
  }

  return {
    hostIndex,
    targets,
    hostNames: [...targets.keys()].sort(),
    routesByHost,
    routes,
    policiesByHost,
    ...indexed,
    authorizationPolicies: byKey(resources, "AuthorizationPolicy"),
    peerAuthentications,
    requestAuthentications: byKey(resources, "RequestAuthentication"),
    rateLimitPolicies: byKey(resources, "RateLimitPolicy"),
    gateways: byKey(resources, "Gateway"),
  };
}
