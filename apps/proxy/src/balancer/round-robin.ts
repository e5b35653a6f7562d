import type { ProxyRequest } from "../core/types";
import type { EndpointState } from "./endpoint-state";
import type { LoadBalancer } from "./load-balancer";

/**
 * Smooth weighted round robin (nginx's): each pick adds every endpoint's weight to its running
 * score, takes the highest and subtracts the total from it. Weights 5:1:1 give a a b a c a a,
 * interleaved rather than in bursts, and equal weights give plain rotation.
 *
 * State: one score per endpoint, held in a WeakMap by EndpointState identity, so it survives
 * config swaps and endpoints that come and go (ejection) simply rejoin the rotation; nothing
 * leaks when an endpoint leaves. A pick is O(n) in the endpoints passed.
 */
export class RoundRobinBalancer implements LoadBalancer {
  private readonly score = new WeakMap<EndpointState, number>();

  pick(endpoints: readonly EndpointState[], _req?: ProxyRequest): EndpointState | undefined {
    if (endpoints.length <= 1) return endpoints[0];
    let total = 0;
    let best: EndpointState | undefined;
    let bestScore = -Infinity;
    for (const e of endpoints) {
      const s = (this.score.get(e) ?? 0) + e.weight;
      this.score.set(e, s);
      total += e.weight;
      if (s > bestScore) {
        best = e;
        bestScore = s;
      }
    }
    if (best) this.score.set(best, bestScore - total);
    return best;
  }
}
