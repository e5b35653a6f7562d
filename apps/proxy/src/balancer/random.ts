import type { ProxyRequest } from "../core/types";
import type { EndpointState } from "./endpoint-state";
import type { LoadBalancer } from "./load-balancer";

/**
 * The index of an endpoint drawn with probability proportional to its weight, skipping
 * `exclude` (-1: none); -1 when nothing is left. O(n).
 */
export function weightedIndex(endpoints: readonly EndpointState[], random: () => number, exclude = -1): number {
  let total = 0;
  for (let i = 0; i < endpoints.length; i++) if (i !== exclude) total += endpoints[i]!.weight;
  if (total <= 0) return -1;
  let r = random() * total;
  let last = -1;
  for (let i = 0; i < endpoints.length; i++) {
    if (i === exclude) continue;
    last = i;
    r -= endpoints[i]!.weight;
    if (r < 0) return i;
  }
  return last; // rounding at the very end of the range
}

/** Weighted random choice. Stateless. */
export class RandomBalancer implements LoadBalancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly EndpointState[], _req?: ProxyRequest): EndpointState | undefined {
    return endpoints[weightedIndex(endpoints, this.random)];
  }
}
