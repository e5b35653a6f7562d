import type { OutboundHost } from "../snapshot";

type OutboundPort = OutboundHost["ports"][number];

/** A host and the port a request addressed. */
export interface AddressedHost {
  host: OutboundHost;
  port: OutboundPort;
}

/**
 * Looks up what an application addressed (`reviews`, `reviews:9080`, `reviews.default.svc`,
 * `api.example.com:443`) among the snapshot's outbound hosts and aliases, wildcard
 * ServiceEntry hosts (`*.example.com`) last. An explicit port must be one of the host's; with
 * none, port 80 if the host has it, else its only (or first HTTP-speaking) port.
 */
export class HostTable {
  private readonly exact = new Map<string, OutboundHost>();
  private readonly wildcards: Array<[suffix: string, host: OutboundHost]> = [];

  constructor(hosts: readonly OutboundHost[]) {
    for (const h of hosts) {
      if (h.host.startsWith("*.")) this.wildcards.push([h.host.slice(1), h]);
      else this.exact.set(h.host, h);
      for (const a of h.aliases) if (!this.exact.has(a)) this.exact.set(a, h);
    }
    this.wildcards.sort((a, b) => b[0].length - a[0].length);
  }

  /** The canonical host entry by name (destinations in route rules are canonical already). */
  get(host: string): OutboundHost | undefined {
    return this.exact.get(host);
  }

  resolve(authority: string, defaultHttp = true): AddressedHost | undefined {
    const { name, port } = splitAuthority(authority);
    if (!name) return undefined;
    let host = this.exact.get(name) ?? this.exact.get(stripClusterSuffix(name));
    if (!host) {
      for (const [suffix, h] of this.wildcards) {
        if (name.endsWith(suffix)) {
          host = h;
          break;
        }
      }
    }
    if (!host) return undefined;
    const p = pickPort(host, port, defaultHttp);
    return p ? { host, port: p } : undefined;
  }
}

export function pickPort(host: OutboundHost, port: number | undefined, defaultHttp: boolean): OutboundPort | undefined {
  if (port !== undefined) return host.ports.find((p) => p.port === port);
  if (host.ports.length === 1) return host.ports[0];
  if (defaultHttp) return host.ports.find((p) => p.port === 80) ?? host.ports.find((p) => p.protocol !== "tcp" && p.protocol !== "tls");
  return undefined;
}

/** `reviews.default.svc.cluster.local` → `reviews.default.svc`, the alias form snapshots carry. */
function stripClusterSuffix(name: string): string {
  return name.endsWith(".cluster.local") ? name.slice(0, -".cluster.local".length) : name;
}

/** Splits `host[:port]` (IPv6 in brackets); lower-cases the host. */
export function splitAuthority(authority: string): { name: string; port: number | undefined } {
  let a = authority.trim().toLowerCase();
  let port: number | undefined;
  const colon = a.lastIndexOf(":");
  if (colon > -1 && a.indexOf("]") < colon) {
    const p = a.slice(colon + 1);
    if (!/^\d{1,5}$/.test(p)) return { name: "", port: undefined };
    port = Number(p);
    a = a.slice(0, colon);
  }
  if (a.endsWith(".")) a = a.slice(0, -1);
  return { name: a, port };
}
