/** Endpoint lists for balancer and cluster tests. */
import { EndpointState } from "./endpoint-state";

/** `n` endpoints 10.0.0.1… on port 80, with the given weights (default 1). */
export function endpoints(n: number, weights: number[] = []): EndpointState[] {
  return Array.from({ length: n }, (_, i) => new EndpointState(`10.0.0.${i + 1}`, 80, weights[i] ?? 1, {}, true));
}

/** How many of `picks` went to each endpoint, by key. */
export function tally(picks: Array<EndpointState | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of picks) if (p) out[p.key] = (out[p.key] ?? 0) + 1;
  return out;
}
