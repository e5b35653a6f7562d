import type { Readable } from "node:stream";
import type { RequestBody } from "./body";
import type { RequestContext } from "./context";

/** A header value as Node gives it: repeated headers (set-cookie) stay arrays. */
export type HeaderValue = string | string[];

/** Lower-case header names to values; never pseudo-headers (`:path`) and never hop-by-hop headers. */
export type Headers = Record<string, HeaderValue>;

/** A request on its way through the proxy, independent of the downstream protocol. */
export interface ProxyRequest {
  /** Upper-case method. */
  method: string;
  /** Path and query in origin form (`/api/x?y=1`). */
  path: string;
  /** The `host[:port]` the caller addressed: Host, `:authority` or the absolute-form URI's. */
  authority: string;
  /** Request headers; mutated only by the layer that owns the change (header rewrite). */
  headers: Headers;
  /** The streamed body; replayable for retries while small enough (see RequestBody). */
  body: RequestBody;
}

/** A response coming back through the proxy: status and headers first, the body streamed. */
export interface ProxyResponse {
  status: number;
  headers: Headers;
  /** The body; null when there is none (HEAD, 204, a trailers-only gRPC response). */
  body: Readable | null;
  /** Trailers (gRPC's `grpc-status`), known once `body` has ended; undefined if none came. */
  trailers(): Headers | undefined;
}

/**
 * One stage of the request path. Handlers return the response as soon as its headers are
 * known; expected failures are thrown as ProxyError subclasses, which the edge turns into
 * local replies (see errors.ts). Anything else thrown is a bug and becomes a 500.
 *
 * `signal` cancels this attempt: the edge passes one that aborts when the downstream goes
 * away; timeout and retry layers pass a child that also aborts on their own deadlines. A
 * transport that sees it abort destroys the upstream request. Once a handler has returned
 * the response, the body is cancelled by destroying `body`, not by the signal.
 */
export type Handler = (req: ProxyRequest, ctx: RequestContext, signal: AbortSignal) => Promise<ProxyResponse>;

/** Wraps the next stage: `(next) => handler`, as linkerd's layers and undici's interceptors do. */
export type Layer = (next: Handler) => Handler;

/** Applies layers outermost first: `compose([a, b], h)` is `a(b(h))`. */
export function compose(layers: readonly Layer[], handler: Handler): Handler {
  let h = handler;
  for (let i = layers.length - 1; i >= 0; i--) h = layers[i]!(h);
  return h;
}
