import type { Duplex } from "node:stream";
import { authorize, parseSpiffeId, splitAuthority } from "@trellis/config";
import { RequestContext } from "./core/context";
import { AccessDeniedError } from "./core/errors";
import { hostOf } from "./filters/authorization";
import type { PeerInfo } from "./core/context";
import type { Logger } from "./core/log";
import type { InboundRouter } from "./inbound/inbound-router";
import type { OutboundRouter } from "./outbound/outbound-router";
import { connectTcp, splice, tunnelTcp } from "./outbound/tcp-proxy";
import type { TcpReporter } from "./outbound/tcp-proxy";
import { finishTcp } from "./telemetry/finish-request";
import type { Telemetry } from "./telemetry/finish-request";
import { recordTcpBytes, recordTcpOpen } from "./telemetry/request-record";
import type { Upstreams } from "./transport/upstreams";

/** Long TCP connections report their bytes this often by default, so rates show before they close. */
export const TCP_BYTES_EVERY_MS = 5_000;

/** Answers a tunnel request: 200 opens it, anything else refuses it. Returns false if the caller is gone. */
export type TunnelReady = (status: number) => boolean;

/** What the tunnels read from the data plane on each connection. */
export interface TcpTunnelDeps {
  /** The routers of the snapshot served now (undefined before the first). */
  routers(): { outbound: OutboundRouter; inbound: InboundRouter } | undefined;
  upstreams: Upstreams;
  telemetry: Telemetry;
  self: PeerInfo;
  appHost: string;
  log: Logger;
  random?: (() => number) | undefined;
  /** Reporting interval of open connections' bytes (default TCP_BYTES_EVERY_MS). */
  bytesEveryMs?: number | undefined;
}

/**
 * The TCP entry points of a sidecar: the app's tunnels out (CONNECT on the outbound port, or a
 * tcp-forward listener) and peers' CONNECT streams in, with their telemetry. Each connection
 * is reported once opened, every `bytesEveryMs` while it lasts, and once closed.
 */
export class TcpTunnels {
  constructor(private readonly deps: TcpTunnelDeps) {}

  /** The local app's tunnel to a mesh TCP host `authority` (`host:port`). */
  outbound(authority: string, downstream: Duplex, ctx: RequestContext, ready: TunnelReady): void {
    const tcpCtx = ctx.protocol === "tcp" ? ctx : new RequestContext("outbound", "tcp", ctx.signal, ctx.downstreamAddress, ctx.source);
    const cluster = this.deps.routers()?.outbound.tcpCluster(authority, this.deps.random);
    if (!cluster) {
      tcpCtx.flags.add("NR");
      ready(404);
      this.closed(tcpCtx);
      return;
    }
    void tunnelTcp(downstream, tcpCtx, cluster, this.deps.upstreams, this.reporter(), this.deps.log, ready);
  }

  /** A peer's CONNECT stream to one of this workload's TCP service ports → the local app. */
  inbound(authority: string, downstream: Duplex, ctx: RequestContext, ready: TunnelReady): void {
    const tcpCtx = new RequestContext("inbound", "tcp", ctx.signal, ctx.downstreamAddress, ctx.source);
    tcpCtx.destination = this.deps.self;
    const inbound = this.deps.routers()?.inbound;
    const listener = inbound?.tcpListener(splitAuthority(authority).port);
    if (!inbound || !listener) {
      tcpCtx.flags.add("NR");
      ready(404);
      this.closed(tcpCtx);
      return;
    }
    tcpCtx.connectionSecurity = ctx.connectionSecurity;
    tcpCtx.peerPrincipal = ctx.peerPrincipal;
    const proxy = inbound.snapshot.proxy;
    tcpCtx.target = { host: `${proxy.service}.${proxy.namespace}`, port: listener.port, cluster: `inbound|${listener.port}||` };
    const refused = inbound.refuses(listener.port, ctx.connectionSecurity);
    if (refused) {
      tcpCtx.error = refused;
      ready(403);
      this.closed(tcpCtx);
      return;
    }
    // AuthorizationPolicies hold for TCP too, on what a connection has: the peer's identity and
    // the port (rules on HTTP attributes — methods, paths, headers — never match a TCP connection).
    const policies = inbound.snapshot.inbound.authorizationPolicies;
    if (policies.length > 0) {
      const principal = ctx.peerPrincipal;
      const decision = authorize(policies, { method: "", path: "", port: listener.port, headers: {}, sourcePrincipal: principal, sourceNamespace: principal ? parseSpiffeId(principal)?.namespace : undefined, sourceIp: hostOf(ctx.downstreamAddress) });
      if (decision.audited.length > 0) tcpCtx.audited = decision.audited;
      if (!decision.allowed) {
        tcpCtx.error = new AccessDeniedError(decision.policy);
        tcpCtx.flags.add("RBAC");
        ready(403);
        this.closed(tcpCtx);
        return;
      }
    }
    const appPort = inbound.targetPort(listener);
    tcpCtx.upstreamAddress = `${this.deps.appHost}:${appPort}`;
    const reporter = this.reporter();
    connectTcp(this.deps.appHost, appPort, ctx.signal).then(
      (upstream) => {
        if (ctx.signal.aborted || !ready(200)) {
          // The peer went away while we connected: its fault, not the app's.
          upstream.destroy();
          tcpCtx.flags.add("DC");
          return this.closed(tcpCtx);
        }
        reporter.opened(tcpCtx);
        splice(downstream, upstream, () => reporter.closed(tcpCtx, { sent: tcpCtx.responseBytes, received: tcpCtx.requestBytes }), tcpCtx);
      },
      () => {
        tcpCtx.flags.add(ctx.signal.aborted ? "DC" : "UF");
        if (!ctx.signal.aborted) ready(503);
        this.closed(tcpCtx);
      },
    );
  }

  /** Telemetry of one connection's life: opened, bytes every `bytesEveryMs`, closed. */
  private reporter(): TcpReporter {
    const sinks = this.deps.telemetry;
    let timer: NodeJS.Timeout | undefined;
    return {
      opened: (ctx) => {
        recordTcpOpen(sinks, ctx);
        timer = setInterval(() => recordTcpBytes(sinks, ctx, { sent: ctx.responseBytes, received: ctx.requestBytes }), this.deps.bytesEveryMs ?? TCP_BYTES_EVERY_MS);
        timer.unref();
      },
      closed: (ctx, bytes) => {
        clearInterval(timer);
        this.closed(ctx, bytes);
      },
    };
  }

  private closed(ctx: RequestContext, bytes = { sent: 0, received: 0 }): void {
    finishTcp(this.deps.telemetry, ctx, { ...bytes, durationMs: performance.now() - ctx.start });
  }
}
