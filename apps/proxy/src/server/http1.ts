import { setMaxListeners } from "node:events";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { RequestBody } from "../core/body";
import type { RequestContext } from "../core/context";
import type { ProxyRequest, ProxyResponse } from "../core/types";
import { BadRequestError } from "../core/errors";
import { dispatch, errorResponse, grpcStatusOf, isGrpc, newContext } from "./edge";
import type { EdgeOptions } from "./edge";
import { forwardableHeaders } from "./hop-by-hop";
import { pumpBody } from "./pump-body";
import type { Pump } from "./pump-body";

/** Request header block limit; over it the client gets 431 (Node's parser enforces it). */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The HTTP/1.1 side of a listener: keep-alive, streaming bodies both ways with backpressure,
 * absolute-form requests (so `HTTP_PROXY` works) and CONNECT tunnels. Node's llhttp parser in
 * strict mode refuses request-smuggling shapes (Content-Length with Transfer-Encoding,
 * conflicting or duplicate Content-Length, bad chunk sizes) before a request reaches us; the
 * clientError handler answers them 400 (431 for an oversized header block) and closes.
 */
export function createHttp1Server(opts: EdgeOptions): http.Server {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, insecureHTTPParser: false, requireHostHeader: true, keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => {
    void serve(opts, req, res);
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    opts.log.debug("malformed HTTP/1.1 request refused", { code: err.code, status: code, remote: socket.remoteAddress });
    // A body error (bad chunking) arrives after the request was dispatched; answer 400 as long
    // as no response has started, and drop the connection either way.
    const inProgress = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
    if (socket.writable && (!inProgress || !inProgress.headersSent)) {
      const text = http.STATUS_CODES[code] ?? "Bad Request";
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
      socket.destroySoon();
    } else socket.destroy();
  });
  server.on("connect", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!opts.connect) {
      socket.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (head.length) socket.unshift(head);
    const ac = new AbortController();
    socket.once("close", () => ac.abort());
    const ctx = newContext(opts, false, ac.signal, socket, req.headers);
    opts.connect(req.url ?? "", socket, ctx, (status) => {
      if (status === 200) return socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return false;
    });
  });
  return server;
}

/**
 * One abort signal per connection, not per request: an HTTP/1.1 client can abandon a request
 * only by closing the connection, so the connection's close is exactly its requests' cancel.
 * An AbortController per request was, on Node 20, one of the largest sources of objects
 * promoted to old space (each AbortSignal gets its own hidden class), feeding the mark-compact
 * pauses behind the sidecar pair's p99. Layers that listen on it remove their listeners when
 * their work ends (childSignal.dispose, undici, http2), so keep-alive connections collect none.
 */
const connectionSignals = new WeakMap<Socket, AbortSignal>();

/**
 * A listener that stays on every connection signal for its life. Node's EventTarget keeps a
 * Map of event type → listener list and deletes the entry when the last listener goes: with
 * nothing else listening, each request's add and remove (undici, the timeout filter) inserted
 * and deleted the "abort" entry of a Map that lives in old space (the signal outlives its first
 * requests), and each insert and delete rehashed it into a new backing store. On Node 20 those
 * stores are allocated in old space directly (~150 bytes a request: 46 MB of old-space garbage
 * per 300 000 requests, 12 mark-compacts per million); on Node 24 they were the largest single
 * source of promoted bytes in a sidecar at wrk saturation (24 of 46 MB in 29 s). With one
 * listener always there, the entry is never deleted and requests only link and unlink their own.
 */
function keepAbortListenersRoot(): void {}

function connectionSignal(socket: Socket): AbortSignal {
  let signal = connectionSignals.get(socket);
  if (signal === undefined) {
    const ac = new AbortController();
    setMaxListeners(64, ac.signal); // pipelined requests may each hold a few listeners
    ac.signal.addEventListener("abort", keepAbortListenersRoot);
    socket.once("close", () => ac.abort());
    signal = ac.signal;
    connectionSignals.set(socket, signal);
  }
  return signal;
}

async function serve(opts: EdgeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const signal = connectionSignal(req.socket);
  const grpc = isGrpc(req.headers["content-type"]);
  const ctx = newContext(opts, grpc, signal, req.socket, req.headers);
  let preq: ProxyRequest;
  let response: ProxyResponse;
  const target = parseTarget(req);
  if (typeof target === "string") {
    preq = { method: req.method ?? "GET", path: req.url ?? "/", authority: req.headers.host ?? "", headers: {}, body: RequestBody.empty() };
    response = errorResponse(opts, ctx, new BadRequestError(target));
    req.resume();
  } else {
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
    const length = req.headers["content-length"] !== undefined ? Number(req.headers["content-length"]) : undefined;
    const headers = forwardableHeaders(req.headers, opts.dropHeaderPrefix);
    if (length !== undefined) headers["content-length"] = String(length);
    preq = { method: req.method ?? "GET", path: target.path, authority: target.authority, headers, body: hasBody ? new RequestBody(req, length) : RequestBody.empty() };
    if (!hasBody) req.resume();
    response = await dispatch(opts, preq, ctx, signal);
  }
  write(opts, ctx, preq, res, response);
}

/** Origin-form uses Host; absolute-form (`GET http://reviews:9080/x`, sent to an HTTP proxy) carries its own authority. */
function parseTarget(req: IncomingMessage): { authority: string; path: string } | string {
  const url = req.url ?? "/";
  if (url.startsWith("/")) {
    const host = req.headers.host;
    if (!host) return "missing Host header";
    return { authority: host, path: url };
  }
  if (url === "*") return { authority: req.headers.host ?? "", path: "*" };
  try {
    const u = new URL(url);
    if (u.protocol !== "http:") return `unsupported scheme '${u.protocol}' in the request target; use CONNECT for TLS`;
    return { authority: u.host, path: `${u.pathname}${u.search}` };
  } catch {
    return `malformed request target '${url.slice(0, 100)}'`;
  }
}

function write(opts: EdgeOptions, ctx: RequestContext, preq: ProxyRequest, res: ServerResponse, response: ProxyResponse): void {
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    ctx.requestBytes = preq.body.bytes;
    // Unfinished because the upstream failed (UR, set below) is not the downstream's doing.
    if (!res.writableFinished && !ctx.flags.has("UR")) ctx.flags.add("DC");
    opts.finish(ctx, preq, { status: response.status, grpcStatus: ctx.grpc ? grpcStatusOf(response) : undefined, durationMs: performance.now() - ctx.start });
  };
  if (res.destroyed) {
    // The client went away while the request was dispatched: its close came before anyone listened.
    response.body?.destroy();
    done();
    return;
  }
  let pump: Pump | undefined;
  // One close listener per exchange: it reports the request and cancels a body still running.
  res.once("close", () => {
    done();
    pump?.sinkClosed();
  });
  const headers = forwardableHeaders(response.headers);
  // A body of unknown length is sent chunked; keep-alive stays on either way.
  res.writeHead(response.status, headers);
  const body = response.body;
  if (!body) {
    res.end();
    return;
  }
  pump = pumpBody(body, res, {
    counted: (n) => (ctx.responseBytes += n),
    ended: () => {
      const trailers = response.trailers();
      if (trailers && res.chunkedEncoding) res.addTrailers(trailers as Record<string, string>);
      res.end();
    },
    failed: () => {
      ctx.flags.add("UR");
      res.destroy();
    },
  });
}
