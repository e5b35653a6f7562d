/** Default backoff bounds, Envoy's and Istio's: 25 ms base, 250 ms cap. */
export const DEFAULT_BACKOFF_BASE_MS = 25;
export const DEFAULT_BACKOFF_MAX_MS = 250;

/**
 * Delay before retry number `retry` (0 for the first retry): exponential backoff with full
 * jitter, uniform in [0, min(maxMs, baseMs × 2^retry)). Full jitter spreads the retries of many
 * clients that failed together, so they do not hit a recovering upstream in lock-step.
 */
export function backoffMs(retry: number, baseMs = DEFAULT_BACKOFF_BASE_MS, maxMs = DEFAULT_BACKOFF_MAX_MS, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}
