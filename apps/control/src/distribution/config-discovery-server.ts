import * as grpc from "@grpc/grpc-js";
import type { Resource, ResourceRef, Snapshot, SnapshotTrust } from "@trellis/config";
import type { ControlMessage, TapSpec } from "@trellis/proto";
import { silentLogger } from "../log";
import type { Logger } from "../log";
import type { ValidHello } from "./parse-hello";
import type { ConfigSource, EndpointRegistry, ProxySyncStatus, SyncStatusSink, TelemetrySender, TelemetrySink } from "./ports";
import { ProxyConnection } from "./proxy-connection";
import type { ConnectionEvents, IncomingMessage, OutgoingMessage } from "./proxy-connection";
import { EndpointCache } from "./endpoint-cache";
import { GraceTimers } from "./grace-timers";
import { PushCoalescer } from "./push-coalescer";
import { previewChange } from "./preview";
import type { ChangePreview } from "./preview";
import { snapshotsOf } from "./compile-state";
import type { CompileState } from "./compile-state";
import { configDiscoveryDefinition } from "./service-definition";
import { SnapshotCompiler } from "./snapshot-compiler";
import { SyncTracker } from "./sync-tracker";

export interface ConfigDiscoveryServerOptions {
  source: ConfigSource;
  registry: EndpointRegistry;
  /** Where sync status changes are recorded in batches; optional. */
  statusSink?: SyncStatusSink;
  /** Where telemetry deltas and tap events from the proxies go; without one they are refused. */
  telemetry?: TelemetrySink;
  /** This control-plane replica's id (recorded with registrations and statuses). */
  replicaId: string;
  /** The mesh's trust bundle for every snapshot (the CA's); snapshots carry none without it. */
  trust?: () => Promise<SnapshotTrust | undefined>;
  /** Quiet window for coalescing change notifications, ms (default 50). */
  quietMs?: number;
  /** Longest a push waits while notifications keep coming, ms (default 250). */
  maxDelayMs?: number;
  /** How long a disconnected proxy's endpoint is kept in case it reconnects, ms (default 5000). */
  disconnectGraceMs?: number;
  /** How often sync status changes go to the sink, ms (default 1000). */
  statusFlushMs?: number;
  /** Delay before retrying a recompilation that failed (e.g. the database is down), ms (default 1000). */
  retryMs?: number;
  /** Longest the endpoint list is reused across config-only changes before it is re-read, ms (default 10000). */
  endpointsMaxAgeMs?: number;
  logger?: Logger;
}

/**
 * The ConfigDiscovery gRPC service: one bidirectional stream per proxy.
 *
 * Hello → validate, register the endpoint, then (coalesced with other changes) compile and
 * push the proxy's snapshot, unless it already holds that version. ACK/NACK update the sync
 * status. notifyChanged() (new revision, endpoint changes, also from other replicas) leads,
 * after the burst settles, to one recompilation and a push to each proxy whose version
 * changed. A stream's end starts a grace period after which its endpoint is removed unless
 * the proxy reconnected meanwhile.
 *
 * Usage: `const s = new ConfigDiscoveryServer(opts); const port = await s.listen("0.0.0.0:15010");`
 * (or `s.addTo(existingGrpcServer)`), call `s.notifyChanged()` on every change, `await s.close()`
 * on shutdown (proxies get a Goodbye and UNAVAILABLE, and reconnect to another replica).
 */
export class ConfigDiscoveryServer {
  private readonly compiler = new SnapshotCompiler();
  private readonly endpoints: EndpointCache;
  private readonly coalescer: PushCoalescer;
  private readonly tracker: SyncTracker;
  private readonly log: Logger;
  private readonly streams = new Set<ProxyConnection>();
  /** The current stream of each proxy that said Hello. */
  private readonly proxies = new Map<string, ProxyConnection>();
  /** Endpoint removals waiting out the grace period after a stream ended. */
  private readonly grace: GraceTimers;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly grpcServers: grpc.Server[] = [];
  private closing = false;
  /** The live taps every proxy should run (see setTaps). */
  private taps: TapSpec[] = [];

  constructor(private readonly options: ConfigDiscoveryServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ module: "distribution", replica: options.replicaId });
    this.coalescer = new PushCoalescer(() => this.recompute(), {
      quietMs: options.quietMs ?? 50,
      maxDelayMs: options.maxDelayMs ?? 250,
      onError: (err) => this.recomputeFailed(err),
    });
    this.endpoints = new EndpointCache(options.registry, options.endpointsMaxAgeMs ?? 10_000);
    this.grace = new GraceTimers(options.disconnectGraceMs ?? 5000);
    this.tracker = new SyncTracker({ replicaId: options.replicaId, sink: options.statusSink, flushMs: options.statusFlushMs ?? 1000, logger: this.log });
  }

  /** The handlers, for an app that registers the service on its own grpc.Server (see addTo). */
  readonly implementation = {
    streamConfig: (call: grpc.ServerDuplexStream<IncomingMessage, OutgoingMessage>): void => {
      if (this.closing) {
        call.emit("error", { code: grpc.status.UNAVAILABLE, details: "control plane replica is shutting down" });
        return;
      }
      this.streams.add(new ProxyConnection(call, this.events));
    },
  };

  /** Registers the service on an existing server. */
  addTo(server: grpc.Server): void {
    server.addService(configDiscoveryDefinition, this.implementation);
  }

  /**
   * Starts a gRPC server of its own on `address` (`host:port`, port 0 = any); resolves to the
   * bound port. Called once per port (plaintext, TLS); `alsoServe` registers more services on
   * that server (the Identity service, TLS only). close() shuts them all down.
   */
  async listen(address: string, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(), alsoServe?: (server: grpc.Server) => void): Promise<number> {
    // Channelz off: grpc-js tracks every session and call for it by default (per-connection
    // trees, timestamps and counters), and nothing here serves the channelz service to read them.
    const server = new grpc.Server({ "grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 10_000, "grpc.enable_channelz": 0 });
    this.addTo(server);
    alsoServe?.(server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))));
    this.grpcServers.push(server);
    this.log.info("config discovery listening", { address, port, tls: credentials._isSecure() });
    return port;
  }

  /**
   * Something the snapshots depend on changed; coalesced into one recompilation. "config": only
   * the revision moved, so the endpoint list read last is still current; anything else (the
   * default) re-reads the endpoints too.
   */
  notifyChanged(what: "config" | "endpoints" | "all" = "all"): void {
    if (what !== "config") this.endpoints.markStale();
    this.coalescer.trigger();
  }

  /**
   * The live taps every proxy of this replica should run now, replacing the previous list:
   * sent at once to each connected proxy, and to each that connects later while it is not
   * empty. Proxies stop a tap that a later list leaves out, or whose ttl passes.
   */
  setTaps(taps: TapSpec[]): void {
    this.taps = taps;
    for (const conn of this.proxies.values()) if (conn.ready) conn.sendTaps(taps);
  }

  /** Sync status of every proxy connected to this replica, ordered by id. */
  status(): ProxySyncStatus[] {
    return this.tracker.status();
  }

  /** What snapshots are compiled from now: the config, the live endpoints of every replica (read afresh), the trust bundle. */
  async compileState(): Promise<CompileState> {
    const [config, endpoints, trust] = await Promise.all([this.options.source.snapshot(), this.options.registry.list(), this.options.trust?.()]);
    return { revision: config.revision, resources: config.resources, endpoints, trust };
  }

  /**
   * The snapshot this control plane would send the proxy `proxyId` now: compiled afresh
   * (snapshotsOf) from compileState(), like istiod's
   * /debug/config_dump. Any replica can answer for any proxy. Undefined when no live sidecar
   * endpoint has that id.
   */
  async dump(proxyId: string): Promise<Snapshot | undefined> {
    const state = await this.compileState();
    const e = state.endpoints.find((x) => x.id === proxyId && x.sidecar);
    if (!e) return undefined;
    return snapshotsOf(state)(e).snapshot();
  }

  /** The change's findings and, per live proxy, how its snapshot would change (see previewChange). */
  async preview(upserts: readonly Resource[], deletes: readonly ResourceRef[]): Promise<ChangePreview> {
    return previewChange(await this.compileState(), upserts, deletes);
  }

  /** Runs a pending recompilation now and waits for it; tests and shutdown use it. */
  async flush(): Promise<void> {
    await this.coalescer.flush();
  }

  /** Ends every stream with Goodbye + UNAVAILABLE, flushes statuses and stops the server. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.coalescer.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.grace.clear();
    for (const s of [...this.streams]) s.goodbye("TRELLIS_SHUTTING_DOWN", "control plane replica is shutting down; reconnect to another one", grpc.status.UNAVAILABLE);
    await this.tracker.close();
    await Promise.all(
      this.grpcServers.map(
        (server) =>
          new Promise<void>((resolve) => {
            const force = setTimeout(() => {
              server.forceShutdown();
              resolve();
            }, 2000);
            server.tryShutdown(() => {
              clearTimeout(force);
              resolve();
            });
          }),
      ),
    );
  }

  private readonly events: ConnectionEvents = {
    hello: (conn, hello) => this.onHello(conn, hello),
    sent: (conn, version) => this.tracker.sent(conn.id, version),
    ack: (conn, version) => this.tracker.acked(conn.id, version),
    nack: (conn, version, reason) => {
      this.log.warn("proxy refused a snapshot", { proxy: conn.id, version, reason });
      this.tracker.nacked(conn.id, version, reason);
    },
    closed: (conn) => this.onClosed(conn),
    telemetry: (conn, m) => {
      const sink = this.options.telemetry;
      const sender = conn.sender;
      if (!sender) return "no Hello yet";
      if (m.$case === "telemetry") return sink ? sink.delta(sender, m.value) : "this control plane does not collect telemetry";
      return sink?.tapEvents ? sink.tapEvents(sender, m.value) : "no live tap is running";
    },
  };

  private async onHello(conn: ProxyConnection, hello: ValidHello): Promise<void> {
    const id = hello.proxy.id;
    this.grace.cancel(id);
    const previous = this.proxies.get(id);
    this.proxies.set(id, conn);
    previous?.goodbye("TRELLIS_SUPERSEDED", `a newer stream of proxy '${id}' replaced this one`, grpc.status.ABORTED);
    const e = hello.endpoint;
    this.tracker.connected({ proxyId: id, workload: e.workload, service: e.service, namespace: e.namespace, address: e.address, proxyVersion: e.proxyVersion });
    await this.options.registry.register(e, this.options.replicaId);
    this.log.info("proxy connected", { proxy: id, peer: conn.peer, lastVersion: hello.lastVersion || undefined });
    if (conn.closed) return;
    conn.ready = true;
    if (this.taps.length > 0) conn.sendTaps(this.taps);
    // The first snapshot goes out with the coalesced recompilation, which also carries the
    // new endpoint to every other proxy: a reconnect storm compiles once, not once per proxy.
    this.notifyChanged();
  }

  private onClosed(conn: ProxyConnection): void {
    this.streams.delete(conn);
    const id = conn.hello?.proxy.id;
    if (id === undefined || this.proxies.get(id) !== conn) return; // no Hello, or superseded by a newer stream
    this.proxies.delete(id);
    this.tracker.disconnected(id);
    this.log.info("proxy disconnected", { proxy: id });
    if (this.closing) return;
    this.grace.schedule(id, () => void this.removeEndpoint(id));
  }

  private async removeEndpoint(id: string): Promise<void> {
    if (this.proxies.has(id) || this.closing) return;
    try {
      await this.options.registry.disconnected(id, this.options.replicaId);
      const back = this.proxies.get(id)?.hello; // reconnected while the removal was in flight
      if (back) await this.options.registry.register(back.endpoint, this.options.replicaId);
      this.notifyChanged();
    } catch (err) {
      this.log.error("could not remove a disconnected endpoint", { proxy: id, error: String(err) });
    }
  }

  private async recompute(): Promise<void> {
    if (this.proxies.size === 0) return; // nobody to push to; the next recompilation loads fresh inputs
    const [config, endpoints, trust] = await Promise.all([this.options.source.snapshot(), this.endpoints.get(), this.options.trust?.()]);
    this.compiler.update({ revision: config.revision, resources: config.resources, endpoints, trust });
    let n = 0;
    for (const conn of [...this.proxies.values()]) {
      if (++n % 100 === 0) await new Promise((r) => setImmediate(r)); // let ACKs and hellos in during a large push
      if (conn.ready && !conn.closed) this.pushTo(conn);
    }
  }

  private pushTo(conn: ProxyConnection): void {
    const hello = conn.hello;
    if (!hello) return;
    const id = hello.proxy.id;
    let compiled;
    try {
      compiled = this.compiler.compile(hello.proxy);
    } catch (err) {
      this.log.error("snapshot compilation failed", { proxy: id, error: String(err) });
      return;
    }
    this.tracker.compiled(id, compiled.version, compiled.revision);
    if (compiled.version === conn.targetVersion) return;
    if (conn.targetVersion === null && compiled.version === hello.lastVersion) {
      conn.targetVersion = compiled.version; // the proxy restored this very snapshot (e.g. from disk)
      this.tracker.acked(id, compiled.version);
      return;
    }
    conn.push(compiled);
  }

  private recomputeFailed(err: unknown): void {
    this.log.error("snapshot recompilation failed; proxies keep their current snapshot", { error: String(err), retryMs: this.options.retryMs ?? 1000 });
    if (this.retryTimer || this.closing) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.notifyChanged();
    }, this.options.retryMs ?? 1000);
    this.retryTimer.unref();
  }
}
