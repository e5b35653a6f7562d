import type { TelemetryDelta } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";
import type { Logger } from "../../log";
import { DeltaError, decodeDelta } from "./decode-delta";
import { LiveWindow } from "./live-window";
import type { IngestRow, LiveWindowOptions, LiveWindowStats } from "./live-window";
import { ReplicaExchange } from "./replica-exchange";

export interface LiveTelemetryStats extends LiveWindowStats {
  deltasAccepted: number;
  deltasRejected: number;
  /** Rejections by the field at fault (`requests[].latency_counts`, …). */
  rejectedBy: Record<string, number>;
  rowsAccepted: number;
  /** Rows from other replicas (multi-replica), and their refused chunks. */
  rowsFromReplicas: number;
  replicaChunksRefused: number;
}

/**
 * The control plane's live telemetry: takes the proxies' deltas (TelemetrySink.delta), checks
 * them, adds them to the LiveWindow and, with several replicas, shares them (ReplicaExchange)
 * so every replica's window holds every proxy. Refusals are counted per field and returned to
 * the stream, which tells the proxy.
 */
export class LiveTelemetry {
  readonly window: LiveWindow;
  private exchange: ReplicaExchange | undefined;
  private readonly counters = { deltasAccepted: 0, deltasRejected: 0, rowsAccepted: 0, rowsFromReplicas: 0 };
  private readonly rejectedBy = new Map<string, number>();

  constructor(
    opts: LiveWindowOptions,
    private readonly log: Logger,
  ) {
    this.window = new LiveWindow(opts);
  }

  /** Starts the 1 s clock and, with a database URL (Postgres, several replicas possible), the exchange. */
  async start(databaseUrl: string | undefined, replicaId: string): Promise<void> {
    this.window.start();
    if (!databaseUrl) return;
    const exchange = new ReplicaExchange(databaseUrl, replicaId, (rows) => this.fromReplica(rows), this.log);
    await exchange.start();
    this.exchange = exchange;
  }

  async close(): Promise<void> {
    this.window.stop();
    await this.exchange?.close();
  }

  /** A proxy's delta: undefined when taken, else why it was refused. */
  delta(sender: TelemetrySender, delta: TelemetryDelta): string | undefined {
    let rows: IngestRow[];
    try {
      rows = decodeDelta(sender, delta);
    } catch (err) {
      if (!(err instanceof DeltaError)) throw err;
      this.counters.deltasRejected++;
      const field = err.path.replace(/\[\d+\]/g, "[]");
      this.rejectedBy.set(field, (this.rejectedBy.get(field) ?? 0) + 1);
      this.log.debug("refused a telemetry delta", { proxy: sender.proxyId, reason: err.message });
      return err.message;
    }
    this.counters.deltasAccepted++;
    this.counters.rowsAccepted += rows.length;
    this.window.ingest(rows);
    this.exchange?.add(rows);
    return undefined;
  }

  stats(): LiveTelemetryStats {
    return {
      ...this.window.stats(),
      ...this.counters,
      rejectedBy: Object.fromEntries(this.rejectedBy),
      replicaChunksRefused: this.exchange?.counters.chunksRefused ?? 0,
    };
  }

  private fromReplica(rows: IngestRow[]): void {
    this.counters.rowsFromReplicas += rows.length;
    this.window.ingest(rows);
  }
}
