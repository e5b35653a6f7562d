import type { ProxyError } from "../core/errors";
import type { Headers } from "../core/types";

/** Status line text and body of a local reply, Envoy-like (`no healthy upstream`). */
const BODIES: Record<string, string> = {
  TRELLIS_NO_ROUTE: "no route",
  TRELLIS_NO_HEALTHY_UPSTREAM: "no healthy upstream",
  TRELLIS_UPSTREAM_CONNECT_FAILURE: "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
  TRELLIS_UPSTREAM_RESET: "upstream connect error or disconnect/reset before headers. reset reason: remote reset",
  TRELLIS_UPSTREAM_OVERFLOW: "upstream connect error or disconnect/reset before headers. reset reason: overflow",
  TRELLIS_UPSTREAM_TIMEOUT: "upstream request timeout",
  TRELLIS_FAULT_ABORT: "fault filter abort",
  TRELLIS_RATE_LIMITED: "local_rate_limited",
  TRELLIS_ACCESS_DENIED: "RBAC: access denied",
};

/** What the edge writes for a ProxyError: plain text for HTTP, a trailers-only response for gRPC. */
export interface LocalReply {
  status: number;
  headers: Headers;
  body: string;
}

export function localReply(err: ProxyError, grpc: boolean): LocalReply {
  const text = BODIES[err.code] ?? err.message;
  const flags: Headers = err.flag ? { "x-trellis-response-flags": err.flag } : {};
  if (grpc) {
    // gRPC: HTTP 200 with grpc-status in the (only) header block, as Envoy's local replies do.
    return { status: 200, headers: { "content-type": "application/grpc", "grpc-status": String(err.grpcStatus), "grpc-message": encodeURIComponent(text), ...flags }, body: "" };
  }
  return { status: err.status, headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...flags }, body: text };
}
