/**
 * What the orchestrator (load.ts) and the load worker processes (load-worker.ts) say to each
 * other over Node's IPC channel. Times are microseconds of process.hrtime (CLOCK_MONOTONIC,
 * shared by every process on the machine), so the orchestrator can tell all workers to start
 * sending at the same instant.
 */

/** Now, in microseconds of the monotonic clock shared by all processes. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export type ToWorker =
  | { t: "connect"; seq: number; target: string; from: number; to: number; services: number; proxies: number }
  /** Encode each proxy's deltas for `cycle` distinct seconds (they repeat after that). */
  | { t: "prepare"; seq: number; cycle: number }
  | { t: "sync"; seq: number }
  /** Every proxy sends a delta a second from `atUs` on, each at its own offset within the second. */
  | { t: "start"; seq: number; atUs: number }
  | { t: "stop"; seq: number }
  /** Send counters since the last reset (and reset them when asked). */
  | { t: "stats"; seq: number; reset: boolean }
  | { t: "close"; seq: number };

export interface SyncState {
  total: number;
  /** Proxies that received at least one snapshot (and ACKed it). */
  synced: number;
  /** Streams that ended (error or status); a healthy run has none. */
  ended: number;
  endReasons: string[];
  snapshots: number;
  /** Receipt time of the newest snapshot, µs (0 if none). */
  lastSnapshotAt: number;
}

export interface SendStats {
  /** Deltas written to their streams. */
  sent: number;
  bytes: number;
  /** How late each send was against its schedule, ms. */
  lateMs: number[];
  /** Writes for which the stream said its buffer was full (grpc-js still queues them). */
  backpressured: number;
  /** TelemetryRejected messages received, and the first reasons. */
  rejected: number;
  rejectReasons: string[];
}

export type FromWorker =
  | { t: "ok"; seq: number; ms?: number }
  | { t: "sync"; seq: number; state: SyncState }
  | { t: "stats"; seq: number; stats: SendStats };
