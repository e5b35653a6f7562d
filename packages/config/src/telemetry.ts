/**
 * Shared vocabulary of the live telemetry: the latency buckets proxies and the control plane
 * agree on, response classes, and percentile estimation from bucket counts.
 *
 * Buckets grow by a factor √2 from 0.1 ms, so a percentile read from them (geometric
 * interpolation inside the bucket) is within about ±19 % of the true value, at any scale, and
 * a whole histogram is at most 40 numbers (sent sparse: only the buckets that were hit).
 */

/** Upper bounds (inclusive) of the latency buckets, ms: 0.1 · √2^i for i = 0..38 (0.1 ms … 52 s). Index 39 is everything above. */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Array.from({ length: 39 }, (_, i) => 0.1 * Math.SQRT2 ** i);

/** Number of latency buckets, the overflow bucket included. */
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.length + 1;

const FIRST = LATENCY_BUCKET_BOUNDS_MS[0]!;

/** The bucket a latency falls in. */
export function latencyBucket(ms: number): number {
  if (!(ms > FIRST)) return 0; // also NaN and negatives
  let i = Math.ceil(2 * Math.log2(ms / FIRST));
  // Guard the floating-point edges so `ms <= bound[i]` and `ms > bound[i-1]` hold exactly.
  if (i > 0 && i <= LATENCY_BUCKET_BOUNDS_MS.length && ms <= LATENCY_BUCKET_BOUNDS_MS[i - 1]!) i--;
  else if (i < LATENCY_BUCKET_BOUNDS_MS.length && ms > LATENCY_BUCKET_BOUNDS_MS[i]!) i++;
  return Math.min(i, LATENCY_BUCKETS - 1);
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram given as dense bucket counts, ms; NaN when empty.
 * Inside a bucket the rank is interpolated geometrically, matching the buckets' spacing; the
 * overflow bucket reports its lower bound.
 */
export function latencyQuantile(counts: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return Number.NaN;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      if (i >= LATENCY_BUCKET_BOUNDS_MS.length) return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1]!;
      const upper = LATENCY_BUCKET_BOUNDS_MS[i]!;
      const lower = i === 0 ? upper / Math.SQRT2 : LATENCY_BUCKET_BOUNDS_MS[i - 1]!;
      const frac = (rank - seen) / c;
      return lower * (upper / lower) ** frac;
    }
    seen += c;
  }
  return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1]!;
}

/** Response classes as the telemetry counts them: 0 = no response, 1..5 = 1xx..5xx. */
export const RESPONSE_CLASSES = 6;

/** The class of an HTTP status; anything outside 100–599 (0 = none sent) is class 0. */
export function responseClass(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}
