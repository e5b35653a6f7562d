/** Small statistics helpers for the benchmark's latency and size figures. */

/**
 * The p-th percentile (0 ≤ p ≤ 100) of `values` by the nearest-rank method: the smallest
 * value such that at least p% of the values are ≤ it. NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** p50, p99 and max of `values` (NaN when empty). */
export function summary(values: readonly number[]): { p50: number; p99: number; max: number; n: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100), n: values.length };
}

/** `a / b` rounded to 2 decimals, or NaN when either is not a positive finite number. */
export function ratio(a: number, b: number): number {
  if (!(Number.isFinite(a) && Number.isFinite(b) && b > 0)) return Number.NaN;
  return Math.round((a / b) * 100) / 100;
}
