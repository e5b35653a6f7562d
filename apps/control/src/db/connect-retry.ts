import type { Logger } from "../log";
import { DatabaseUnavailableError, describeCause } from "./errors";

export interface RetryOptions {
  /** `host:port` named in log lines and errors (never the URL: it may carry a password). */
  target: string;
  log?: Logger | undefined;
  /** Scrubbed from cause messages, in case a driver echoes it. */
  secret?: string | undefined;
  /** First delay; doubles per attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many attempts (default: never, a control plane waits for its database). */
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Runs `probe` until it succeeds, logging each failure as
 * `database unreachable at <host:port>: <cause>; retrying in Ns` with exponential backoff
 * (capped, ~10 s by default). Throws DatabaseUnavailableError once `attempts` are spent
 * or `signal` aborts.
 */
export async function connectWithRetry<T>(probe: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const { target, log, secret, signal } = opts;
  const maxDelay = opts.maxDelayMs ?? 10_000;
  const attempts = opts.attempts ?? Infinity;
  let delay = opts.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await probe();
      if (attempt > 1) log?.info("database reachable again", { target, attempts: attempt });
      return result;
    } catch (err) {
      const cause = describeCause(err, secret);
      if (attempt >= attempts || signal?.aborted) {
        log?.error(`database unreachable at ${target}: ${cause}; giving up after ${attempt} attempt(s)`, { target });
        throw new DatabaseUnavailableError(target, cause);
      }
      log?.warn(`database unreachable at ${target}: ${cause}; retrying in ${formatSeconds(delay)}`, { target, attempt });
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
