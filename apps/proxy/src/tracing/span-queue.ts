import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../core/log";

/**
 * Finished spans on their way to the OTLP exporter: a bounded buffer, sent in batches when
 * a batch is full or every `flushEveryMs`, with at most `maxInFlight` exports outstanding.
 * The request path only ever pushes into an array. When the collector is slow or gone the
 * buffer fills and further spans are dropped and counted, never waited for: tracing must not
 * slow or break traffic. Safe to use from one thread (Node's), as everything here is.
 */

export interface SpanQueueOptions {
  exporter: SpanExporter;
  /** Spans kept while waiting to be exported; more are dropped (default 4096). */
  maxQueued?: number | undefined;
  /** Spans per export request (default 512, the OpenTelemetry SDK's batch size). */
  maxBatch?: number | undefined;
  /** Longest a span waits for its batch to fill (default 1000 ms). */
  flushEveryMs?: number | undefined;
  /** Exports outstanding at once (default 2). */
  maxInFlight?: number | undefined;
  log?: Logger | undefined;
}

/** Counters, for /stats. */
export interface SpanQueueStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the buffer was full. */
  dropped: number;
  /** Spans lost to failed exports (after the exporter's own retries). */
  failed: number;
  /** Spans waiting now. */
  queued: number;
}

// The exporter's result code for success (ExportResultCode.SUCCESS of @opentelemetry/core).
const SUCCESS = 0;
/** Export failures are logged at most this often. */
const LOG_EVERY_MS = 30_000;

export class SpanQueue {
  private buffer: ReadableSpan[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lastLogAt = -Infinity;
  private readonly timer: NodeJS.Timeout;
  /** Waiters of shutdown(), woken whenever an export ends. */
  private readonly idle = new Set<() => void>();
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly counts = { exported: 0, dropped: 0, failed: 0 };

  constructor(private readonly opts: SpanQueueOptions) {
    this.maxQueued = opts.maxQueued ?? 4096;
    this.maxBatch = opts.maxBatch ?? 512;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.timer = setInterval(() => this.flush(), opts.flushEveryMs ?? 1000);
    this.timer.unref(); // a pending batch must not keep the process alive
  }

  /** Queues a finished span; drops it (counted) when the buffer is full. */
  push(span: ReadableSpan): void {
    if (this.buffer.length >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.buffer.push(span);
    if (this.buffer.length >= this.maxBatch && !this.scheduled) {
      // Export after the current request's work, not inside it.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush(false);
      });
    }
  }

  get stats(): SpanQueueStats {
    return { ...this.counts, queued: this.buffer.length };
  }

  /**
   * Starts exports for what is buffered, as many as `maxInFlight` allows; with `all` false
   * only full batches (a part-filled one waits for the timer, so batches stay large).
   */
  flush(all = true): void {
    const min = all ? 1 : this.maxBatch;
    while (this.buffer.length >= min && this.inFlight < this.maxInFlight) {
      const batch = this.buffer.length <= this.maxBatch ? this.buffer : this.buffer.slice(0, this.maxBatch);
      this.buffer = batch === this.buffer ? [] : this.buffer.slice(this.maxBatch);
      this.send(batch);
    }
  }

  private send(batch: ReadableSpan[]): void {
    this.inFlight++;
    let done = false;
    const finish = (ok: boolean, error?: unknown) => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (ok) this.counts.exported += batch.length;
      else {
        this.counts.failed += batch.length;
        this.logFailure(batch.length, error);
      }
      this.flush(false);
      for (const wake of [...this.idle]) wake();
    };
    try {
      this.opts.exporter.export(batch, (result) => finish(result.code === SUCCESS, result.error));
    } catch (err) {
      finish(false, err);
    }
  }

  private logFailure(spans: number, error: unknown): void {
    const now = performance.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.lastLogAt = now;
    this.opts.log?.warn("span export failed; those spans are lost (logged at most every 30 s)", { spans, error: String((error as Error)?.message ?? error), failedSoFar: this.counts.failed });
  }

  /** Exports everything buffered and waits for outstanding exports, up to `timeoutMs`; then stops the exporter. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    clearInterval(this.timer);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.flush();
      const left = deadline - performance.now();
      if ((this.inFlight === 0 && this.buffer.length === 0) || left <= 0) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.idle.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.idle.add(wake);
      });
    }
    await this.opts.exporter.shutdown().catch(() => undefined);
  }
}
