import type { Readable } from "node:stream";
import type { Headers, ProxyRequest, ProxyResponse } from "../core/types";
import type { Upstreams } from "./upstreams";

/** How a request reaches one upstream address. */
export type UpstreamMode =
  /** A peer sidecar's inbound listener: multiplexed HTTP/2, over mTLS when `peerIdentity` is given. */
  | "peer"
  /** An HTTP/1.1 application or external host. */
  | "http1"
  /** An h2c application (gRPC, HTTP/2). */
  | "h2c";

/**
 * Sends one attempt of `req` to `address:port` the way `mode` says, with `extraHeaders` added
 * (mesh headers towards a peer). Resolves at the response headers; the body streams after.
 */
export function sendHttp(upstreams: Upstreams, mode: UpstreamMode, address: string, port: number, req: ProxyRequest, body: Readable | null, signal: AbortSignal, extraHeaders?: Headers, h1Options?: Parameters<Upstreams["http1"]>[2], peerIdentity?: string): Promise<ProxyResponse> {
  if (mode === "http1") {
    const headers = extraHeaders ? { ...req.headers, ...extraHeaders } : req.headers;
    // A body-less request must not claim chunked encoding upstream.
    return upstreams.http1(address, port, h1Options).send(req.method, req.path, req.authority, headers, body, signal);
  }
  const h2headers: Record<string, string | string[]> = { ":method": req.method, ":path": req.path, ":authority": req.authority, ":scheme": "http" };
  for (const k in req.headers) if (k !== "content-length" || body) h2headers[k] = req.headers[k]!;
  if (extraHeaders) Object.assign(h2headers, extraHeaders);
  return upstreams.http2(address, port, mode === "peer", peerIdentity).send(h2headers, body, signal);
}
