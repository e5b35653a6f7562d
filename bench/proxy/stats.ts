/** Percentiles, ratios and resource arithmetic for the proxy benchmark; pure, unit-tested. */

/** The percentiles the report shows, in ms. */
export interface LatencySummary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of ascending `sorted` by the nearest-rank method: the
 * smallest value such that at least p% of the values are ≤ it. NaN for an empty list.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  // The epsilon keeps float noise (0.999 * 1000 = 999.0000000000001) from skipping a rank.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)));
  return sorted[rank - 1] as number;
}

/** Summary of latency samples (ms, any order); every field NaN when there are none. */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (p: number) => percentileOfSorted(sorted, p);
  return { n: sorted.length, mean: sorted.length ? sum / sorted.length : Number.NaN, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100) };
}

/** `a / b`, or NaN unless both are finite and b > 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !(Number.isFinite(a) && Number.isFinite(b) && b > 0)) return Number.NaN;
  return a / b;
}

/** CPU seconds spent per 1000 requests served. */
export function cpuPer1000Requests(cpuS: number, requests: number): number {
  return requests > 0 ? (cpuS / requests) * 1000 : Number.NaN;
}

/**
 * vCPUs busy per 1000 requests/s of load: the process's CPU share over the window (CPU
 * seconds / wall seconds, 1.0 = one core) divided by thousands of requests per second.
 * Equals CPU seconds per 1000 requests, whatever the rate, when the rate was steady.
 */
export function vcpuPer1000Rps(cpuS: number, wallS: number, requests: number): number {
  if (!(wallS > 0) || requests <= 0) return Number.NaN;
  const rps = requests / wallS;
  return cpuS / wallS / (rps / 1000);
}

/** What a percentile gains on top of a baseline (the pair's added latency), ms. */
export function added(withProxy: LatencySummary, direct: LatencySummary): { p50: number; p90: number; p99: number } {
  return { p50: withProxy.p50 - direct.p50, p90: withProxy.p90 - direct.p90, p99: withProxy.p99 - direct.p99 };
}

export type Verdict = "PASS" | "FAIL" | "n/a";

/** PASS when `value` satisfies `op limit`, n/a when it was not measured (NaN/undefined). */
export function verdict(value: number | undefined, op: "<=" | ">=", limit: number): Verdict {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  return (op === "<=" ? value <= limit : value >= limit) ? "PASS" : "FAIL";
}

/**
 * Cores used by everything else on the machine during a window: its busy CPU seconds minus
 * what the measured processes (proxies, app, load tool) used, over the wall time. Other
 * engineers' test runs show up here; so do this benchmark's idle processes (near zero).
 */
export function otherCores(machineBusyCpuS: number, measuredCpuS: number, wallS: number): number {
  return wallS > 0 ? Math.max(0, machineBusyCpuS - measuredCpuS) / wallS : Number.NaN;
}
