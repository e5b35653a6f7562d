import { existsSync, readFileSync } from "node:fs";
import type { PeerInfo } from "./core/context";
import type { Logger } from "./core/log";
import type { ProxyOptions } from "./args";
import { startAdminServer } from "./admin/admin-server";
import type { AdminServer, AdminSource } from "./admin/admin-server";
import type { ClusterStatus } from "./admin/cluster-status";
import { ConfigClient } from "./control/config-client";
import { IdentityError, WorkloadIdentity } from "./identity/workload-identity";
import { DataPlane } from "./proxy";
import { createOtlpExporter } from "./tracing/otlp-exporter";
import { Tracer } from "./tracing/tracer";

/** Reported in the Hello and proxy status. */
export const PROXY_VERSION = "trellis-proxy/0.1.0";

/** A running trellis-proxy: data plane, config stream and admin server. */
export interface Sidecar {
  dataPlane: DataPlane;
  config: ConfigClient;
  admin: AdminServer;
  ports: { inbound: number; outbound: number; admin: number; tcpForward: number[] };
  /** Stops taking new connections, lets requests in flight finish (up to `drainMs`), then closes everything. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * Starts the proxy in the order that keeps every promise it makes: the workload identity
 * first, when configured (mTLS on every listener and stream from the start), then the
 * listeners (so the Hello can name the bound inbound port), then the config stream (the disk copy, if any, is
 * serving before the control plane answers), then the admin server whose /ready turns 200
 * once a snapshot is served.
 */
export async function startSidecar(opts: ProxyOptions, log: Logger): Promise<Sidecar> {
  // With --ca-bundle the proxy has a mesh identity: a certificate before anything else talks to the control plane.
  const identity = opts.caBundle ? await startIdentity(opts, log) : undefined;
  const self: PeerInfo = { workload: opts.workload, app: opts.service, version: opts.labels["version"] ?? "unknown", namespace: opts.namespace, ...(identity ? { principal: identity.spiffeId } : {}) };
  const tracer = opts.otlpEndpoint === "off" ? undefined : new Tracer({ self, exporter: createOtlpExporter(opts.otlpEndpoint), proxyVersion: PROXY_VERSION, log });
  const dataPlane = new DataPlane({
    self,
    tracer,
    bind: opts.bind,
    outboundBind: opts.outboundBind,
    appHost: "127.0.0.1",
    appPort: opts.appPort,
    inboundPort: opts.inboundPort,
    outboundPort: opts.outboundPort,
    tcpForward: opts.tcpForward.map((f) => ({ port: f.localPort, authority: `${f.host}:${f.port}` })),
    mode: opts.mode,
    log,
  });
  if (identity) {
    // Sidecar-to-sidecar mTLS with the same identity; renewals reach new handshakes, open connections go on.
    dataPlane.setIdentity(identity.material());
    identity.onChange((m) => dataPlane.setIdentity(m));
  }
  await dataPlane.start();

  const config = new ConfigClient({
    target: opts.controlPlane,
    credentials: identity ? () => identity.channelCredentials() : undefined,
    hello: {
      workload: opts.workload,
      service: opts.service,
      namespace: opts.namespace,
      labels: opts.labels,
      address: opts.address,
      ports: opts.appPort ? [{ name: opts.appProtocol, port: opts.appPort, protocol: opts.appProtocol }] : [],
      inboundPort: dataPlane.ports.inbound,
      proxyVersion: PROXY_VERSION,
    },
    dataDir: opts.dataDir,
    apply: (snapshot) => dataPlane.apply(snapshot),
    telemetry: { takeDelta: () => dataPlane.live.take(), takeTapEvents: () => dataPlane.tap.take(), setTaps: (taps) => dataPlane.tap.setTaps(taps) },
    log,
  });
  config.on("applied", (s, source) => {
    dataPlane.metrics.configApplied("ack", s.version);
    if (identity && s.trust) identity.setTrustBundle(s.trust.bundlePem);
    log.info("configuration applied", { version: s.version, revision: s.revision, source, hosts: s.outbound.hosts.length });
  });
  config.on("nacked", (n) => {
    dataPlane.metrics.configApplied("nack", n.version);
    log.warn("configuration refused; still serving the previous one", { version: n.version, reason: n.reason });
  });
  await config.start();

  const source: AdminSource = {
    ready: () => {
      if (!dataPlane.current) return { ready: false, reason: "no configuration yet: waiting for the control plane at " + opts.controlPlane };
      const failed = dataPlane.gatewayListeners?.failed;
      if (failed && failed.size > 0) return { ready: false, reason: `gateway ports not bound: ${[...failed].map(([p, why]) => `${p} (${why})`).join(", ")}` };
      return { ready: true };
    },
    metrics: dataPlane.metrics,
    configDump: () => {
      const s = config.status();
      return {
        snapshot: dataPlane.current?.snapshot ?? null,
        version: s.version ?? null,
        revision: s.revision ?? null,
        appliedAt: dataPlane.current?.appliedAt.toISOString() ?? null,
        source: s.source ?? null,
        connected: s.connected,
        lastAckAt: s.lastAckAt?.toISOString() ?? null,
        lastNack: s.lastNack ? { version: s.lastNack.version, reason: s.lastNack.reason, at: s.lastNack.at.toISOString() } : null,
        identity: identity?.status() ?? null,
        ...(dataPlane.gatewayListeners ? { gatewayPorts: dataPlane.gatewayListeners.ports } : {}),
      };
    },
    clusters: () => clusterStatus(dataPlane),
    stats: () => {
      const s = config.status();
      const t = tracer?.stats;
      const tracing: Record<string, number> = t ? { "tracing.spans_exported": t.exported, "tracing.spans_dropped": t.dropped, "tracing.spans_failed": t.failed, "tracing.spans_queued": t.queued } : {};
      return { "control_plane.connected": s.connected ? 1 : 0, "control_plane.reconnects": s.reconnects, "access_log.dropped": dataPlane.accessLog.dropped, "tap.running": dataPlane.tap.running.length, "tap.dropped": dataPlane.tap.dropped, ...tracing, clusters: [...dataPlane.states.all()].length };
    },
  };
  const admin = await startAdminServer({ host: opts.bind, port: opts.adminPort, source, log });

  return {
    dataPlane,
    config,
    admin,
    ports: { inbound: dataPlane.ports.inbound, outbound: dataPlane.ports.outbound, admin: admin.port, tcpForward: dataPlane.ports.tcpForward },
    async stop(drainMs = 5_000) {
      try {
        identity?.stop();
        await config.stop();
        await dataPlane.stop(drainMs);
        await admin.close();
        await tracer?.shutdown();
      } finally {
        // Lines wait up to 100 ms in the access log's buffer: out they go however the rest stopped.
        dataPlane.accessLog.flush();
      }
    },
  };
}

async function startIdentity(opts: ProxyOptions, log: Logger): Promise<WorkloadIdentity> {
  let trustAnchorsPem: string;
  try {
    trustAnchorsPem = readFileSync(opts.caBundle!, "utf8");
  } catch (err) {
    throw new IdentityError(`--ca-bundle: cannot read ${opts.caBundle}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!trustAnchorsPem.includes("BEGIN CERTIFICATE")) throw new IdentityError(`--ca-bundle: ${opts.caBundle} holds no PEM certificate`);
  let joinToken = opts.joinToken;
  if (!joinToken && opts.joinTokenFile && existsSync(opts.joinTokenFile)) {
    try {
      joinToken = readFileSync(opts.joinTokenFile, "utf8").trim();
    } catch (err) {
      throw new IdentityError(`--join-token-file: cannot read ${opts.joinTokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!/^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/.test(joinToken)) throw new IdentityError(`--join-token-file: ${opts.joinTokenFile} does not hold a join token (<id>.<secret>)`);
  }
  return WorkloadIdentity.start({ target: opts.controlPlane, trustAnchorsPem, namespace: opts.namespace, service: opts.service, workload: opts.workload, joinToken, dataDir: opts.dataDir, log: log.child({ module: "identity" }) });
}

function clusterStatus(dp: DataPlane): ClusterStatus[] {
  const out: ClusterStatus[] = [];
  for (const c of dp.states.all()) {
    out.push({
      name: c.name,
      endpoints: [...c.endpoints.values()].map((e) => {
        const o = c.outlier.status(e);
        return { address: e.address, port: e.port, weight: e.weight, labels: { ...e.labels }, health: o.ejected ? "ejected" : "healthy", ejectedUntil: o.ejected ? o.ejectedUntil : undefined, activeRequests: e.active, totalRequests: e.requests, failures: e.failures };
      }),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
