import { ROOT_NAMESPACE, clusterName, resourceKey } from "@trellis/config";
import type { Cluster, ClusterEndpoint, DestinationPolicy, OutboundHost, ServiceEntry } from "@trellis/config";
import type { HostTarget, Member, MeshIndex } from "./mesh-index";

/**
 * One outbound host as a proxy in `callerNamespace` sees it. The caller's namespace matters
 * only for the short alias (`name` works within the Service's own namespace) and for which
 * DestinationPolicy wins, so the result is shared by every proxy of that namespace.
 */
export function compileOutboundHost(index: MeshIndex, host: string, callerNamespace: string): OutboundHost | undefined {
  const target = index.targets.get(host);
  if (!target) return undefined;
  const policy = pickPolicy(index.policiesByHost.get(host) ?? [], callerNamespace, hostNamespace(target));
  const subsets = policy?.spec.subsets ?? [];
  const routes = (index.routesByHost.get(host) ?? []).map((r) => r.snapshot);
  const policyPart = policy ? { policy: { source: resourceKey(policy), spec: policy.spec } } : {};

  if (target.kind === "service") {
    const { name, namespace } = target.service.metadata;
    const members = index.members.get(`${namespace}/${name}`) ?? [];
    const clusters: Cluster[] = [];
    for (const port of target.service.spec.ports) {
      const endpoints = members.map((m) => memberEndpoint(m, port.name, port.targetPort ?? port.port));
      clusters.push({ name: clusterName(port.port, undefined, host), port: port.port, endpoints });
      for (const s of subsets) {
        clusters.push({ name: clusterName(port.port, s.name, host), port: port.port, subset: s.name, endpoints: endpoints.filter((e) => hasLabels(e.labels, s.labels)) });
      }
    }
    return {
      host,
      aliases: [...(namespace === callerNamespace ? [name] : []), `${name}.${namespace}.svc`],
      kind: "service",
      ports: target.service.spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
      routes,
      ...policyPart,
      clusters,
    };
  }

  const { entry } = target;
  const clusters: Cluster[] = [];
  for (const port of entry.spec.ports) {
    const endpoints = externalEndpoints(entry, host, port.name, port.number);
    clusters.push({ name: clusterName(port.number, undefined, host), port: port.number, endpoints });
    for (const s of subsets) {
      clusters.push({ name: clusterName(port.number, s.name, host), port: port.number, subset: s.name, endpoints: endpoints.filter((e) => hasLabels(e.labels, s.labels)) });
    }
  }
  return {
    host,
    aliases: [],
    kind: "external",
    external: { location: entry.spec.location, resolution: entry.spec.resolution },
    ports: entry.spec.ports.map((p) => ({ name: p.name, port: p.number, protocol: lower(p.protocol) })),
    routes,
    ...policyPart,
    clusters,
  };
}

/**
 * What of the caller's namespace a host entry depends on: whether the caller shares the
 * Service's namespace (the short alias) and which DestinationPolicy it sees. Callers with the
 * same variant get the same entry, so a cache can key on it instead of on every namespace.
 */
export function hostVariant(index: MeshIndex, host: string, callerNamespace: string): string {
  const target = index.targets.get(host);
  if (!target) return "";
  const ns = hostNamespace(target);
  const policy = pickPolicy(index.policiesByHost.get(host) ?? [], callerNamespace, ns);
  return `${ns === callerNamespace ? "local" : "remote"}|${policy ? resourceKey(policy) : ""}`;
}

function hostNamespace(target: HostTarget): string | undefined {
  return target.kind === "service" ? target.service.metadata.namespace : undefined;
}

/** Istio's lookup order: a policy in the caller's namespace, then the host's, then the root namespace, then any (by key). */
function pickPolicy(candidates: readonly DestinationPolicy[], callerNamespace: string, hostNs: string | undefined): DestinationPolicy | undefined {
  for (const ns of [callerNamespace, hostNs, ROOT_NAMESPACE]) {
    const p = candidates.find((c) => c.metadata.namespace === ns);
    if (p) return p;
  }
  return candidates[0];
}

function memberEndpoint(m: Member, portName: string, targetPort: number): ClusterEndpoint {
  // A proxy with one inbound listener takes every Service port there (the port travels in the
  // request). Otherwise the workload's port of the same name (its registration or the
  // Workload's `ports`), else the Service's target port.
  const port = m.inboundPort ?? m.portsByName.get(portName) ?? targetPort;
  const endpoint: ClusterEndpoint = { address: m.address, port, labels: m.labels, weight: m.weight, sidecar: m.sidecar };
  // PeerAuthentication portLevel keys are workload ports (where the app listens).
  const workloadPort = m.portsByName.get(portName) ?? targetPort;
  if (m.peerAuth && (m.peerAuth.portLevel?.[String(workloadPort)] ?? m.peerAuth.mode) === "DISABLE") endpoint.plaintext = true;
  return endpoint;
}

function externalEndpoints(entry: ServiceEntry, host: string, portName: string, port: number): ClusterEndpoint[] {
  if (entry.spec.resolution === "STATIC") {
    return (entry.spec.endpoints ?? []).map((e) => ({ address: e.address, port: e.ports?.[portName] ?? port, labels: e.labels ?? {}, weight: 1, sidecar: false }));
  }
  // DNS: the proxy connects to the host name itself (a wildcard host has no single name to resolve).
  if (entry.spec.resolution === "DNS" && !host.startsWith("*.")) return [{ address: host, port, labels: {}, weight: 1, sidecar: false }];
  return []; // NONE (or a wildcard): forwarded to the address the caller dialled
}

function hasLabels(labels: Record<string, string>, required: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(required)) if (labels[k] !== v) return false;
  return true;
}

function lower<P extends string>(p: P): Lowercase<P> {
  return p.toLowerCase() as Lowercase<P>;
}
