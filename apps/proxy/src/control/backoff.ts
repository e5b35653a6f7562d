/**
 * Reconnect delays: exponential with full jitter (AWS's "Exponential Backoff And Jitter"):
 * attempt n waits a uniformly random time in [0, min(maxMs, baseMs * 2^n)), so a fleet of
 * proxies that lost the control plane together does not reconnect in lockstep. `reset()`
 * after a stream that stayed up, so the next outage starts again from short delays.
 */
export interface BackoffOptions {
  /** Upper bound of the first delay, ms. */
  baseMs: number;
  /** Upper bound of any delay, ms. */
  maxMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    /** Uniform in [0, 1); injectable for tests. */
    private readonly random: () => number = Math.random,
  ) {
    if (!(options.baseMs > 0)) throw new RangeError(`backoff baseMs must be greater than 0, got ${options.baseMs}`);
    if (!(options.maxMs >= options.baseMs)) throw new RangeError(`backoff maxMs must be at least baseMs (${options.baseMs}), got ${options.maxMs}`);
  }

  /** Delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The upper bound of the next delay. */
  get ceilingMs(): number {
    // 2^attempt overflows nothing: the exponent stops growing once the ceiling reached maxMs.
    return Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(this.attempt, 52));
  }

  /** The next delay, ms; each call counts as an attempt. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceilingMs);
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
