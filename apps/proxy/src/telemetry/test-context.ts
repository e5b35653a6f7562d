import { RequestContext } from "../core/context";
import type { Direction, PeerInfo } from "../core/context";

/** Test helper: a context as the layers leave it after routing productpage → reviews v2. */

export const PRODUCTPAGE: PeerInfo = { workload: "productpage-v1-7d9f", app: "productpage", version: "v1", namespace: "default", principal: "spiffe://trellis.local/ns/default/sa/productpage" };
export const REVIEWS: PeerInfo = { workload: "reviews-v2-5c4b", app: "reviews", version: "v2", namespace: "default", principal: "spiffe://trellis.local/ns/default/sa/reviews" };

export function routedContext(direction: Direction, protocol: "http" | "grpc" | "tcp" = "http"): RequestContext {
  const ctx = new RequestContext(direction, protocol, new AbortController().signal, "10.0.0.7:43122", PRODUCTPAGE);
  ctx.destination = REVIEWS;
  ctx.target = { host: "reviews.default", port: 9080, subset: "v2", cluster: "outbound|9080|v2|reviews.default" };
  ctx.route = { name: "reviews-canary", source: "Route/default/reviews" };
  ctx.upstreamAddress = "10.0.1.12:15006";
  ctx.attempts = 1;
  return ctx;
}
