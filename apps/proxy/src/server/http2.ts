import http2 from "node:http2";
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { RequestBody } from "../core/body";
import type { RequestContext } from "../core/context";
import { BadRequestError } from "../core/errors";
import type { ProxyRequest, ProxyResponse } from "../core/types";
import { dispatch, errorResponse, grpcStatusOf, isGrpc, newContext } from "./edge";
import type { EdgeOptions } from "./edge";
import { forwardableHeaders } from "./hop-by-hop";
import { pumpBody } from "./pump-body";
import type { Pump } from "./pump-body";
import { ignoreError } from "../transport/cancel-body";
import { MAX_HEADER_BYTES } from "./http1";

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/**
 * The HTTP/2 side of a listener (h2c with prior knowledge: gRPC, h2c apps, and the peer
 * proxies' multiplexed sessions). Uses the stream API, not the compat layer: fewer objects
 * per request, and trailers (gRPC's grpc-status) are sent when the upstream's arrive.
 */
export function createHttp2Server(opts: EdgeOptions): http2.Http2Server {
  const server = http2.createServer({ maxHeaderListPairs: 256, settings: { maxHeaderListSize: MAX_HEADER_BYTES, maxConcurrentStreams: 1000 }, maxSessionMemory: 32 });
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
    void serve(opts, stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
  });
  server.on("sessionError", (err) => opts.log.debug("HTTP/2 session error", { error: err.message }));
  server.on("session", (session) => session.on("error", () => undefined));
  return server;
}

/**
 * What the one close listener of a stream does, in order: abort the request's signal if the
 * stream did not finish (a reset, or closed before the response was out), report the request
 * (once a response is being written), and cancel a response body still running. One listener
 * rather than one per concern: each `once` costs a wrapper and a listener slot per request.
 */
interface StreamExchange {
  done: (() => void) | undefined;
  pump: Pump | undefined;
}

async function serve(opts: EdgeOptions, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, endStream: boolean): Promise<void> {
  stream.on("error", ignoreError); // resets from the client are normal; the close handler reports them
  const ac = new AbortController();
  const x: StreamExchange = { done: undefined, pump: undefined };
  stream.once("close", () => {
    if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR || !stream.writableFinished) ac.abort();
    x.done?.();
    x.pump?.sinkClosed();
  });
  const method = headers[":method"] ?? "GET";
  const grpc = isGrpc(headers["content-type"]);
  const ctx = newContext(opts, grpc, ac.signal, stream.session?.socket, headers);
  const authority = headers[":authority"] ?? headers["host"];
  if (method === "CONNECT") {
    if (!opts.connect || typeof authority !== "string") {
      stream.respond({ ":status": 405 }, { endStream: true });
      return;
    }
    opts.connect(authority, stream, ctx, (status) => {
      if (stream.destroyed) return false;
      // The answer carries the same response headers as HTTP ones (inbound: who we are, for the caller's TCP telemetry).
      const headers = opts.responseHeaders ? opts.responseHeaders(ctx, {}) : {};
      stream.respond({ ...headers, ":status": status }, { endStream: status !== 200 });
      return status === 200;
    });
    return;
  }
  const path = headers[":path"];
  const reqHeaders = forwardableHeaders(headers, opts.dropHeaderPrefix);
  const preq: ProxyRequest = { method, path: path ?? "/", authority: typeof authority === "string" ? authority : "", headers: reqHeaders, body: endStream ? RequestBody.empty() : new RequestBody(stream, numberOr(headers["content-length"])) };
  let response: ProxyResponse;
  if (typeof authority !== "string" || !authority || !path) {
    if (!endStream) stream.resume();
    response = errorResponse(opts, ctx, new BadRequestError("missing :authority or :path"));
  } else {
    response = await dispatch(opts, preq, ctx, ac.signal);
  }
  write(opts, ctx, preq, stream, response, x);
}

function write(opts: EdgeOptions, ctx: RequestContext, preq: ProxyRequest, stream: ServerHttp2Stream, response: ProxyResponse, x: StreamExchange): void {
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    ctx.requestBytes = preq.body.bytes;
    // Our own reset after an upstream failure (UR, set below) also aborts the signal; that is not DC.
    if (!stream.writableFinished && ctx.signal.aborted && !ctx.flags.has("UR")) ctx.flags.add("DC");
    opts.finish(ctx, preq, { status: response.status, grpcStatus: ctx.grpc ? grpcStatusOf(response) : undefined, durationMs: performance.now() - ctx.start });
  };
  if (stream.destroyed || stream.closed) {
    response.body?.destroy();
    done();
    return;
  }
  x.done = done;
  const headers: OutgoingHttpHeaders = forwardableHeaders(response.headers);
  headers[":status"] = response.status;
  const body = response.body;
  if (!body) {
    stream.respond(headers, { endStream: true });
    return;
  }
  // gRPC always ends with trailers; other callers get them when they said they accept them.
  const waitForTrailers = ctx.grpc || preq.headers["te"] === "trailers";
  stream.respond(headers, { waitForTrailers });
  if (waitForTrailers) {
    stream.once("wantTrailers", () => {
      const t = response.trailers();
      if (t) stream.sendTrailers(forwardableHeaders(t));
      else stream.sendTrailers({}); // an empty trailer block ends the stream cleanly (close() would RST it)
    });
  }
  x.pump = pumpBody(body, stream, {
    counted: (n) => (ctx.responseBytes += n),
    ended: () => stream.end(),
    failed: () => {
      ctx.flags.add("UR");
      if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
    },
  });
}

function numberOr(v: string | string[] | undefined): number | undefined {
  return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
}
