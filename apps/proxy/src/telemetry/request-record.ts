import type { PeerInfo, RequestContext } from "../core/context";
import { UNKNOWN_PEER } from "../core/context";
import type { LiveDeltas } from "./live-deltas";
import type { ProxyMetrics } from "./metrics";
import { serviceParts } from "./service-parts";
import { objectId, stringId } from "./shape-ids";

/**
 * Turns a finished request (or a TCP connection) into Istio's standard metrics, every label
 * derived from the RequestContext the layers filled in:
 * - `reporter`: outbound requests are reported by the caller's proxy (`source`), inbound by
 *   the callee's (`destination`);
 * - source_* from `ctx.source`, destination_* from `ctx.destination` (unknown until the peer
 *   said who it is); canonical service and revision are the app and version, as Istio
 *   derives them when no canonical-name label is set;
 * - destination_service from `ctx.target.host`: `reviews.default` gives name `reviews`,
 *   namespace `default`; any other host (an external one) is its own name, namespace unknown;
 *   no target (no route) gives unknown, never the Host header (it would let callers mint series);
 * - response_code and grpc_response_status bounded (0..999, 0..16), since they come from upstreams;
 * - connection_security_policy: `unknown` from the source reporter, as Istio (the caller's
 *   proxy cannot tell what the peer enforced), else `ctx.connectionSecurity`.
 */

/** How a request ended, as the edge saw it. */
export interface RequestOutcome {
  /** HTTP status sent downstream; 0 when none was (the downstream went away first). */
  status: number;
  /** grpc-status from the trailers or headers, for gRPC requests. */
  grpcStatus?: string | undefined;
  /** From accept to the last byte (or to the abandonment). */
  durationMs: number;
}

/** Running byte totals of a TCP connection. */
export interface TcpBytes {
  /** Sent downstream (Istio's "sent during response"). */
  sent: number;
  /** Received from downstream. */
  received: number;
}

const UNKNOWN = "unknown";

export function recordRequest(metrics: ProxyMetrics, ctx: RequestContext, outcome: RequestOutcome): void {
  const code = Number.isInteger(outcome.status) && outcome.status >= 0 && outcome.status <= 999 ? outcome.status : 0;
  const grpc = grpcStatusLabel(ctx, outcome);
  // Everything the labels derive from, as ids (shape-ids.ts): the full values are built only for a shape not seen before.
  const shape = `${ctx.direction === "outbound" ? "o" : "i"}${ctx.protocol}${ctx.connectionSecurity === "mutual_tls" ? "m" : "n"}${objectId(ctx.source)},${objectId(ctx.destination)},${objectId(ctx.target)},${stringId(ctx.peerPrincipal)},${ctx.flags.bits},${code},${grpc}`;
  let s = metrics.httpByShape(shape);
  if (s === undefined) {
    const values = peerLabelValues(ctx);
    values.push(String(code), grpc);
    s = metrics.http(values, shape);
  }
  s.requests.inc();
  s.durationMs.observe(nonNegative(outcome.durationMs));
  s.requestBytes.observe(nonNegative(ctx.requestBytes));
  s.responseBytes.observe(nonNegative(ctx.responseBytes));
}

/** Byte totals already counted per connection, so callers can always pass running totals. */
const reported = new WeakMap<RequestContext, { sent: number; received: number; closed: boolean }>();

/** Where TCP connections are counted: the Prometheus series and, when the proxy sends them, the live deltas. */
export interface TcpSinks {
  metrics: ProxyMetrics;
  live?: LiveDeltas | undefined;
}

export function recordTcpOpen(sinks: TcpSinks, ctx: RequestContext): void {
  sinks.metrics.tcp(peerLabelValues(ctx)).opened.inc();
  sinks.live?.tcpOpened(ctx);
}

/** Adds the bytes moved since the last report; call periodically on long connections so rates show before they close. */
export function recordTcpBytes(sinks: TcpSinks, ctx: RequestContext, totals: TcpBytes): void {
  addTcpBytes(sinks, ctx, totals, false);
}

/** Counts the close and the bytes not yet reported. A second call for the same connection is ignored. */
export function recordTcpClose(sinks: TcpSinks, ctx: RequestContext, totals: TcpBytes): void {
  addTcpBytes(sinks, ctx, totals, true);
}

function addTcpBytes(sinks: TcpSinks, ctx: RequestContext, totals: TcpBytes, close: boolean): void {
  let r = reported.get(ctx);
  if (r === undefined) reported.set(ctx, (r = { sent: 0, received: 0, closed: false }));
  if (r.closed) return;
  const sent = nonNegative(totals.sent) - r.sent;
  const received = nonNegative(totals.received) - r.received;
  const s = sinks.metrics.tcp(peerLabelValues(ctx));
  sinks.live?.tcpBytes(ctx, Math.max(0, sent), Math.max(0, received), close);
  if (sent > 0) {
    s.sentBytes.inc(sent);
    r.sent += sent;
  }
  if (received > 0) {
    s.receivedBytes.inc(received);
    r.received += received;
  }
  if (close) {
    r.closed = true;
    s.closed.inc();
  }
}

/** Values of PEER_LABEL_NAMES, in order. */
function peerLabelValues(ctx: RequestContext): string[] {
  const src = ctx.source;
  const dst: PeerInfo = ctx.destination ?? UNKNOWN_PEER;
  const outbound = ctx.direction === "outbound";
  const host = ctx.target?.host;
  const [serviceName, serviceNamespace] = host ? serviceParts(host) : [UNKNOWN, UNKNOWN];
  return [
    outbound ? "source" : "destination",
    src.workload || UNKNOWN,
    src.namespace || UNKNOWN,
    (outbound ? src.principal : ctx.peerPrincipal) || UNKNOWN,
    src.app || UNKNOWN,
    src.version || UNKNOWN,
    src.app || UNKNOWN,
    src.version || UNKNOWN,
    dst.workload || UNKNOWN,
    dst.namespace || UNKNOWN,
    (outbound ? ctx.peerPrincipal : dst.principal) || UNKNOWN,
    dst.app || UNKNOWN,
    dst.version || UNKNOWN,
    dst.app || UNKNOWN,
    dst.version || UNKNOWN,
    host || UNKNOWN,
    serviceName,
    serviceNamespace,
    ctx.protocol,
    ctx.flags.format(),
    outbound ? UNKNOWN : ctx.connectionSecurity,
  ];
}

const GRPC_CODE = /^(?:[0-9]|1[0-6])$/;

/**
 * gRPC status label: the one the response carried; for a gRPC response without one, the
 * status the gRPC spec maps its HTTP status to (a 503 from a plain server is UNAVAILABLE);
 * empty for plain HTTP, as Istio reports it.
 */
function grpcStatusLabel(ctx: RequestContext, outcome: RequestOutcome): string {
  // Bounded to the codes gRPC defines: the value comes from the upstream and must not mint series.
  if (outcome.grpcStatus !== undefined) return GRPC_CODE.test(outcome.grpcStatus) ? outcome.grpcStatus : "2";
  if (!ctx.grpc || outcome.status === 200 || outcome.status === 0) return "";
  switch (outcome.status) {
    case 400:
      return "13";
    case 401:
      return "16";
    case 403:
      return "7";
    case 404:
      return "12";
    case 429:
    case 502:
    case 503:
    case 504:
      return "14";
    default:
      return "2";
  }
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
