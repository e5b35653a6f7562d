import { Readable } from "node:stream";
import type { Duplex } from "node:stream";
import { RequestContext } from "../core/context";
import type { Direction, PeerInfo } from "../core/context";
import { ProxyError } from "../core/errors";
import type { Logger } from "../core/log";
import type { Handler, Headers, ProxyRequest, ProxyResponse } from "../core/types";
import { peerTlsOf } from "../identity/mesh-tls";
import { localReply } from "./local-reply";
import { PORT_HEADER } from "./peer-metadata";

/** How a finished request is reported (metrics and access log; see telemetry/). */
export interface RequestOutcome {
  status: number;
  /** grpc-status from the response headers or trailers, for gRPC requests. */
  grpcStatus: string | undefined;
  durationMs: number;
}

/** What one listener's edge needs; shared by its HTTP/1.1 and HTTP/2 sides. */
export interface EdgeOptions {
  direction: Direction;
  /** The current router's handler, read per request: a config swap takes effect for the next request. */
  handler(): Handler;
  /** Who is calling: outbound, this workload; inbound, the peer named by the mesh headers. */
  source(headers: Record<string, string | string[] | undefined>): PeerInfo;
  /** Headers with this prefix are dropped from requests (outbound: the app must not forge mesh headers). */
  dropHeaderPrefix?: string | undefined;
  /** Last look at response headers before they go downstream (peer metadata exchange). */
  responseHeaders?(ctx: RequestContext, headers: Headers): Headers;
  /** A CONNECT tunnel request (TCP through the mesh). */
  connect?(authority: string, downstream: Duplex, ctx: RequestContext, ready: (status: number) => boolean): void;
  /** Called once per request as it enters the handler (in-flight counts); `finish` follows. */
  started?(ctx: RequestContext): void;
  /** Called once per request when the response is finished or abandoned. */
  finish(ctx: RequestContext, req: ProxyRequest, outcome: RequestOutcome): void;
  log: Logger;
}

export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === "string" && contentType.startsWith("application/grpc");
}

/**
 * Runs a request through the handler and converts what comes back into something the
 * protocol side can write: the upstream response, or a local reply for a ProxyError, or a
 * 500 for a bug (logged; the process stays up).
 */
export async function dispatch(opts: EdgeOptions, req: ProxyRequest, ctx: RequestContext, signal: AbortSignal): Promise<ProxyResponse> {
  opts.started?.(ctx);
  try {
    const res = await opts.handler()(req, ctx, signal);
    if (opts.responseHeaders) res.headers = opts.responseHeaders(ctx, res.headers);
    return res;
  } catch (err) {
    return errorResponse(opts, ctx, err);
  }
}

export function errorResponse(opts: EdgeOptions, ctx: RequestContext, err: unknown): ProxyResponse {
  let pe: ProxyError;
  if (err instanceof ProxyError) pe = err;
  else if (ctx.signal.aborted) {
    ctx.flags.add("DC");
    pe = new InternalError("downstream went away");
  } else {
    opts.log.error("request failed with an unexpected error", { error: String((err as Error)?.stack ?? err) });
    pe = new InternalError("internal proxy error");
  }
  ctx.error = pe;
  if (pe.flag) ctx.flags.add(pe.flag);
  const reply = localReply(pe, ctx.grpc);
  const headers = opts.responseHeaders ? opts.responseHeaders(ctx, reply.headers) : reply.headers;
  const body = reply.body;
  return { status: reply.status, headers, body: body ? bodyStream(body) : null, trailers: () => undefined };
}

class InternalError extends ProxyError {
  readonly code = "TRELLIS_INTERNAL";
  readonly status = 500;
  readonly grpcStatus = 13;
  readonly flag = undefined;
}

function bodyStream(text: string): Readable {
  return Readable.from([Buffer.from(text)], { objectMode: false });
}

/** grpc-status of a finished response: trailers first, else the headers (trailers-only). */
export function grpcStatusOf(res: ProxyResponse): string | undefined {
  const t = res.trailers()?.["grpc-status"] ?? res.headers["grpc-status"];
  return t === undefined ? undefined : String(t);
}

/**
 * A request's context. `socket` is the connection it came on: an mTLS one (PEER_TLS, set by
 * the listener after the handshake) makes the hop `mutual_tls` with the peer's SPIFFE ID as
 * source principal; anything else is plaintext with no principal.
 */
export function newContext(opts: EdgeOptions, grpc: boolean, signal: AbortSignal, socket: { remoteAddress?: string | undefined } | null | undefined, headers: Record<string, string | string[] | undefined>): RequestContext {
  const ctx = new RequestContext(opts.direction, grpc ? "grpc" : "http", signal, socket?.remoteAddress ?? "unknown", opts.source(headers));
  if (opts.direction === "inbound") {
    // The service port the calling sidecar named; read here because the edge drops mesh headers from what it forwards.
    const named = headers[PORT_HEADER];
    if (typeof named === "string") ctx.meshPort = Number(named);
  }
  const tls = peerTlsOf(socket);
  if (tls) {
    ctx.connectionSecurity = "mutual_tls";
    ctx.peerPrincipal = tls.principal;
  }
  return ctx;
}
