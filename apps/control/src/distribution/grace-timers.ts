/**
 * Delayed actions per key that a later event can cancel: "remove this proxy's endpoint in
 * 5 s unless it reconnects first". Timers are unref'd, so they never keep the process alive.
 */
export class GraceTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly delayMs: number) {}

  /** Runs `action` after the delay unless cancel(key) comes first; replaces a pending one for the key. */
  schedule(key: string, action: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      action();
    }, this.delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Cancels the pending action for `key`, if any. */
  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Cancels every pending action. */
  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
