import type { HttpRouteRule } from "../resources/route";
import { clusterName } from "../snapshot";
import type { OutboundHost, Cluster } from "../snapshot";
import { pickPort } from "./host-table";
import type { HostTable } from "./host-table";
import { compileStringMatch } from "./string-match";

/**
 * The pure half of outbound HTTP routing, shared by trellis-proxy (which wraps it in sockets,
 * filters and clusters) and the control plane's what-if (which answers "where would this
 * request go?") — so the answer is computed by the code that routes the traffic.
 */

/** What route matching reads of a request. */
export interface RouteRequest {
  method: string;
  /** Path with its query, as sent. */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** One `match` alternative of a rule, compiled. */
export interface CompiledMatch {
  name: string | undefined;
  /** The path prefix (or exact path) it matched on, for `rewrite.uri`. */
  prefix: string | undefined;
  test(req: RouteRequest): boolean;
}

/** Compiles a rule's match alternative: method, path (query ignored), headers (joined with "," when repeated). Throws on a bad regex. */
export function compileHttpMatch(m: NonNullable<HttpRouteRule["match"]>[number]): CompiledMatch {
  const prefix = m.path?.prefix ?? m.path?.exact;
  const path = m.path ? compileStringMatch(m.path) : undefined;
  const headers = m.headers ? Object.entries(m.headers).map(([name, sm]) => [name, compileStringMatch(sm)] as const) : [];
  return {
    name: m.name,
    prefix,
    test(req) {
      if (m.method && req.method !== m.method) return false;
      if (path && !path(pathOnly(req.path))) return false;
      for (const [name, test] of headers) {
        const v = req.headers[name];
        if (v === undefined || !test(Array.isArray(v) ? v.join(",") : (v as string))) return false;
      }
      return true;
    },
  };
}

export function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q === -1 ? path : path.slice(0, q);
}

/** A destination's effective weight: as written, or 100 for a rule's only destination, else 0. */
export function effectiveWeight(rule: Pick<HttpRouteRule, "route">, i: number): number {
  return rule.route[i]!.weight ?? (rule.route.length === 1 ? 100 : 0);
}

/**
 * The index a weighted split picks for `r` in [0, 1): walks the weights in order, as the
 * proxy does per request; the first when there is one or every weight is 0.
 */
export function pickWeighted(weights: readonly number[], r: number): number {
  const total = weights.reduce((s, w) => s + w, 0);
  if (weights.length < 2 || total <= 0) return 0;
  let x = r * total;
  for (let i = 0; i < weights.length; i++) {
    if (x < weights[i]!) return i;
    x -= weights[i]!;
  }
  return weights.length - 1;
}

/** A host's HTTP rules for requests to one of its ports, in the order they are tried: its Routes in snapshot order, each Route's rules in order. */
export function rulesFor(host: OutboundHost): { rule: HttpRouteRule; source: string; index: number }[] {
  return host.routes.flatMap((r) => r.http.map((rule, index) => ({ rule, source: r.source, index })));
}

/**
 * The cluster a destination names, as the proxy resolves it: the destination's port, else the
 * port the request came in on when the host has it, else the host's default port.
 */
export function resolveCluster(hosts: HostTable, hostName: string, port: number | undefined, subset: string | undefined, requestPort: number): { host: OutboundHost; port: number; name: string; cluster: Cluster | undefined } | undefined {
  const host = hosts.get(hostName);
  if (!host) return undefined;
  const p = port ?? (host.ports.some((x) => x.port === requestPort) ? requestPort : pickPort(host, undefined, true)?.port);
  if (p === undefined) return undefined;
  const name = clusterName(p, subset, host.host);
  return { host, port: p, name, cluster: host.clusters.find((c) => c.name === name) };
}

/**
 * Whether a caller's sidecar dials an endpoint over mesh mTLS (else plaintext): the caller has
 * a workload identity, the endpoint has a sidecar and is not DISABLEd by its
 * PeerAuthentication, the host is a mesh Service, and no DestinationPolicy sets `tls.mode: DISABLE`.
 */
export function dialsMtls(host: Pick<OutboundHost, "kind" | "policy">, endpoint: { sidecar: boolean; plaintext?: boolean | undefined }, callerHasIdentity: boolean): boolean {
  return callerHasIdentity && endpoint.sidecar && !endpoint.plaintext && host.kind === "service" && host.policy?.spec.tls?.mode !== "DISABLE";
}
