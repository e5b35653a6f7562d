import type { Logger } from "../../log";

/**
 * Deletes spans older than the retention period (TRELLIS_TRACE_RETENTION_HOURS): once at
 * start, then every quarter of the period (at most every 10 minutes), so the table holds at
 * most about 1.25 periods of spans. Every replica sweeps; the deletes are idempotent, and
 * sliced so a sweep never holds long locks against the receiver's inserts.
 */
export interface RetentionOptions {
  store: { deleteOlderThan(cutoff: Date): Promise<number> };
  retentionMs: number;
  /** Sweep interval (default: a quarter of the retention, 10 minutes at most, 1 second at least). */
  everyMs?: number | undefined;
  log: Logger;
  now?: () => number;
}

export interface RetentionStats {
  retentionHours: number;
  lastSweepAt: string | null;
  lastDeleted: number;
  totalDeleted: number;
}

export class TraceRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly counts = { lastSweepAt: null as string | null, lastDeleted: 0, totalDeleted: 0 };

  constructor(private readonly opts: RetentionOptions) {}

  start(): void {
    const every = this.opts.everyMs ?? Math.min(Math.max(this.opts.retentionMs / 4, 1_000), 10 * 60_000);
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  /** Deletes what has expired now; a sweep still running is joined, not doubled. Never throws. */
  sweep(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    const now = (this.opts.now ?? Date.now)();
    try {
      const n = await this.opts.store.deleteOlderThan(new Date(now - this.opts.retentionMs));
      this.counts.lastSweepAt = new Date(now).toISOString();
      this.counts.lastDeleted = n;
      this.counts.totalDeleted += n;
      if (n > 0) this.opts.log.debug("expired spans deleted", { spans: n });
      return n;
    } catch (err) {
      this.opts.log.warn("trace retention sweep failed; retrying at the next one", { cause: (err as Error).message });
      return 0;
    }
  }

  get stats(): RetentionStats {
    return { retentionHours: this.opts.retentionMs / 3_600_000, ...this.counts };
  }

  /** Stops sweeping and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
