import * as grpc from "@grpc/grpc-js";
import type { Endpoint } from "@trellis/config";
import { IdentityService } from "./ca/identity-service";
import { openCa } from "./ca/open-ca";
import { AuthService } from "./auth/auth-service";
import { ServingIdentity } from "./ca/serving-identity";
import { LocalChangeBus } from "./changes/local-change-bus";
import { PgChangeBus } from "./changes/pg-change-bus";
import type { ChangeBus } from "./changes/change-bus";
import { openDatabase, type Database } from "./db/open-database";
import { ConfigDiscoveryServer } from "./distribution";
import { whatIf } from "./whatif/what-if";
import { authzImpact } from "./whatif/impact";
import type { FlowImpact, SampledOperation } from "./whatif/impact";
import { CanaryController } from "./canary/canary-controller";
import type { EndpointRegistry, ProxySyncStatus } from "./distribution/ports";
import type { Env } from "./env";
import { createApiServer, listen } from "./http-server";
import type { Logger } from "./log";
import { EndpointRepo } from "./registry/endpoint-repo";
import { Housekeeping } from "./registry/housekeeping";
import { ProxyStatusRepo } from "./registry/proxy-status-repo";
import { ResourceStore } from "./revisions/store";
import { GraphService } from "./telemetry/graph-service";
import { LiveTelemetry } from "./telemetry/live/live-telemetry";
import { PrometheusSource } from "./telemetry/prometheus/prometheus-source";
import { PgTapBus } from "./telemetry/tap/pg-tap-bus";
import { LocalTapBus } from "./telemetry/tap/tap-bus";
import { TapHub } from "./telemetry/tap/tap-hub";
import type { ControlServices } from "./services";
import { TraceService } from "./telemetry/traces/trace-service";

/** A running control-plane replica. */
export interface ControlPlane {
  apiUrl: string;
  /** The plaintext config port's `host:port`, or `off` (TRELLIS_GRPC_PLAINTEXT=false). */
  grpcAddress: string;
  /** gRPC over TLS: mTLS config streams and the Identity service. */
  grpcTlsAddress: string;
  replicaId: string;
  db: Database;
  store: ResourceStore;
  /** Set when this start created the first admin with a generated password: printed once by main.ts, never logged. */
  firstAdmin: { username: string; generatedPassword?: string } | undefined;
  distribution: ConfigDiscoveryServer;
  close(): Promise<void>;
}

/**
 * Starts one replica: database (waiting for it with backoff) and migrations, the store, the
 * change bus between replicas, the gRPC config stream and the HTTP API. Every committed
 * revision and endpoint change is published on the bus; every replica (this one included)
 * recompiles and pushes on what it hears.
 */
export async function startControlPlane(env: Env, log: Logger): Promise<ControlPlane> {
  const replicaId = env.TRELLIS_REPLICA_ID;
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.TRELLIS_DATA_DIR, log });
  const ca = await openCa(env, db, log.child({ module: "ca" }));
  const auth = new AuthService(db, { sessionTtlMs: env.TRELLIS_SESSION_TTL_HOURS * 3_600_000, log: log.child({ module: "auth" }) });
  const first = await auth.ensureFirstAdmin(env.TRELLIS_ADMIN_PASSWORD);
  if (first.created) log.info("created the first admin user", { username: first.username, password: first.generatedPassword ? "generated: printed once on stdout" : "from TRELLIS_ADMIN_PASSWORD" });
  // The TLS port proves itself with the control plane's own mesh certificate (started below, before any port opens).
  const serving = new ServingIdentity(ca.authority, log.child({ module: "ca" }));
  const bus: ChangeBus = env.DATABASE_URL ? await PgChangeBus.start(env.DATABASE_URL, replicaId, log) : new LocalChangeBus();
  const publish = (e: Parameters<ChangeBus["publish"]>[0]) => bus.publish(e).catch((err: Error) => log.warn("could not publish change", { cause: err.message }));

  const store = new ResourceStore(db, { log, onCommitted: (revision) => void publish({ type: "config", revision, origin: replicaId }) });
  const endpointRepo = new EndpointRepo(db);
  const statusRepo = new ProxyStatusRepo(db);
  const registry: EndpointRegistry = {
    register: async (ep: Endpoint, rid: string) => {
      await endpointRepo.register(ep, rid);
      void publish({ type: "endpoints", origin: replicaId });
    },
    disconnected: async (id: string, rid: string) => {
      await endpointRepo.disconnected(id, rid);
      void publish({ type: "endpoints", origin: replicaId });
    },
    list: () => endpointRepo.list(),
  };
  const live = new LiveTelemetry({ maxSeries: env.TRELLIS_TELEMETRY_MAX_SERIES, memoryBytes: env.TRELLIS_TELEMETRY_MEMORY_MB * 1024 * 1024 }, log.child({ module: "telemetry" }));
  await live.start(env.DATABASE_URL, replicaId);
  // Taps reach every replica's proxies and their events the watcher's replica (tap-bus.ts).
  const tapBus = env.DATABASE_URL ? await PgTapBus.start(env.DATABASE_URL, replicaId, log) : new LocalTapBus();
  const tap = new TapHub({ replicaId, bus: tapBus, pushTaps: (taps) => distribution.setTaps(taps), log });
  const distribution = new ConfigDiscoveryServer({
    telemetry: { delta: (sender, delta) => live.delta(sender, delta), tapEvents: (sender, events) => tap.tapEvents(sender, events) },
    source: { snapshot: () => store.snapshot() },
    trust: async () => (serving.trustBundlePem ? { trustDomain: ca.authority.trustDomain, bundlePem: serving.trustBundlePem } : undefined),
    registry,
    statusSink: statusRepo,
    replicaId,
    quietMs: env.TRELLIS_PUSH_DEBOUNCE_MS,
    maxDelayMs: env.TRELLIS_PUSH_MAX_DELAY_MS,
    disconnectGraceMs: env.TRELLIS_ENDPOINT_GRACE_MS,
    logger: log,
  });
  const housekeeping = new Housekeeping({
    replicaId,
    endpoints: endpointRepo,
    statuses: statusRepo,
    graceMs: env.TRELLIS_ENDPOINT_GRACE_MS,
    head: () => store.head(),
    endpointsRemoved: () => void publish({ type: "endpoints", origin: replicaId }),
    missedRevision: () => distribution.notifyChanged("all"),
    log,
  });
  const unsubscribe = bus.subscribe((e) => {
    if (e.type === "config") housekeeping.announced(e.revision);
    // A config event re-reads only the resources; the resync after a reconnect (revision -1) re-reads everything, endpoint events included.
    distribution.notifyChanged(e.type === "endpoints" ? "endpoints" : e.revision >= 0 ? "config" : "all");
  });

  const traces = new TraceService({ db, retentionMs: env.TRELLIS_TRACE_RETENTION_HOURS * 3_600_000, maxBodyBytes: env.TRELLIS_OTLP_MAX_BODY_BYTES, log: log.child({ module: "traces" }) });
  traces.retention.start();
  // Windows older than the live window (after a restart, a replay of yesterday) come from Prometheus when there is one.
  const history = env.PROMETHEUS_URL
    ? new PrometheusSource({ url: env.PROMETHEUS_URL, timeoutMs: env.TRELLIS_PROMETHEUS_TIMEOUT_MS, maxSeries: env.TRELLIS_TELEMETRY_MAX_SERIES, log: log.child({ module: "prometheus" }) })
    : undefined;
  const graphs = new GraphService(live, { resources: async () => (await store.snapshot()).resources, endpoints: () => endpointRepo.list() }, history);
  const canaries = new CanaryController({ db, store, signals: (ns, svc, seconds) => graphs.versionSignals(ns, svc, seconds), log: log.child({ module: "canary" }), tickMs: env.TRELLIS_CANARY_TICK_MS });
  canaries.start();
  const services: ControlServices = {
    canaries,
    store,
    replicaId,
    endpoints: { list: (f) => endpointRepo.list(f ?? {}) },
    proxies: { status: (f) => proxyStatus(statusRepo, distribution, f ?? {}), configDump: (id) => distribution.dump(id), preview: (u, d) => distribution.preview(u, d), whatIf: async (req, change) => whatIf(await distribution.compileState(), req, change), impact: (change, windowSec) => impactOf(distribution, graphs, traces, change, windowSec) },
    tap,
    telemetry: graphs,
    traces,
    ca,
    auth,
    cookies: { secure: env.TRELLIS_COOKIE_SECURE },
  };
  const api = createApiServer({ services, log, ready: async () => void (await db.sql("SELECT 1")), otlp: (req, res) => traces.receiver.handle(req, res) });
  await serving.start();
  // A new bundle (a rotation here, or seen within 30 s of one on another replica) goes to every proxy in its snapshot.
  serving.onBundleChanged = () => distribution.notifyChanged("config");
  const stopFollowingRotations = ca.authority.onRotated(() => void serving.refreshBundle());
  const identity = new IdentityService(ca.authority, ca.joinTokens, log.child({ module: "identity" }), ca.certificates);
  // Client certificates are optional on the TLS port: a joining proxy has none yet.
  const tlsCredentials = grpc.experimental.createCertificateProviderServerCredentials(serving.provider, serving.provider, false);
  const apiPort = await listen(api, env.TRELLIS_HOST, env.TRELLIS_API_PORT);
  housekeeping.announced(await store.head());
  // The config ports open last: proxies waiting to reconnect arrive the moment a port is bound,
  // and must find a replica that has finished starting.
  const grpcPort = env.TRELLIS_GRPC_PLAINTEXT ? await distribution.listen(`${env.TRELLIS_HOST}:${env.TRELLIS_GRPC_PORT}`) : undefined;
  const grpcTlsPort = await distribution.listen(`${env.TRELLIS_HOST}:${env.TRELLIS_GRPC_TLS_PORT}`, tlsCredentials, (server) => identity.addTo(server));

  const host = env.TRELLIS_HOST.includes(":") ? `[${env.TRELLIS_HOST}]` : env.TRELLIS_HOST;
  return {
    apiUrl: `http://${host}:${apiPort}`,
    grpcAddress: grpcPort === undefined ? "off" : `${host}:${grpcPort}`,
    grpcTlsAddress: `${host}:${grpcTlsPort}`,
    replicaId,
    firstAdmin: first.created ? { username: first.username, ...(first.generatedPassword ? { generatedPassword: first.generatedPassword } : {}) } : undefined,
    db,
    store,
    distribution,
    async close() {
      housekeeping.stop();
      await canaries.stop();
      unsubscribe();
      await new Promise<void>((resolve) => {
        api.close(() => resolve());
        api.closeAllConnections();
      });
      tap.close();
      await distribution.close();
      stopFollowingRotations();
      serving.stop();
      await tapBus.close();
      await live.close();
      await traces.retention.stop();
      await bus.close();
      await db.close();
    },
  };
}

/** The change's effect on the last `windowSec` of calls: flows from the live window, requests sampled from each destination's traces. */
async function impactOf(distribution: ConfigDiscoveryServer, graphs: GraphService, traces: TraceService, change: Parameters<typeof authzImpact>[1], windowSec: number): Promise<FlowImpact[]> {
  const state = await distribution.compileState();
  const flows = graphs.flows(windowSec);
  const since = new Date(Date.now() - windowSec * 1000);
  const byDestination = new Map<string, (SampledOperation & { caller: string })[]>();
  for (const f of flows) {
    const k = `${f.dstNamespace}/${f.dstService}`;
    if (!byDestination.has(k) && f.dstService) byDestination.set(k, await traces.store.operations({ namespace: f.dstNamespace, service: f.dstService, since, limit: 200 }));
  }
  return authzImpact(state, change, flows, (f) => (byDestination.get(`${f.dstNamespace}/${f.dstService}`) ?? []).filter((o) => o.caller === f.srcService).slice(0, 20));
}

/** Statuses from the shared table, with this replica's in-memory view (fresher) on top. */
async function proxyStatus(repo: ProxyStatusRepo, distribution: ConfigDiscoveryServer, filter: { namespace?: string; service?: string }): Promise<ProxySyncStatus[]> {
  const merged = new Map((await repo.list(filter)).map((s) => [s.proxyId, s]));
  for (const s of distribution.status()) {
    if (filter.namespace && s.namespace !== filter.namespace) continue;
    if (filter.service && s.service !== filter.service) continue;
    merged.set(s.proxyId, s);
  }
  return [...merged.values()].filter((s) => s.disconnectedAt === null).sort((a, b) => a.proxyId.localeCompare(b.proxyId));
}
