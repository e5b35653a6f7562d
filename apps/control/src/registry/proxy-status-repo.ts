import type { Database } from "../db/open-database";
import type { ProxySyncStatus, SyncState, SyncStatusSink } from "../distribution/ports";
import { batchUpsert, type Column } from "./batch-upsert";

const FIELDS = [
  ["proxy_id", "proxyId"],
  ["replica_id", "replicaId"],
  ["service", "service"],
  ["namespace", "namespace"],
  ["workload", "workload"],
  ["address", "address"],
  ["proxy_version", "proxyVersion"],
  ["state", "state"],
  ["latest_version", "latestVersion"],
  ["revision", "revision"],
  ["connected_at", "connectedAt"],
  ["last_sent_version", "lastSentVersion"],
  ["last_sent_at", "lastSentAt"],
  ["last_acked_version", "lastAckedVersion"],
  ["last_acked_at", "lastAckedAt"],
  ["last_nack_version", "lastNackVersion"],
  ["last_nack_reason", "lastNackReason"],
  ["last_nack_at", "lastNackAt"],
  ["disconnected_at", "disconnectedAt"],
] as const satisfies readonly (readonly [string, keyof ProxySyncStatus])[];

const CASTS: Record<string, string> = { revision: "integer" };
const COLUMNS: Column[] = FIELDS.map(([name]) => ({ name, cast: name.endsWith("_at") ? "timestamp(3)" : CASTS[name] }));
const SELECT = FIELDS.map(([col, field]) => (col === field ? `"${col}"` : `"${col}" AS "${field}"`)).join(", ");

/**
 * Proxy sync status (`proxy_statuses`), written by each replica's SyncTracker in batches and
 * read by proxy-status and the dashboard whichever replica holds the proxy.
 */
export class ProxyStatusRepo implements SyncStatusSink {
  constructor(private readonly db: Pick<Database, "sql">) {}

  /** Upserts the latest status of each proxy: one statement per 1000 proxies. */
  async record(changes: readonly ProxySyncStatus[]): Promise<void> {
    const latest = new Map(changes.map((s) => [s.proxyId, s])); // one row per proxy per statement
    await batchUpsert(this.db.sql, "proxy_statuses", "proxy_id", COLUMNS, [...latest.values()].map((s) => FIELDS.map(([, field]) => s[field])));
  }

  /** Statuses sorted by proxy id, optionally of one namespace, service or replica. */
  async list(filter: { namespace?: string; service?: string; replicaId?: string } = {}): Promise<ProxySyncStatus[]> {
    const rows = await this.db.sql<ProxySyncStatus & { state: SyncState }>(
      `SELECT ${SELECT} FROM proxy_statuses
       WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR service = $2) AND ($3::text IS NULL OR replica_id = $3)
       ORDER BY proxy_id`,
      [filter.namespace ?? null, filter.service ?? null, filter.replicaId ?? null],
    );
    return rows;
  }

  /** Forgets proxies disconnected before `before`. Returns how many. */
  async deleteDisconnected(before: Date): Promise<number> {
    return (await this.db.sql("DELETE FROM proxy_statuses WHERE disconnected_at < $1 RETURNING proxy_id", [before])).length;
  }
}
