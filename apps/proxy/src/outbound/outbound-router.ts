import { compileStringMatch, HostTable, resolveCluster } from "@trellis/config";
import type { OutboundHost, Snapshot, StringMatch } from "@trellis/config";
import { RequestContext } from "../core/context";
import type { MatchedRoute, PeerInfo, RouteTarget } from "../core/context";
import { NoRouteError } from "../core/errors";
import type { Handler, ProxyRequest } from "../core/types";
import type { RetryBudget } from "../filters/retry-budget";
import type { Upstreams } from "../transport/upstreams";
import type { ClusterStates } from "./cluster-states";
import { CompiledRule } from "./http-route";
import type { RuleDeps } from "./http-route";
import { UpstreamCluster } from "./upstream-cluster";

/** What a router needs that outlives it. */
export interface OutboundDeps {
  states: ClusterStates;
  upstreams: Upstreams;
  self: PeerInfo;
  budget(key: string, percent: number): RetryBudget;
  random?: () => number;
  /** Where mirrored requests' failures are reported (debug). */
  onMirrorError?(err: unknown): void;
}

/** The rules and default cluster of one (host, port), built on first use. */
interface PortRoutes {
  rules: CompiledRule[];
  /** The whole-host cluster, used when the host has no HTTP rules at all. */
  fallback: UpstreamCluster | undefined;
  /** The destination as known before a rule picks a cluster (telemetry names the host even for requests that fail first). */
  target: RouteTarget;
  /** The fallback's destination. */
  fallbackTarget: RouteTarget | undefined;
}

const DEFAULT_ROUTE: MatchedRoute = Object.freeze({ name: "default", source: "" });

/**
 * The outbound half of one snapshot: maps what the app addressed to a host, a rule, a
 * weighted destination and a cluster, and builds each (host, port)'s chain on first use so a
 * snapshot with thousands of hosts costs nothing for the hosts this workload never calls.
 * Immutable once built (the lazily filled caches only ever add); a new snapshot builds a
 * new router and the proxy swaps it in whole.
 */
export class OutboundRouter {
  readonly hosts: HostTable;
  readonly handler: Handler;
  private readonly routes = new Map<string, PortRoutes>();
  private readonly clusters = new Map<string, UpstreamCluster | undefined>();
  /** How route rules reach clusters and mirrors; the gateway router compiles its rules with it too. */
  readonly ruleDeps: RuleDeps;

  constructor(
    readonly snapshot: Snapshot,
    private readonly deps: OutboundDeps,
  ) {
    validateMatchers(snapshot);
    this.hosts = new HostTable(snapshot.outbound.hosts);
    const random = deps.random ?? Math.random;
    this.ruleDeps = {
      random,
      budget: deps.budget,
      cluster: (host, port, subset, requestPort) => this.clusterFor(host, port, subset, requestPort),
      mirror: (cluster, req) => this.sendMirror(cluster, req),
    };
    this.handler = (req, ctx, signal) => {
      const resolved = this.hosts.resolve(req.authority);
      if (!resolved) return Promise.reject(new NoRouteError(`no route to host ${req.authority}`));
      // The destination host is known from here on, even for requests a fault aborts or no
      // rule matches: telemetry, access logs and spans name it (as Istio's destination_service
      // does); the weighted pick fills in the subset and cluster.
      const pr = this.portRoutes(resolved.host, resolved.port.port);
      ctx.target = pr.target;
      for (const rule of pr.rules) {
        const alt = rule.match(req);
        if (alt === undefined) continue;
        ctx.route = alt?.route ?? rule.route;
        return (alt?.handler ?? rule.handler)(req, ctx, signal);
      }
      if (pr.rules.length === 0 && pr.fallback) {
        ctx.route = DEFAULT_ROUTE;
        ctx.target = pr.fallbackTarget;
        return pr.fallback.handler(req, ctx, signal);
      }
      return Promise.reject(new NoRouteError(`no route rule of ${resolved.host.host} matches ${req.method} ${req.path}`));
    };
  }

  /** Every cluster name of the snapshot with its endpoint keys (for ClusterStates.retain / Upstreams.retain). */
  liveEndpoints(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const h of this.snapshot.outbound.hosts) for (const c of h.clusters) out.set(c.name, new Set(c.endpoints.map((e) => `${e.address}:${e.port}`)));
    return out;
  }

  /** The TCP destination for a tunnel to `authority` (CONNECT or a tcp-forward listener): the host's TCP rules, else its whole-host cluster. */
  tcpCluster(authority: string, random: () => number = Math.random): UpstreamCluster | undefined {
    const resolved = this.hosts.resolve(authority, false);
    if (!resolved) return undefined;
    const port = resolved.port.port;
    for (const r of resolved.host.routes) {
      for (const rule of r.tcp) {
        if (rule.port !== undefined && rule.port !== port) continue;
        const total = rule.route.reduce((s, d) => s + (d.weight ?? (rule.route.length === 1 ? 100 : 0)), 0);
        let x = random() * total;
        for (const d of rule.route) {
          const w = d.weight ?? (rule.route.length === 1 ? 100 : 0);
          if (x < w || d === rule.route[rule.route.length - 1]) return this.clusterFor(d.destination.host, d.destination.port, d.destination.subset, port);
          x -= w;
        }
      }
    }
    return this.clusterFor(resolved.host.host, port, undefined, port);
  }

  private portRoutes(host: OutboundHost, port: number): PortRoutes {
    const key = `${host.host}:${port}`;
    let pr = this.routes.get(key);
    if (!pr) {
      const rules: CompiledRule[] = [];
      for (const r of host.routes) r.http.forEach((rule, i) => rules.push(new CompiledRule(rule, r.source, i, host, port, this.ruleDeps)));
      const fallback = rules.length ? undefined : this.clusterFor(host.host, port, undefined, port);
      pr = {
        rules,
        fallback,
        target: Object.freeze({ host: host.host, port, cluster: "" }),
        fallbackTarget: fallback && Object.freeze({ host: host.host, port, cluster: fallback.cluster.name }),
      };
      this.routes.set(key, pr);
    }
    return pr;
  }

  private clusterFor(hostName: string, port: number | undefined, subset: string | undefined, requestPort: number): UpstreamCluster | undefined {
    const r = resolveCluster(this.hosts, hostName, port, subset, requestPort);
    if (!r) return undefined;
    if (this.clusters.has(r.name)) return this.clusters.get(r.name);
    const uc = r.cluster ? new UpstreamCluster(r.cluster, r.host, r.host.policy?.spec, this.deps.states, this.deps.upstreams, this.deps.self, this.deps.random) : undefined;
    this.clusters.set(r.name, uc);
    return uc;
  }

  private sendMirror(cluster: UpstreamCluster, req: ProxyRequest): void {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 30_000);
    timer.unref(); // a hung mirror must not hold up shutdown
    const ctx = new RequestContext("outbound", "http", ac.signal, "mirror", this.deps.self);
    cluster
      .handler(req, ctx, ac.signal)
      .then((res) => res.body?.resume())
      .catch((err) => this.deps.onMirrorError?.(err))
      .finally(() => clearTimeout(timer));
  }
}

/**
 * Compiles every matcher of the snapshot once, so a pattern the proxy cannot run (a regex the
 * control plane's checks let through) refuses the snapshot (NACK, previous one kept) instead
 * of failing requests later: route chains themselves are built lazily, per host on first use.
 */
function validateMatchers(snapshot: Snapshot): void {
  const check = (m: StringMatch | undefined, where: string) => {
    if (!m) return;
    try {
      compileStringMatch(m);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  };
  for (const h of snapshot.outbound.hosts) {
    for (const r of h.routes) {
      r.http.forEach((rule, i) =>
        rule.match?.forEach((m, j) => {
          const at = `outbound.hosts[${h.host}].routes[${r.source}].http[${i}].match[${j}]`;
          check(m.path, `${at}.path`);
          for (const [name, hm] of Object.entries(m.headers ?? {})) check(hm, `${at}.headers.${name}`);
        }),
      );
    }
  }
}