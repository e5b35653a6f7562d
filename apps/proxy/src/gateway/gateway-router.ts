import { splitAuthority } from "@trellis/config";
import type { OutboundHost, Snapshot } from "@trellis/config";
import { NoRouteError } from "../core/errors";
import type { Handler } from "../core/types";
import { CompiledRule } from "../outbound/http-route";
import type { OutboundRouter } from "../outbound/outbound-router";

type Gateway = Snapshot["gateways"][number];
type Server = Gateway["servers"][number];

/** Protocols a gateway listener serves here: plain HTTP/1.1 and h2c (gRPC too). TLS termination needs secrets, not in yet. */
const SERVED = new Set(["HTTP", "HTTP2", "GRPC"]);

/** Whether a Gateway server or Route host (`*`, `*.example.com`, `shop.example.com`) covers `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

interface PortPlan {
  /** Servers listening on this port (their hosts decide which requests they take). */
  servers: Array<{ gateway: Gateway; server: Server }>;
}

/**
 * The gateway half of one snapshot (gateway mode): which ports to listen on, and for a request
 * on one of them, the Gateway server whose hosts cover its Host, then the first rule of the
 * Routes bound to that Gateway (hosts covering the Host, in order) that matches. Rules run
 * through the same compiled chain as a sidecar's (split, retries, timeouts, faults, mirror),
 * towards the outbound hosts of the snapshot. Immutable; built with each snapshot.
 */
export class GatewayRouter {
  readonly ports: number[];
  /** Servers skipped (protocols not served), for the log. */
  readonly skipped: string[] = [];
  private readonly byPort = new Map<number, PortPlan>();
  private readonly rules = new Map<string, CompiledRule[]>();

  constructor(
    readonly snapshot: Snapshot,
    private readonly outbound: OutboundRouter,
  ) {
    for (const gateway of snapshot.gateways) {
      for (const server of gateway.servers) {
        if (!SERVED.has(server.port.protocol)) {
          this.skipped.push(`${gateway.source} port ${server.port.number} (${server.port.protocol})`);
          continue;
        }
        let plan = this.byPort.get(server.port.number);
        if (!plan) this.byPort.set(server.port.number, (plan = { servers: [] }));
        plan.servers.push({ gateway, server });
      }
    }
    this.ports = [...this.byPort.keys()].sort((a, b) => a - b);
  }

  /** The handler for requests arriving on gateway port `port`. */
  handler(port: number): Handler {
    return (req, ctx, signal) => {
      const plan = this.byPort.get(port);
      const host = splitAuthority(req.authority).name;
      const match = plan?.servers.find((s) => s.server.hosts.some((h) => hostMatches(h, host)));
      if (!match) return Promise.reject(new NoRouteError(`the gateway serves no host ${host} on port ${port}`));
      for (const rule of this.rulesFor(match.gateway, port, host)) {
        const alt = rule.match(req);
        if (alt === undefined) continue;
        ctx.route = alt?.route ?? rule.route;
        return (alt?.handler ?? rule.handler)(req, ctx, signal);
      }
      return Promise.reject(new NoRouteError(`no route bound to ${match.gateway.source} matches ${req.method} ${host}${req.path}`));
    };
  }

  /** The compiled rules of the Routes bound to `gateway` whose hosts cover `host`, in order; built on first use. */
  private rulesFor(gateway: Gateway, port: number, host: string): CompiledRule[] {
    const out: CompiledRule[] = [];
    for (const route of gateway.routes) {
      if (!route.hosts.some((h) => hostMatches(h, host))) continue;
      const key = `${gateway.source}|${route.source}|${port}`;
      let compiled = this.rules.get(key);
      if (!compiled) {
        // The rule chain wants a host for its retry-budget key; the Route on this gateway port is that scope.
        const scope = { host: `${gateway.source}:${route.source}` } as OutboundHost;
        compiled = route.http.map((rule, i) => new CompiledRule(rule, route.source, i, scope, port, this.outbound.ruleDeps));
        this.rules.set(key, compiled);
      }
      out.push(...compiled);
    }
    return out;
  }
}
