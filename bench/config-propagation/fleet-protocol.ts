/**
 * What the orchestrator (fleet.ts) and the fleet worker processes (fleet-worker.ts) say to
 * each other over Node's IPC channel, and who fake proxy number j is. Times are microseconds
 * of process.hrtime (CLOCK_MONOTONIC, shared by every process on the machine), so a receipt
 * time taken in a worker can be compared with a start time taken in the orchestrator.
 */

/** Fake proxy j: workload `proxy-j` of svc-(j % S); versions alternate between a service's replicas. */
export function proxySpec(j: number, services: number) {
  const replica = Math.floor(j / services);
  return {
    workload: `proxy-${j}`,
    service: `svc-${j % services}`,
    namespace: "default",
    labels: { version: (j + replica) % 2 === 0 ? "v1" : "v2" },
    // Unique loopback addresses 127.0.x.y; nothing connects to them (there is no data plane here).
    address: `127.0.${Math.floor(j / 250) % 256}.${(j % 250) + 1}`,
    ports: [{ name: "http", port: 8080, protocol: "http" }],
  };
}

/** Now, in microseconds of the monotonic clock shared by all processes. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export type ToWorker =
  | { t: "connect"; seq: number; target: string; from: number; to: number; services: number }
  | { t: "sync"; seq: number }
  /** Remember every proxy's current version; watch `expect` ("all" or global proxy indices) for a different one. */
  | { t: "arm"; seq: number; expect: "all" | number[] }
  /** Progress of the armed change; `final` asks for the receipt times even if some are missing. */
  | { t: "query"; seq: number; final: boolean }
  | { t: "close"; seq: number };

export interface SyncState {
  total: number;
  /** Proxies that received at least one snapshot (and ACKed it). */
  synced: number;
  /** Streams that ended (error or status); a healthy run has none. */
  ended: number;
  endReasons: string[];
  snapshots: number;
  /** When the last proxy to be synced received its first snapshot, µs (0 if none). */
  lastFirstAt: number;
  /** Receipt time of the newest snapshot, µs (0 if none). */
  lastSnapshotAt: number;
  /** Body sizes of the proxies' current snapshots, bytes. */
  bytesMin: number;
  bytesMax: number;
  bytesSum: number;
}

export interface ChangeState {
  expected: number;
  changed: number;
  /** Proxies not expected to change that received a new version. */
  unexpected: number;
  /** Receipt times (µs) of the expected proxies that changed; sent when complete or final. */
  times?: number[];
}

export type FromWorker =
  | { t: "ok"; seq: number }
  | { t: "sync"; seq: number; state: SyncState }
  | { t: "change"; seq: number; state: ChangeState };
