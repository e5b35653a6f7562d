import { Direction } from "@trellis/proto";
import type { TapEvent } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";

/** Test fixtures: a sender and well-formed tap events. */

export const WEB: TelemetrySender = { proxyId: "shop/web-1", namespace: "shop", workload: "web-1", service: "web", labels: {} };

/** A well-formed event from web-1's outbound side to cart. */
export function event(over: Partial<TapEvent> = {}): TapEvent {
  return {
    tapIds: ["t1"],
    direction: Direction.DIRECTION_OUTBOUND,
    startUnixMs: 1_700_000_000_000,
    durationMs: 3.5,
    sourceWorkload: "web-1",
    sourceNamespace: "shop",
    destinationService: "cart",
    destinationNamespace: "shop",
    destinationWorkload: "cart-1",
    method: "GET",
    authority: "cart:8080",
    path: "/cart/items",
    status: 200,
    grpcStatus: "",
    responseFlags: "-",
    route: "cart",
    mtls: true,
    requestBytes: 0,
    responseBytes: 120,
    requestHeaders: { "user-agent": "curl/8" },
    traceId: "",
    ...over,
  };
}
