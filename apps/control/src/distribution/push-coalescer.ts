/**
 * Coalesces bursts of change notifications into single runs of an async task (recompile and
 * push). A run starts once notifications have been quiet for `quietMs`, or at the latest
 * `maxDelayMs` after the first notification of the burst, so a steady stream of edits cannot
 * postpone pushes forever. Runs never overlap: notifications during a run start the next
 * window, and a window that ends during a run makes the next run start as soon as it finishes.
 *
 * Usage: `trigger()` freely; `close()` on shutdown (a pending run is dropped, a running one
 * finishes). Errors of the task go to `onError`; the coalescer itself never throws.
 */
export interface PushCoalescerOptions {
  /** Quiet window in ms (default 50). */
  quietMs?: number;
  /** Longest delay after the first notification of a burst, in ms (default 250). */
  maxDelayMs?: number;
  /** Receives errors thrown by the task. */
  onError?: (err: unknown) => void;
}

export class PushCoalescer {
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private pending = false;
  private due = false;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Completed runs, for tests and metrics. */
  runs = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly options: PushCoalescerOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 50;
    this.maxDelayMs = Math.max(options.maxDelayMs ?? 250, this.quietMs);
  }

  /** Notes a change; the task runs after the burst it belongs to. */
  trigger(): void {
    if (this.closed) return;
    this.pending = true;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.windowEnded(), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.windowEnded(), this.maxDelayMs);
  }

  /** Runs a pending task now instead of at the end of its window, and waits until idle. */
  async flush(): Promise<void> {
    if (this.pending) this.windowEnded();
    while (this.running) await this.running;
  }

  /** Drops any pending run and waits for a running one to finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = false;
    this.clearTimers();
    while (this.running) await this.running;
  }

  private windowEnded(): void {
    this.clearTimers();
    if (!this.pending || this.closed) return;
    if (this.running) {
      this.due = true;
      return;
    }
    this.running = this.execute();
  }

  private async execute(): Promise<void> {
    try {
      do {
        this.due = false;
        this.pending = false;
        try {
          await this.task();
        } catch (err) {
          this.options.onError?.(err);
        }
        this.runs++;
      } while (this.due && this.pending && !this.closed);
    } finally {
      this.running = undefined;
    }
  }

  private clearTimers(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
  }
}
