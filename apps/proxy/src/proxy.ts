import net from "node:net";
import type { Snapshot } from "@trellis/config";
import type { PeerInfo } from "./core/context";
import { RequestContext, UNKNOWN_PEER } from "./core/context";
import type { Logger } from "./core/log";
import { RetryBudget } from "./filters/retry-budget";
import { rateLimitLayer, RateLimitStore } from "./filters/rate-limit";
import { InboundRouter } from "./inbound/inbound-router";
import { ClusterStates } from "./outbound/cluster-states";
import { OutboundRouter } from "./outbound/outbound-router";
import { connectTcp, splice, tunnelTcp } from "./outbound/tcp-proxy";
import type { TcpReporter } from "./outbound/tcp-proxy";
import { splitAuthority } from "./outbound/host-table";
import type { EdgeOptions } from "./server/edge";
import { createHttp1Server } from "./server/http1";
import { createHttp2Server } from "./server/http2";
import { createSniffingListener, listen } from "./server/listener";
import { decodePeer, encodePeer, MESH_HEADER_PREFIX, PEER_HEADER } from "./server/peer-metadata";
import { AccessLog } from "./telemetry/access-log";
import type { AccessLogSink } from "./telemetry/access-log";
import { finishRequest, finishTcp } from "./telemetry/finish-request";
import type { Telemetry } from "./telemetry/finish-request";
import { ProxyMetrics } from "./telemetry/metrics";
import type { ClusterSample } from "./telemetry/metrics";
import { recordTcpOpen } from "./telemetry/request-record";
import { Upstreams } from "./transport/upstreams";

/** Everything the proxy's data plane needs to start (the process flags, minus the control plane). */
export interface DataPlaneOptions {
  self: PeerInfo;
  /** Host the listeners bind to. */
  bind: string;
  /** Where the local application listens. */
  appHost: string;
  /** The local app's port (`--app-port`); see LocalApp.port. */
  appPort?: number | undefined;
  inboundPort: number;
  outboundPort: number;
  /** `localPort=host:port` TCP forwards on the outbound side. */
  tcpForward: Array<{ port: number; authority: string }>;
  log: Logger;
  accessLogSink?: AccessLogSink | undefined;
  random?: () => number;
}

/** The two routers of one snapshot, swapped in together. */
interface Routers {
  snapshot: Snapshot;
  outbound: OutboundRouter;
  inbound: InboundRouter;
  appliedAt: Date;
}

/**
 * The data plane of one sidecar: the outbound listener (the app's HTTP proxy, HTTP/1.1 and
 * h2c, CONNECT for TCP), the inbound listener (peer proxies' HTTP/2 sessions and plain
 * callers), optional TCP forwards, and the routers built from the current snapshot.
 *
 * `apply(snapshot)` builds both routers first and throws if anything is wrong (the config
 * client then NACKs and the old routers stay); only a fully built pair is swapped in, by one
 * assignment, so a request sees either the old config or the new one, never a mix. Requests
 * already running finish on the router they started with.
 */
export class DataPlane {
  readonly metrics = new ProxyMetrics();
  readonly accessLog: AccessLog;
  readonly states = new ClusterStates();
  readonly upstreams = new Upstreams();
  private readonly telemetry: Telemetry;
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly rateLimits = new RateLimitStore();
  private routers: Routers | undefined;
  private readonly servers: Array<net.Server & { closeAll?: (graceMs?: number) => Promise<void> }> = [];
  readonly ports = { inbound: 0, outbound: 0, tcpForward: [] as number[] };

  constructor(private readonly opts: DataPlaneOptions) {
    this.accessLog = new AccessLog(opts.accessLogSink ? { sink: opts.accessLogSink } : {});
    this.telemetry = { metrics: this.metrics, accessLog: this.accessLog, log: opts.log };
    this.metrics.collectClusters(() => this.clusterGauges());
  }

  /** Per cluster: requests in flight and endpoints ejected now, overflows so far (scrape-time series). */
  private *clusterGauges(): Iterable<ClusterSample> {
    for (const c of this.states.all()) {
      let active = 0;
      let ejected = 0;
      for (const e of c.endpoints.values()) {
        active += e.active;
        if (c.outlier.status(e).ejected) ejected++;
      }
      yield { cluster: c.name, active, ejected, overflows: c.overflows() };
    }
  }

  /** The snapshot being served, if any. */
  get current(): Routers | undefined {
    return this.routers;
  }

  apply(snapshot: Snapshot): void {
    const deps = {
      states: this.states,
      upstreams: this.upstreams,
      self: this.opts.self,
      random: this.opts.random,
      budget: (key: string) => {
        let b = this.budgets.get(key);
        if (!b) this.budgets.set(key, (b = new RetryBudget()));
        return b;
      },
      onMirrorError: (err: unknown) => this.opts.log.debug("mirrored request failed", { error: String(err) }),
    };
    const outbound = new OutboundRouter(snapshot, deps);
    const rl = snapshot.inbound.rateLimits.length ? [rateLimitLayer(snapshot.inbound.rateLimits, this.rateLimits)] : [];
    const inbound = new InboundRouter(snapshot, { host: this.opts.appHost, port: this.opts.appPort }, this.upstreams, this.opts.self, rl);
    const live = outbound.liveEndpoints();
    this.routers = { snapshot, outbound, inbound, appliedAt: new Date() };
    this.states.retain(live);
    const addresses = new Set<string>();
    for (const keys of live.values()) for (const k of keys) addresses.add(k);
    for (const l of snapshot.inbound.listeners) addresses.add(`${this.opts.appHost}:${inbound.targetPort(l)}`);
    this.upstreams.retain(addresses);
  }

  async start(): Promise<void> {
    const { opts } = this;
    const outboundEdge: EdgeOptions = {
      direction: "outbound",
      handler: () => this.routers?.outbound.handler ?? notReady,
      source: () => opts.self,
      dropHeaderPrefix: MESH_HEADER_PREFIX,
      finish: (ctx, req, outcome) => finishRequest(this.telemetry, ctx, req, outcome),
      connect: (authority, downstream, ctx, ready) => this.tunnelOutbound(authority, downstream, ctx, ready),
      log: opts.log,
    };
    const inboundEdge: EdgeOptions = {
      direction: "inbound",
      handler: () => this.routers?.inbound.handler ?? notReady,
      source: (headers) => decodePeer(headers[PEER_HEADER]) ?? UNKNOWN_PEER,
      responseHeaders: (_ctx, headers) => {
        headers[PEER_HEADER] = encodePeer(opts.self);
        return headers;
      },
      finish: (ctx, req, outcome) => finishRequest(this.telemetry, ctx, req, outcome),
      connect: (authority, downstream, ctx, ready) => this.tunnelInbound(authority, downstream, ctx, ready),
      log: opts.log,
    };
    const outbound = createSniffingListener(createHttp1Server(outboundEdge), createHttp2Server(outboundEdge));
    const inbound = createSniffingListener(createHttp1Server(inboundEdge), createHttp2Server(inboundEdge));
    this.servers.push(outbound, inbound);
    this.ports.outbound = await listen(outbound, opts.bind, opts.outboundPort);
    this.ports.inbound = await listen(inbound, opts.bind, opts.inboundPort);
    for (const f of opts.tcpForward) {
      const server = net.createServer({ noDelay: true }, (socket) => {
        socket.on("error", () => undefined);
        const ac = new AbortController();
        socket.once("close", () => ac.abort());
        const ctx = new RequestContext("outbound", "tcp", ac.signal, socket.remoteAddress ?? "unknown", opts.self);
        this.tunnelOutbound(f.authority, socket, ctx, (status) => {
          if (status !== 200) socket.destroy();
          return status === 200;
        });
      });
      this.servers.push(server);
      this.ports.tcpForward.push(await listen(server, opts.bind, f.port));
    }
  }

  private tcpReporter(): TcpReporter {
    return {
      opened: (ctx) => recordTcpOpen(this.metrics, ctx),
      closed: (ctx, bytes) => finishTcp(this.telemetry, ctx, { ...bytes, durationMs: performance.now() - ctx.start }),
    };
  }

  private tunnelOutbound(authority: string, downstream: import("node:stream").Duplex, ctx: RequestContext, ready: (status: number) => boolean): void {
    const tcpCtx = ctx.protocol === "tcp" ? ctx : new RequestContext("outbound", "tcp", ctx.signal, ctx.downstreamAddress, ctx.source);
    const cluster = this.routers?.outbound.tcpCluster(authority, this.opts.random);
    if (!cluster) {
      tcpCtx.flags.add("NR");
      ready(404);
      finishTcp(this.telemetry, tcpCtx, { sent: 0, received: 0, durationMs: 0 });
      return;
    }
    void tunnelTcp(downstream, tcpCtx, cluster, this.upstreams, this.tcpReporter(), this.opts.log, ready);
  }

  /** A peer's CONNECT stream to one of our TCP service ports → the local app. */
  private tunnelInbound(authority: string, downstream: import("node:stream").Duplex, ctx: RequestContext, ready: (status: number) => boolean): void {
    const tcpCtx = new RequestContext("inbound", "tcp", ctx.signal, ctx.downstreamAddress, ctx.source);
    tcpCtx.destination = this.opts.self;
    const routers = this.routers;
    const listener = routers?.inbound.tcpListener(splitAuthority(authority).port);
    if (!routers || !listener) {
      tcpCtx.flags.add("NR");
      ready(404);
      finishTcp(this.telemetry, tcpCtx, { sent: 0, received: 0, durationMs: 0 });
      return;
    }
    tcpCtx.target = { host: `${routers.snapshot.proxy.service}.${routers.snapshot.proxy.namespace}`, port: listener.port, cluster: `inbound|${listener.port}||` };
    const appPort = routers.inbound.targetPort(listener);
    tcpCtx.upstreamAddress = `${this.opts.appHost}:${appPort}`;
    const end = () => finishTcp(this.telemetry, tcpCtx, { sent: tcpCtx.responseBytes, received: tcpCtx.requestBytes, durationMs: performance.now() - tcpCtx.start });
    connectTcp(this.opts.appHost, appPort, ctx.signal).then(
      (upstream) => {
        if (ctx.signal.aborted || !ready(200)) {
          // The peer went away while we connected: its fault, not the app's.
          upstream.destroy();
          tcpCtx.flags.add("DC");
          return end();
        }
        recordTcpOpen(this.metrics, tcpCtx);
        splice(downstream, upstream, end, tcpCtx);
      },
      () => {
        tcpCtx.flags.add(ctx.signal.aborted ? "DC" : "UF");
        if (!ctx.signal.aborted) ready(503);
        end();
      },
    );
  }

  /** Closes the listeners; with `drainMs`, requests in flight get that long to finish first. */
  async stop(drainMs = 0): Promise<void> {
    await Promise.all(this.servers.map((s) => (s.closeAll ? s.closeAll(drainMs) : new Promise<void>((resolve) => s.close(() => resolve())))));
    await this.upstreams.close();
  }
}

/** Before the first snapshot: nothing is routable yet. */
const notReady = () => Promise.reject(new NotReadyError("the proxy has no configuration yet"));

import { ProxyError } from "./core/errors";
class NotReadyError extends ProxyError {
  readonly code = "TRELLIS_NOT_READY";
  readonly status = 503;
  readonly grpcStatus = 14;
  readonly flag = "NR" as const;
}
