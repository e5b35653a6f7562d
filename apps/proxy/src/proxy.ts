import net from "node:net";
import { normalizePath } from "@trellis/config";
import type { Snapshot } from "@trellis/config";
import type { PeerInfo, RouteTarget } from "./core/context";
import { RequestContext, UNKNOWN_PEER } from "./core/context";
import { BadRequestError, NoRouteError, NotReadyError } from "./core/errors";
import type { Logger } from "./core/log";
import { compose } from "./core/types";
import type { Handler, Layer, ProxyRequest } from "./core/types";
import { GatewayListeners } from "./gateway/gateway-listeners";
import { GatewayRouter } from "./gateway/gateway-router";
import { RetryBudget } from "./filters/retry-budget";
import { authorizationLayer } from "./filters/authorization";
import { JwksCache, jwtAuthnLayer } from "./filters/jwt-authn";
import { rateLimitLayer, RateLimitStore } from "./filters/rate-limit";
import { InboundRouter } from "./inbound/inbound-router";
import { ClusterStates } from "./outbound/cluster-states";
import { OutboundRouter } from "./outbound/outbound-router";
import type { EdgeOptions, RequestOutcome } from "./server/edge";
import { createHttp1Server } from "./server/http1";
import { createHttp2Server } from "./server/http2";
import { createSniffingListener, listen } from "./server/listener";
import type { ListenerTls } from "./server/listener";
import { decodePeer, encodePeer, MESH_HEADER_PREFIX, PEER_HEADER } from "./server/peer-metadata";
import { AccessLog } from "./telemetry/access-log";
import type { AccessLogSink } from "./telemetry/access-log";
import { finishRequest } from "./telemetry/finish-request";
import type { Telemetry } from "./telemetry/finish-request";
import { LiveDeltas } from "./telemetry/live-deltas";
import type { ClusterSaturation } from "./telemetry/live-deltas";
import { ProxyMetrics } from "./telemetry/metrics";
import type { ClusterSample } from "./telemetry/metrics";
import { TapRecorder } from "./telemetry/tap-recorder";
import { TcpTunnels } from "./tcp-tunnels";
import type { Tracer } from "./tracing/tracer";
import { Upstreams } from "./transport/upstreams";
import { MeshTls } from "./identity/mesh-tls";
import type { MeshTlsMaterial } from "./identity/mesh-tls";

/** Everything the proxy's data plane needs to start (the process flags, minus the control plane). */
export interface DataPlaneOptions {
  self: PeerInfo;
  /** Host the inbound and gateway listeners bind to. */
  bind: string;
  /** Host the outbound listener and TCP forwards bind to (default: `bind`). */
  outboundBind?: string | undefined;
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
  /** Longest an access-log line waits to be written, ms (default 100; 0: at the end of its event-loop turn, as tests read lines right after a response). */
  accessLogFlushMs?: number | undefined;
  random?: () => number;
  /** How often open TCP connections report their bytes (default 5 s). */
  tcpBytesEveryMs?: number | undefined;
  /** Distributed tracing; absent, no spans are recorded and trace headers pass through untouched. */
  tracer?: Tracer | undefined;
  /** `gateway`: no local app; listens on the ports of the Gateways selecting its Service and routes by their bound Routes. */
  mode?: "sidecar" | "gateway";
}

/** The two routers of one snapshot, swapped in together. */
interface Routers {
  snapshot: Snapshot;
  outbound: OutboundRouter;
  inbound: InboundRouter;
  /** The routers' handlers behind the tracing layer (built with this snapshot's sampling rate). */
  handlers: { outbound: Handler; inbound: Handler };
  /** Gateway mode: the gateway's routes, and its handler per port (policy layers and tracing in front). */
  gateway: { router: GatewayRouter; handler(port: number): Handler } | undefined;
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
  /** Per-second deltas for the control plane's live graph, taken by the config client. */
  readonly live = new LiveDeltas(() => this.clusterSaturation());
  /** Live taps: summaries of the requests the control plane's taps match, taken by the config client. */
  readonly tap: TapRecorder;
  readonly accessLog: AccessLog;
  readonly states = new ClusterStates();
  /** Mesh mTLS: the workload identity (setIdentity), used by the inbound listener and for dialling peers. */
  readonly meshTls = new MeshTls();
  readonly upstreams = new Upstreams(this.meshTls);
  private readonly telemetry: Telemetry;
  private readonly tunnels: TcpTunnels;
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly rateLimits = new RateLimitStore();
  /** Remote JWKS of the RequestAuthentication rules, kept across snapshots. */
  private readonly jwks = new JwksCache();
  private routers: Routers | undefined;
  /** Gateway mode: the listeners on the Gateway server ports (opened by start). */
  gatewayListeners: GatewayListeners | undefined;
  private readonly servers: Array<net.Server & { closeAll?: (graceMs?: number) => Promise<void> }> = [];
  readonly ports = { inbound: 0, outbound: 0, tcpForward: [] as number[] };

  constructor(private readonly opts: DataPlaneOptions) {
    this.accessLog = new AccessLog({ ...(opts.accessLogSink ? { sink: opts.accessLogSink } : {}), ...(opts.accessLogFlushMs !== undefined ? { flushEveryMs: opts.accessLogFlushMs } : {}) });
    this.tap = new TapRecorder({ log: opts.log, ...(opts.random ? { random: opts.random } : {}) });
    this.telemetry = { metrics: this.metrics, accessLog: this.accessLog, live: this.live, tap: this.tap, log: opts.log };
    this.metrics.collectClusters(() => this.clusterGauges());
    this.tunnels = new TcpTunnels({ routers: () => this.routers, upstreams: this.upstreams, telemetry: this.telemetry, self: opts.self, appHost: opts.appHost, log: opts.log, random: opts.random, bytesEveryMs: opts.tcpBytesEveryMs });
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

  /** Per cluster: requests in flight, the pool's request limit and its refusals so far (live deltas). */
  private *clusterSaturation(): Iterable<ClusterSaturation> {
    for (const c of this.states.all()) {
      let active = 0;
      for (const e of c.endpoints.values()) active += e.active;
      const limit = c.breaker.requestLimit;
      yield { cluster: c.name, host: clusterHost(c.name), active, limit: Number.isFinite(limit) ? limit : 0, overflowsTotal: c.overflows() };
    }
  }

  /**
   * The workload's certificate, key and trust bundle (from WorkloadIdentity, again on every
   * renewal or bundle change): from then on peers are dialled over mTLS and the inbound
   * listener accepts mTLS. Throws on unusable material, keeping the previous one.
   */
  setIdentity(material: MeshTlsMaterial): void {
    this.meshTls.update(material);
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
    // Inbound policy, in Istio's order: authentication (JWT), authorization, then rate limits (a refused request spends no tokens).
    const policy = [
      ...(snapshot.inbound.jwtRules.length ? [jwtAuthnLayer(snapshot.inbound.jwtRules, this.jwks)] : []),
      ...(snapshot.inbound.authorizationPolicies.length ? [authorizationLayer(snapshot.inbound.authorizationPolicies)] : []),
      ...(snapshot.inbound.rateLimits.length ? [rateLimitLayer(snapshot.inbound.rateLimits, this.rateLimits)] : []),
    ];
    const inbound = new InboundRouter(snapshot, { host: this.opts.appHost, port: this.opts.appPort }, this.upstreams, this.opts.self, policy);
    if (inbound.connectionMode === "STRICT" && !this.meshTls.ready) this.opts.log.warn("PeerAuthentication is STRICT but this proxy has no workload identity (start it with --ca-bundle and --join-token): every inbound connection is refused");
    const live = outbound.liveEndpoints();
    const trace = this.opts.tracer?.layer(snapshot.tracing?.samplingPercent ?? 0);
    const handlers = trace ? { outbound: trace(outbound.handler), inbound: trace(inbound.handler) } : { outbound: outbound.handler, inbound: inbound.handler };
    let gateway: Routers["gateway"];
    if (this.opts.mode === "gateway") {
      const router = new GatewayRouter(snapshot, outbound);
      if (router.skipped.length) this.opts.log.warn("gateway servers not served: only HTTP, HTTP2 and GRPC listeners are (TLS termination is not in yet)", { skipped: router.skipped });
      // The gateway's own policies (RequestAuthentication, AuthorizationPolicy, rate limits selecting it) guard what enters the mesh.
      const perPort = new Map<number, Handler>();
      for (const port of router.ports) {
        const h = compose([gatewayEntry(port), ...policy], router.handler(port));
        perPort.set(port, trace ? trace(h) : h);
      }
      gateway = { router, handler: (port) => perPort.get(port) ?? gatewayClosed };
      this.gatewayListeners?.sync(router.ports);
    }
    this.routers = { snapshot, outbound, inbound, handlers, gateway, appliedAt: new Date() };
    this.states.retain(live);
    const addresses = new Set<string>();
    for (const keys of live.values()) for (const k of keys) addresses.add(k);
    for (const l of snapshot.inbound.listeners) addresses.add(`${this.opts.appHost}:${inbound.targetPort(l)}`);
    this.upstreams.retain(addresses);
  }

  async start(): Promise<void> {
    const { opts } = this;
    if (opts.mode === "gateway") {
      this.gatewayListeners = new GatewayListeners(
        opts.bind,
        (port) => ({
          direction: "outbound",
          handler: () => this.routers?.gateway?.handler(port) ?? notReady,
          source: () => opts.self,
          // Callers outside the mesh must not pass for a mesh peer.
          dropHeaderPrefix: MESH_HEADER_PREFIX,
          started: (ctx) => this.live.started(ctx),
          finish: (ctx, req, outcome) => this.finished(ctx, req, outcome),
          log: opts.log,
        }),
        opts.log,
      );
      if (this.routers?.gateway) this.gatewayListeners.sync(this.routers.gateway.router.ports);
    }
    const outboundEdge: EdgeOptions = {
      direction: "outbound",
      handler: () => this.routers?.handlers.outbound ?? notReady,
      source: () => opts.self,
      dropHeaderPrefix: MESH_HEADER_PREFIX,
      started: (ctx) => this.live.started(ctx),
      finish: (ctx, req, outcome) => this.finished(ctx, req, outcome),
      connect: (authority, downstream, ctx, ready) => this.tunnels.outbound(authority, downstream, ctx, ready),
      log: opts.log,
    };
    const inboundEdge: EdgeOptions = {
      direction: "inbound",
      handler: () => this.routers?.handlers.inbound ?? notReady,
      source: (headers) => decodePeer(headers[PEER_HEADER]) ?? UNKNOWN_PEER,
      // The calling sidecar's mesh headers are read off the raw request (source, meshPort) and go no further.
      dropHeaderPrefix: MESH_HEADER_PREFIX,
      responseHeaders: (_ctx, headers) => {
        headers[PEER_HEADER] = encodePeer(opts.self);
        return headers;
      },
      started: (ctx) => this.live.started(ctx),
      finish: (ctx, req, outcome) => this.finished(ctx, req, outcome),
      connect: (authority, downstream, ctx, ready) => this.tunnels.inbound(authority, downstream, ctx, ready),
      log: opts.log,
    };
    const outbound = createSniffingListener(createHttp1Server(outboundEdge), createHttp2Server(outboundEdge));
    // Before the first snapshot nothing is served anyway; PERMISSIVE lets a caller get the 503 that says so.
    const inboundTls: ListenerTls = { meshTls: this.meshTls, mode: () => this.routers?.inbound.connectionMode ?? "PERMISSIVE", log: opts.log, refused: (reason) => this.metrics.mtlsRefused(reason) };
    const inbound = createSniffingListener(createHttp1Server(inboundEdge), createHttp2Server(inboundEdge), inboundTls);
    this.servers.push(outbound, inbound);
    this.ports.outbound = await listen(outbound, opts.outboundBind ?? opts.bind, opts.outboundPort);
    this.ports.inbound = await listen(inbound, opts.bind, opts.inboundPort);
    for (const f of opts.tcpForward) {
      const server = net.createServer({ noDelay: true }, (socket) => {
        socket.on("error", () => undefined);
        const ac = new AbortController();
        socket.once("close", () => ac.abort());
        const ctx = new RequestContext("outbound", "tcp", ac.signal, socket.remoteAddress ?? "unknown", opts.self);
        this.tunnels.outbound(f.authority, socket, ctx, (status) => {
          if (status !== 200) socket.destroy();
          return status === 200;
        });
      });
      this.servers.push(server);
      this.ports.tcpForward.push(await listen(server, opts.outboundBind ?? opts.bind, f.port));
    }
  }

  /** Reports a finished request: metrics, access log, live deltas, and its span when sampled. */
  private finished(ctx: RequestContext, req: ProxyRequest, outcome: RequestOutcome): void {
    finishRequest(this.telemetry, ctx, req, outcome);
    if (ctx.span !== undefined) this.opts.tracer?.end(ctx, req, outcome);
  }

  /** Closes the listeners; with `drainMs`, requests in flight get that long to finish first. */
  async stop(drainMs = 0): Promise<void> {
    await this.gatewayListeners?.close(drainMs);
    await Promise.all(this.servers.map((s) => (s.closeAll ? s.closeAll(drainMs) : new Promise<void>((resolve) => s.close(() => resolve())))));
    await this.upstreams.close();
  }
}

/** A port the current snapshot no longer serves (its listener is closing). */
const gatewayClosed: Handler = () => Promise.reject(new NoRouteError("this gateway port is no longer configured"));

/**
 * First on a gateway port: the port is what authorization's `ports` match, and the path is
 * normalised (as on a sidecar's inbound) before policies and routes see it.
 */
function gatewayEntry(port: number): Layer {
  // One object per port: requests refused before routing all report the same target (telemetry finds their series by its identity).
  const target: RouteTarget = Object.freeze({ host: "", port, cluster: "" });
  return (next) => (req, ctx, signal) => {
    ctx.target = target;
    if (req.path.startsWith("/")) {
      const normalized = normalizePath(req.path);
      if (normalized === undefined) return Promise.reject(new BadRequestError("malformed request path (a '%' not followed by two hex digits)"));
      req.path = normalized;
    }
    return next(req, ctx, signal);
  };
}

/** Before the first snapshot: nothing is routable yet. */
const notReady = () => Promise.reject(new NotReadyError("the proxy has no configuration yet"));

/** The host of a cluster name `outbound|port|subset|host`. */
function clusterHost(cluster: string): string {
  return cluster.slice(cluster.lastIndexOf("|") + 1);
}
