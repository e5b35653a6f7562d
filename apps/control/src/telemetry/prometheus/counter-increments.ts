/**
 * How much a counter grew in each step of a range query, from its values at the step
 * boundaries (a `query_range` of the plain, summed counter at start, start + step, …).
 *
 * Why not `increase(m[step])`: Prometheus extrapolates increase() to the window's edges, so
 * counts come back fractional and off by up to a scrape interval's worth, and a series that
 * is born inside the window (the proxies, like Envoy, create a label combination on its first
 * request) starts at its first scraped value, so everything before that first scrape is lost.
 * Differences of the values at the boundaries are exact: the sum of a range's steps is exactly
 * what was scraped between its start and its end, each request counted in the step its first
 * scrape fell in (so up to one scrape interval late).
 *
 * Rules, per series (one proxy's, as the queries group by `instance`):
 * - absent at the range's start: it did not exist yet, so it grew from 0;
 * - a value below the last one seen: the proxy restarted, so it grew from 0 to the value
 *   (as Prometheus's own reset handling; growth before the restart inside that step is lost);
 * - absent at a boundary (no sample within Prometheus's lookback, 5 min by default): no growth
 *   in that step, and it is compared with the last value seen when it comes back.
 * Limit: a series that existed before the range but had no sample within the lookback at the
 * range's start (Prometheus down or the proxy unscraped for longer) counts its whole value in
 * the step it reappears in.
 */
export function counterIncrements(values: readonly (readonly [number, string])[], start: number, step: number, steps: number): Float64Array {
  const at = new Float64Array(steps + 1).fill(Number.NaN);
  for (const [t, v] of values) {
    const k = Math.round((t - start) / step);
    const n = Number(v);
    if (k >= 0 && k <= steps && Number.isFinite(n)) at[k] = n;
  }
  const out = new Float64Array(steps);
  let last = Number.isNaN(at[0]!) ? 0 : at[0]!;
  for (let k = 1; k <= steps; k++) {
    const cur = at[k]!;
    if (Number.isNaN(cur)) continue;
    out[k - 1] = cur >= last ? cur - last : cur;
    last = cur;
  }
  return out;
}
