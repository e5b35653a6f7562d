import type { Database } from "../../db/open-database";
import type { AttributeValue, SpanEvent, SpanRow } from "./span-row";

/**
 * Spans in the `spans` table (Postgres or PGlite), written in batches and read back as
 * trace summaries or whole traces. Raw SQL: multi-row inserts, and aggregates Prisma does
 * not express. Times are `timestamp(6)` holding UTC; they cross the driver as ISO strings
 * with microseconds and come back as epoch microseconds, so no precision is lost to Date.
 */

/** A trace search; every filter applies to one span of the trace (Jaeger's semantics). */
export interface TraceQuery {
  service?: string | undefined;
  operation?: string | undefined;
  minDurationMs?: number | undefined;
  errorsOnly: boolean;
  from: Date;
  to: Date;
  limit: number;
}

/** One trace in search results. */
export interface TraceSummary {
  traceId: string;
  /** The root span's service and operation (a span without parent; else the earliest). */
  rootService: string;
  rootOperation: string;
  /** ISO time of the earliest span's start. */
  start: string;
  /** From the earliest start to the latest end. */
  durationMs: number;
  spanCount: number;
  /** Whether any span has status ERROR. */
  error: boolean;
  /** Services with spans in the trace, sorted. */
  services: string[];
}

/** Rows per INSERT: 1000 × 15 parameters, well under PostgreSQL's 65535. */
const CHUNK = 1000;
const COLUMNS = "trace_id, span_id, parent_span_id, service, namespace, instance, name, kind, start_time, duration_ms, error, status_message, attributes, resource, events";
/** Spans returned for one trace at most; a runaway trace is cut, and says so. */
export const MAX_TRACE_SPANS = 10_000;

interface StoredSpan extends Record<string, unknown> {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service: string;
  namespace: string | null;
  instance: string | null;
  name: string;
  kind: number;
  start_us: number;
  duration_ms: number;
  error: boolean;
  status_message: string | null;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  events: SpanEvent[] | null;
}

export class SpanStore {
  constructor(private readonly db: Pick<Database, "sql">) {}

  /** Stores spans; one already stored (a sender's retry) is kept as it was. */
  async insert(rows: readonly SpanRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += CHUNK) {
      const params: unknown[] = [];
      const tuples = rows.slice(start, start + CHUNK).map((r) => {
        const base = params.length;
        params.push(r.traceId, r.spanId, r.parentSpanId, r.service, r.namespace, r.instance, r.name, r.kind, isoMicros(r.startUs), r.durationMs, r.error, r.statusMessage, JSON.stringify(r.attributes), JSON.stringify(r.resource), r.events ? JSON.stringify(r.events) : null);
        const $ = (i: number) => `$${base + i}`;
        return `(${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}, ${$(6)}, ${$(7)}, ${$(8)}::integer, ${$(9)}::timestamptz AT TIME ZONE 'UTC', ${$(10)}::float8, ${$(11)}::boolean, ${$(12)}, ${$(13)}::jsonb, ${$(14)}::jsonb, ${$(15)}::jsonb)`;
      });
      await this.db.sql(`INSERT INTO spans (${COLUMNS}) VALUES ${tuples.join(", ")} ON CONFLICT (trace_id, span_id) DO NOTHING`, params);
    }
  }

  /** The most recent traces with a span matching every filter, newest first. */
  /**
   * The (method, path) pairs of recent server spans recorded by a service's proxies, with the
   * calling service (`trellis.peer.service`), most frequent first: sampled requests of the
   * window, for checking what an authorization change would do to them.
   */
  async operations(q: { namespace: string; service: string; since: Date; limit: number }): Promise<{ caller: string; method: string; path: string; count: number }[]> {
    const rows = await this.db.sql<{ caller: string | null; method: string | null; path: string | null; count: string | number }>(
      `SELECT attributes->>'trellis.peer.service' AS caller, attributes->>'http.request.method' AS method, attributes->>'url.path' AS path, count(*) AS count
         FROM spans
        WHERE service = $1 AND namespace = $2 AND kind = 2 AND start_time >= $3::timestamptz AT TIME ZONE 'UTC'
        GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT $4`,
      [q.service, q.namespace, q.since.toISOString(), q.limit],
    );
    return rows.filter((r) => r.method && r.path).map((r) => ({ caller: r.caller ?? "", method: r.method!, path: r.path!, count: Number(r.count) }));
  }

  async search(q: TraceQuery): Promise<TraceSummary[]> {
    const params: unknown[] = [];
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    const where = [`start_time >= ${p(q.from.toISOString())}::timestamptz AT TIME ZONE 'UTC'`, `start_time <= ${p(q.to.toISOString())}::timestamptz AT TIME ZONE 'UTC'`];
    if (q.service !== undefined) where.push(`service = ${p(q.service)}`);
    if (q.operation !== undefined) where.push(`name = ${p(q.operation)}`);
    if (q.minDurationMs !== undefined) where.push(`duration_ms >= ${p(q.minDurationMs)}::float8`);
    if (q.errorsOnly) where.push("error");
    const rows = await this.db.sql<{ trace_id: string; start_us: number; end_us: number; span_count: number; error: boolean; services: string[]; root_service: string; root_operation: string }>(
      `WITH hits AS (
         SELECT trace_id, max(start_time) AS last_start FROM spans WHERE ${where.join(" AND ")}
         GROUP BY trace_id ORDER BY last_start DESC LIMIT ${p(q.limit)}::integer
       )
       SELECT s.trace_id,
              (EXTRACT(EPOCH FROM min(s.start_time)) * 1000000)::float8 AS start_us,
              max((EXTRACT(EPOCH FROM s.start_time) * 1000000)::float8 + s.duration_ms * 1000) AS end_us,
              count(*)::integer AS span_count,
              bool_or(s.error) AS error,
              jsonb_agg(DISTINCT s.service) AS services,
              (array_agg(s.service ORDER BY s.parent_span_id IS NULL DESC, s.start_time, s.span_id))[1] AS root_service,
              (array_agg(s.name ORDER BY s.parent_span_id IS NULL DESC, s.start_time, s.span_id))[1] AS root_operation
       FROM spans s JOIN hits h ON h.trace_id = s.trace_id
       GROUP BY s.trace_id
       ORDER BY max(h.last_start) DESC, s.trace_id`,
      params,
    );
    return rows.map((r) => ({
      traceId: r.trace_id,
      rootService: r.root_service,
      rootOperation: r.root_operation,
      start: isoMicros(Number(r.start_us)),
      durationMs: Math.round(Number(r.end_us) - Number(r.start_us)) / 1000,
      spanCount: Number(r.span_count),
      error: r.error,
      services: [...r.services].sort(),
    }));
  }

  /** Every span of one trace (at most MAX_TRACE_SPANS + 1, to tell a cut trace), earliest first. */
  async spansOf(traceId: string): Promise<SpanRow[]> {
    const rows = await this.db.sql<StoredSpan>(
      `SELECT trace_id, span_id, parent_span_id, service, namespace, instance, name, kind,
              (EXTRACT(EPOCH FROM start_time) * 1000000)::float8 AS start_us, duration_ms, error, status_message,
              attributes, resource, events
       FROM spans WHERE trace_id = $1 ORDER BY start_time, span_id LIMIT ${MAX_TRACE_SPANS + 1}`,
      [traceId],
    );
    return rows.map((r) => ({
      traceId: r.trace_id,
      spanId: r.span_id,
      parentSpanId: r.parent_span_id,
      service: r.service,
      namespace: r.namespace,
      instance: r.instance,
      name: r.name,
      kind: Number(r.kind),
      startUs: Number(r.start_us),
      durationMs: Number(r.duration_ms),
      error: r.error,
      statusMessage: r.status_message,
      attributes: r.attributes,
      resource: r.resource,
      events: r.events,
    }));
  }

  /** Deletes spans that started before `cutoff`, in slices so no statement holds locks for long; returns how many. */
  async deleteOlderThan(cutoff: Date, slice = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const [row] = await this.db.sql<{ n: number }>(
        `WITH gone AS (
           DELETE FROM spans WHERE ctid = ANY(ARRAY(SELECT ctid FROM spans WHERE start_time < $1::timestamptz AT TIME ZONE 'UTC' LIMIT ${Math.max(1, Math.floor(slice))}))
           RETURNING 1
         ) SELECT count(*)::integer AS n FROM gone`,
        [cutoff.toISOString()],
      );
      const n = Number(row?.n ?? 0);
      total += n;
      if (n < slice) return total;
    }
  }
}

/** Epoch microseconds as an ISO timestamp with six fractional digits. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = Math.round(us - ms * 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(Math.min(micros, 999)).padStart(3, "0")}Z`;
}
