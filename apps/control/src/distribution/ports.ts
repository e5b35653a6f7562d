import type { Endpoint, Resource } from "@trellis/config";
import type { TapEvents, TelemetryDelta } from "@trellis/proto";

/**
 * What the distribution service needs from the rest of the control plane, as interfaces the
 * app wires to its Postgres-backed implementations (revisions/, registry/) and tests to
 * in-memory ones.
 */

/** The current mesh configuration. */
export interface ConfigSource {
  /**
   * The head revision and every resource as of it (defaults filled in). The resources of a
   * revision never change: the compiler keeps its caches while the revision stays the same.
   */
  snapshot(): Promise<{ revision: number; resources: Resource[] }>;
}

/** Live endpoints, shared by every control-plane replica. */
export interface EndpointRegistry {
  /** Records (or replaces) the endpoint of a proxy that said Hello to replica `replicaId`. */
  register(endpoint: Endpoint, replicaId: string): Promise<void>;
  /**
   * Removes endpoint `id`, whose stream to replica `replicaId` ended a grace period ago — but
   * only if `replicaId` still holds it: the proxy may have reconnected to another replica.
   */
  disconnected(id: string, replicaId: string): Promise<void>;
  /** Every live endpoint, whichever replica holds it. */
  list(): Promise<Endpoint[]>;
}

/**
 * SYNCED: the proxy acknowledged the latest snapshot compiled for it. STALE: the latest was
 * sent but not yet acknowledged, or the proxy runs an older one. NACKED: it refused the latest
 * (and keeps serving the one it last acknowledged).
 */
export type SyncState = "SYNCED" | "STALE" | "NACKED";

/** Config sync status of one proxy, as `istioctl proxy-status` shows it. */
export interface ProxySyncStatus {
  /** `namespace/workload`. */
  proxyId: string;
  workload: string;
  service: string;
  namespace: string;
  address: string;
  proxyVersion: string;
  /** The control-plane replica holding its stream. */
  replicaId: string;
  state: SyncState;
  /** The latest snapshot version compiled for it, and the revision it was compiled from; null before the first. */
  latestVersion: string | null;
  revision: number | null;
  lastSentVersion: string | null;
  lastSentAt: Date | null;
  lastAckedVersion: string | null;
  lastAckedAt: Date | null;
  lastNackVersion: string | null;
  lastNackReason: string | null;
  lastNackAt: Date | null;
  connectedAt: Date;
  /** Set (once) when its stream ended; such a status is reported to the sink, then forgotten. */
  disconnectedAt: Date | null;
}

/** Where sync status changes go (the proxy_statuses table, for proxy-status and the dashboard). */
export interface SyncStatusSink {
  /** The latest status of every proxy whose status changed since the last call; one call per batch. */
  record(changes: readonly ProxySyncStatus[]): Promise<void>;
}

/** Who sent a telemetry message: the identity its stream's Hello established. */
export interface TelemetrySender {
  /** `namespace/workload`. */
  proxyId: string;
  namespace: string;
  workload: string;
  service: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * Where proxies' telemetry goes (the live window, the tap hub). Each method returns undefined
 * when it took the message, or why it refused it (the proxy is told; the stream goes on).
 */
export interface TelemetrySink {
  delta(sender: TelemetrySender, delta: TelemetryDelta): string | undefined;
  tapEvents?(sender: TelemetrySender, events: TapEvents): string | undefined;
}
