import type { Database } from "../../db/open-database";
import type { Logger } from "../../log";
import { OtlpReceiver } from "./otlp-receiver";
import type { OtlpReceiverStats } from "./otlp-receiver";
import { TraceRetention } from "./retention";
import type { RetentionStats } from "./retention";
import { SpanStore } from "./span-store";
import type { TraceQuery, TraceSummary } from "./span-store";
import { buildTraceTree } from "./trace-tree";
import type { TraceTree } from "./trace-tree";

/** No span of the trace is stored (never received, or expired). */
export class TraceNotFoundError extends Error {
  readonly code = "TRELLIS_NOT_FOUND";
  constructor(traceId: string) {
    super(`trace ${traceId} not found: no span of it was received, or it is older than the retention period`);
    this.name = "TraceNotFoundError";
  }
}

/** The traces as the API sees them. */
export interface TraceApi {
  search(q: TraceQuery): Promise<TraceSummary[]>;
  /** The trace as a tree; TraceNotFoundError when nothing of it is stored. */
  get(traceId: string): Promise<TraceTree>;
  stats(): { receiver: OtlpReceiverStats; retention: RetentionStats };
}

export interface TraceServiceOptions {
  db: Pick<Database, "sql">;
  retentionMs: number;
  maxBodyBytes: number;
  log: Logger;
}

/** The receiver, the store and the retention sweep, wired (see app.ts). */
export class TraceService implements TraceApi {
  readonly store: SpanStore;
  readonly receiver: OtlpReceiver;
  readonly retention: TraceRetention;

  constructor(opts: TraceServiceOptions) {
    this.store = new SpanStore(opts.db);
    this.receiver = new OtlpReceiver({ store: this.store, maxBodyBytes: opts.maxBodyBytes, log: opts.log });
    this.retention = new TraceRetention({ store: this.store, retentionMs: opts.retentionMs, log: opts.log });
  }

  search(q: TraceQuery): Promise<TraceSummary[]> {
    return this.store.search(q);
  }

  async get(traceId: string): Promise<TraceTree> {
    const tree = buildTraceTree(traceId, await this.store.spansOf(traceId));
    if (!tree) throw new TraceNotFoundError(traceId);
    return tree;
  }

  stats(): { receiver: OtlpReceiverStats; retention: RetentionStats } {
    return { receiver: this.receiver.stats, retention: this.retention.stats };
  }
}
