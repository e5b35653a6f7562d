import type { Endpoint } from "@trellis/config";
import type { Database } from "../db/open-database";
import type { EndpointRegistry } from "../distribution/ports";
import { batchUpsert, type Column } from "./batch-upsert";

const COLUMNS: Column[] = [
  { name: "id" },
  { name: "workload" },
  { name: "service" },
  { name: "namespace" },
  { name: "address" },
  { name: "inbound_port", cast: "integer" },
  { name: "ports", cast: "jsonb" },
  { name: "labels", cast: "jsonb" },
  { name: "sidecar" },
  { name: "proxy_version" },
  { name: "replica_id" },
  { name: "connected_at", cast: "timestamp(3)" },
  { name: "last_seen_at", cast: "timestamp(3)" },
  { name: "disconnected_at", cast: "timestamp(3)" },
];

interface EndpointRow extends Record<string, unknown> {
  id: string;
  workload: string;
  service: string;
  namespace: string;
  address: string;
  inbound_port: number | null;
  ports: Endpoint["ports"];
  labels: Endpoint["labels"];
  sidecar: boolean;
  proxy_version: string;
}

/**
 * The live endpoint registry in the `endpoints` table, shared by every control-plane replica.
 * A row belongs to the replica holding the proxy's stream (`replica_id`): a replica only
 * disconnects or removes its own rows, so a proxy that moved to another replica stays.
 * Rows of a replica that died are found by their `last_seen_at` (see touchReplica, deleteStale).
 */
export class EndpointRepo implements EndpointRegistry {
  constructor(
    private readonly db: Pick<Database, "sql">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records the endpoint of a proxy that said Hello to `replicaId`, replacing any older row. */
  register(endpoint: Endpoint, replicaId: string): Promise<void> {
    return this.registerMany([endpoint], replicaId);
  }

  /** register() for many proxies in one statement per 1000. */
  async registerMany(endpoints: readonly Endpoint[], replicaId: string): Promise<void> {
    const at = this.now();
    const rows = endpoints.map((e) => [
      e.id,
      e.workload,
      e.service,
      e.namespace,
      e.address,
      e.inboundPort ?? null,
      JSON.stringify(e.ports),
      JSON.stringify(e.labels),
      e.sidecar,
      e.proxyVersion,
      replicaId,
      at,
      at,
      null,
    ]);
    await batchUpsert(this.db.sql, "endpoints", "id", COLUMNS, rows);
  }

  /** Marks the stream ended (the row stays through the grace period); false if another replica holds it. */
  async markDisconnected(id: string, replicaId: string): Promise<boolean> {
    const rows = await this.db.sql("UPDATE endpoints SET disconnected_at = $3 WHERE id = $1 AND replica_id = $2 RETURNING id", [id, replicaId, this.now()]);
    return rows.length > 0;
  }

  /** Removes endpoint `id` if `replicaId` still holds it (EndpointRegistry: called once the grace period is over). */
  async disconnected(id: string, replicaId: string): Promise<void> {
    await this.db.sql("DELETE FROM endpoints WHERE id = $1 AND replica_id = $2", [id, replicaId]);
  }

  /** Heartbeat: every connected endpoint held by `replicaId` was seen now. Returns how many. */
  async touchReplica(replicaId: string): Promise<number> {
    const rows = await this.db.sql("UPDATE endpoints SET last_seen_at = $2 WHERE replica_id = $1 AND disconnected_at IS NULL RETURNING id", [replicaId, this.now()]);
    return rows.length;
  }

  /**
   * Deletes rows disconnected before `disconnectedBefore` (their grace is over), and rows not
   * seen since `lastSeenBefore` (their replica stopped heartbeating). Returns the deleted ids.
   */
  async deleteStale(opts: { disconnectedBefore: Date; lastSeenBefore?: Date }): Promise<string[]> {
    const rows = await this.db.sql<{ id: string }>(
      "DELETE FROM endpoints WHERE disconnected_at < $1 OR ($2::timestamp(3) IS NOT NULL AND last_seen_at < $2::timestamp(3)) RETURNING id",
      [opts.disconnectedBefore, opts.lastSeenBefore ?? null],
    );
    return rows.map((r) => r.id).sort();
  }

  /**
   * Every endpoint in the registry, sorted by id, including those in their disconnect grace
   * period (their workloads still serve; only the proxy's stream dropped) unless `connectedOnly`.
   */
  async list(filter: { namespace?: string; service?: string; connectedOnly?: boolean } = {}): Promise<Endpoint[]> {
    const rows = await this.db.sql<EndpointRow>(
      `SELECT id, workload, service, namespace, address, inbound_port, ports, labels, sidecar, proxy_version FROM endpoints
       WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR service = $2) AND (NOT $3::boolean OR disconnected_at IS NULL)
       ORDER BY id`,
      [filter.namespace ?? null, filter.service ?? null, filter.connectedOnly ?? false],
    );
    return rows.map((r) => ({
      id: r.id,
      workload: r.workload,
      service: r.service,
      namespace: r.namespace,
      address: r.address,
      // Absent rather than undefined, so a listed endpoint equals the one registered.
      ...(r.inbound_port !== null ? { inboundPort: r.inbound_port } : {}),
      ports: r.ports,
      labels: r.labels,
      sidecar: r.sidecar,
      proxyVersion: r.proxy_version,
    }));
  }
}
