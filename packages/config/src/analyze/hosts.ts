import type { Resource, Service, ServiceEntry } from "../resource";

/**
 * Host resolution, shared by analyze and the snapshot compiler so both agree on what a host
 * reference means:
 * - `name` in a resource of namespace `ns` is Service `name` in `ns`;
 * - `name.other` is Service `name` in namespace `other`;
 * - `name.other.svc` and `name.other.svc.cluster.local` are the same (Kubernetes-style FQDNs);
 * - anything else (more dots, or no such Service) is looked up among ServiceEntry hosts:
 *   exact match first, then wildcard hosts (`*.example.com` matches any subdomain).
 */

/** What a host reference names: a mesh Service or a ServiceEntry host. */
export type ResolvedHost =
  | { kind: "service"; namespace: string; name: string; service: Service }
  | { kind: "external"; entry: ServiceEntry; /** The ServiceEntry host that matched (may be a wildcard). */ host: string };

/** Services by `namespace/name` and every ServiceEntry, built once per mesh. */
export interface HostIndex {
  services: ReadonlyMap<string, Service>;
  entries: readonly ServiceEntry[];
}

export function buildHostIndex(resources: readonly Resource[]): HostIndex {
  const services = new Map<string, Service>();
  const entries: ServiceEntry[] = [];
  for (const r of resources) {
    if (r.kind === "Service") services.set(`${r.metadata.namespace}/${r.metadata.name}`, r);
    else if (r.kind === "ServiceEntry") entries.push(r);
  }
  return { services, entries };
}

/** The Service a host reference names by the naming rule alone (whether or not it exists). */
export function serviceRef(host: string, fromNamespace: string): { namespace: string; name: string } | undefined {
  const fqdn = /^([^.]+)\.([^.]+)\.svc(\.cluster\.local)?$/.exec(host);
  if (fqdn) return { namespace: fqdn[2]!, name: fqdn[1]! };
  const parts = host.split(".");
  if (parts.length === 1) return { namespace: fromNamespace, name: host };
  if (parts.length === 2) return { namespace: parts[1]!, name: parts[0]! };
  return undefined;
}

/** Resolves `host` as written in a resource of namespace `fromNamespace`; undefined when nothing in the mesh has that host. */
export function resolveHost(host: string, fromNamespace: string, index: HostIndex | readonly Resource[]): ResolvedHost | undefined {
  const idx = isHostIndex(index) ? index : buildHostIndex(index);
  const ref = serviceRef(host, fromNamespace);
  const service = ref && idx.services.get(`${ref.namespace}/${ref.name}`);
  if (ref && service) return { kind: "service", namespace: ref.namespace, name: ref.name, service };
  for (const entry of idx.entries) if (entry.spec.hosts.includes(host)) return { kind: "external", entry, host };
  const bare = host.startsWith("*.") ? host.slice(1) : host;
  for (const entry of idx.entries) {
    for (const h of entry.spec.hosts) {
      if (h.startsWith("*.") && bare.length > h.length - 1 && bare.endsWith(h.slice(1))) return { kind: "external", entry, host: h };
    }
  }
  return undefined;
}

/**
 * A canonical key for "the same host": `reviews` written in `default` and `reviews.default`
 * get the same key, whether or not the Service exists. External hosts key on the name written.
 */
export function hostKey(host: string, fromNamespace: string, index: HostIndex): string {
  const resolved = resolveHost(host, fromNamespace, index);
  if (resolved?.kind === "service") return `service:${resolved.namespace}/${resolved.name}`;
  if (resolved?.kind === "external") return `external:${host}`;
  const ref = serviceRef(host, fromNamespace);
  return ref ? `service:${ref.namespace}/${ref.name}` : `external:${host}`;
}

function isHostIndex(x: HostIndex | readonly Resource[]): x is HostIndex {
  return !Array.isArray(x);
}
