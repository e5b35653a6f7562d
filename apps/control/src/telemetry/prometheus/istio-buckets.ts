import { LATENCY_BUCKETS, LATENCY_BUCKET_BOUNDS_MS, latencyBucket } from "@trellis/config";

/**
 * Istio's latency histogram (istio_request_duration_milliseconds, buckets 0.5, 1, 5, 10, 25,
 * 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, … ms) read onto the live window's √2
 * buckets: every request of an Istio bucket (lo, hi] goes to the one Trellis bucket that holds
 * the bucket's geometric midpoint √(lo·hi).
 *
 * Precision: the answer cannot be finer than Istio's buckets, which are 2× to 5× wide. A
 * percentile from history lands in the Trellis bucket of the midpoint of the Istio bucket
 * holding the true value, so it can be off by up to √(hi/lo) of that bucket (×/÷ 2.2 for
 * (1, 5] ms, 1.6 for (10, 25] ms, 1.4 for (50, 100] ms) plus the √2 bucket's own ±19 %,
 * where live data is within ±19 %. Request counts, error ratios, rates, mean latency
 * (from `_sum`) and bytes are not affected.
 *
 * The first bucket (0, hi] has no geometric midpoint; its lower edge is taken as the first
 * Trellis bound (0.1 ms), below which Trellis does not resolve either. The +Inf bucket goes to
 * the overflow bucket.
 */

const FIRST_BOUND = LATENCY_BUCKET_BOUNDS_MS[0]!;

/** The Trellis bucket an Istio bucket (lo, hi] maps to (lo = 0 for the first bucket). */
export function trellisBucketOf(lo: number, hi: number): number {
  if (hi === Infinity) return LATENCY_BUCKETS - 1;
  const lower = lo > 0 ? lo : Math.min(FIRST_BOUND, hi);
  return latencyBucket(Math.sqrt(lower * hi));
}

/** One `le` series of a histogram: its upper bound and its (cumulative) count. */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * Cumulative `le` counts (any order) as counts per Trellis bucket, added to `into` (dense,
 * LATENCY_BUCKETS long). A count below the previous bound's (a reset seen by one series and
 * not another) contributes nothing rather than a negative number.
 */
export function addIstioHistogram(cumulative: readonly CumulativeBucket[], into: Float64Array): void {
  const sorted = [...cumulative].sort((a, b) => a.le - b.le);
  let lo = 0;
  let below = 0;
  for (const { le, count } of sorted) {
    const c = count - below;
    if (c > 0) into[trellisBucketOf(lo, le)]! += c;
    below = Math.max(below, count);
    lo = le;
  }
}

/** An `le` label's value as a number (`+Inf` included); NaN when it is not one. */
export function parseLe(le: string | undefined): number {
  if (le === undefined) return Number.NaN;
  if (le === "+Inf" || le === "Inf") return Infinity;
  return Number(le);
}
