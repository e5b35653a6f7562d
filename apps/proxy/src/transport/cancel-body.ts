import http2 from "node:http2";
import type { Readable } from "node:stream";

/**
 * Abandons an upstream response body because the downstream went away. An HTTP/2 stream is
 * reset with CANCEL so the peer (a server sidecar, an h2c app) stops producing at once:
 * `destroy()` without an error resets it with NO_ERROR, which reads as "done", not "stop".
 * Anything else (an undici body) is destroyed, which aborts its request.
 */
export function cancelBody(body: Readable): void {
  const stream = body as Readable & Partial<Pick<http2.Http2Stream, "close" | "closed" | "rstCode">>;
  if (typeof stream.close === "function" && "rstCode" in stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  body.destroy();
}

/**
 * A listener that holds nothing: what stays on a response body (or stream) once the listeners
 * of its exchange came off, so a late error still has someone listening.
 */
export function ignoreError(): void {}
