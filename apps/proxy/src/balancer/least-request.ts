import type { ProxyRequest } from "../core/types";
import type { EndpointState } from "./endpoint-state";
import type { LoadBalancer } from "./load-balancer";
import { weightedIndex } from "./random";

/**
 * Least request by the power of two choices: draw two distinct endpoints at random, weighted
 * by `weight`, and send to the one with fewer requests in flight (`active`); on a tie, the
 * first drawn. Idle endpoints therefore get traffic in proportion to their weights, and under
 * load a slow endpoint (whose requests pile up) is avoided without scanning the whole cluster
 * (Envoy's and Linkerd's default). Stateless apart from the random source.
 */
export class LeastRequestBalancer implements LoadBalancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly EndpointState[], _req?: ProxyRequest): EndpointState | undefined {
    if (endpoints.length <= 1) return endpoints[0];
    const i = weightedIndex(endpoints, this.random);
    const j = weightedIndex(endpoints, this.random, i);
    const a = endpoints[i];
    const b = endpoints[j];
    if (!a || !b) return a ?? b;
    return b.active < a.active ? b : a;
  }
}
