import type { Attributes, HrTime, Link, SpanContext, SpanStatus } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { ActiveSpan, PeerInfo, RequestContext } from "../core/context";
import type { RequestOutcome } from "../telemetry/request-record";

/**
 * A finished request as an OpenTelemetry span, in the shape the OTLP exporter serializes
 * (ReadableSpan): a server span for the inbound side, a client span for the outbound side,
 * as Envoy reports them in Istio. Attribute names follow OpenTelemetry's HTTP semantic
 * conventions where one exists; the mesh's own facts (route, cluster, response flags, the
 * peer workload) are under `trellis.`. Status is ERROR for a local reply, a 5xx, a non-OK
 * gRPC status, or no response at all.
 */

/** The request line as the edge kept it. */
export interface SpanRequest {
  method: string;
  path: string;
  authority: string;
}

// SpanKind and SpanStatusCode of @opentelemetry/api, as numbers: the enums are not needed at run time.
const SERVER = 1;
const CLIENT = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;
const MAX_PATH = 1024;

const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

class FinishedSpan implements ReadableSpan {
  readonly ended = true;
  readonly links = NO_LINKS;
  readonly events = NO_EVENTS;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly parentSpanContext: SpanContext | undefined;

  constructor(
    private readonly context: SpanContext,
    parentSpanId: string | undefined,
    readonly name: string,
    readonly kind: number,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly duration: HrTime,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {
    this.parentSpanContext = parentSpanId === undefined ? undefined : { traceId: context.traceId, spanId: parentSpanId, traceFlags: 1, isRemote: true };
  }

  spanContext(): SpanContext {
    return this.context;
  }
}

/** What every span of this proxy shares. */
export interface SpanOrigin {
  resource: Resource;
  scope: InstrumentationScope;
}

/** The span of a finished request. */
export function toReadableSpan(span: ActiveSpan, ctx: RequestContext, req: SpanRequest, outcome: RequestOutcome, origin: SpanOrigin): ReadableSpan {
  const durationMs = outcome.durationMs > 0 && Number.isFinite(outcome.durationMs) ? outcome.durationMs : 0;
  const startMs = wallClockMs(ctx.start);
  const context: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
  if (span.traceState !== undefined) context.traceState = new TraceState(span.traceState);
  return new FinishedSpan(context, span.parentSpanId, operationName(ctx, req), ctx.direction === "inbound" ? SERVER : CLIENT, toHrTime(startMs), toHrTime(startMs + durationMs), toHrTime(durationMs), statusOf(ctx, outcome), attributesOf(ctx, req, outcome), origin.resource, origin.scope);
}

/**
 * Istio's operation name: the destination host and port with `/*` (`reviews.default:9080/*`),
 * the same on the client and the server span, so a search by operation finds both sides.
 * Without a routed destination (no route, not ready), the authority the caller addressed.
 */
function operationName(ctx: RequestContext, req: SpanRequest): string {
  const t = ctx.target;
  return t ? `${t.host}:${t.port}/*` : `${req.authority.slice(0, 255) || "unknown"}/*`;
}

function statusOf(ctx: RequestContext, outcome: RequestOutcome): SpanStatus {
  if (ctx.error) return { code: STATUS_ERROR, message: ctx.error.message };
  if (outcome.status === 0) return { code: STATUS_ERROR, message: "no response was sent (the downstream went away or the upstream failed)" };
  if (outcome.status >= 500) return { code: STATUS_ERROR, message: `HTTP ${outcome.status}` };
  if (outcome.grpcStatus !== undefined && outcome.grpcStatus !== "0") return { code: STATUS_ERROR, message: `gRPC status ${outcome.grpcStatus}` };
  return { code: STATUS_UNSET };
}

function attributesOf(ctx: RequestContext, req: SpanRequest, outcome: RequestOutcome): Attributes {
  const outbound = ctx.direction === "outbound";
  const q = req.path.indexOf("?");
  const a: Attributes = {
    "http.request.method": req.method,
    // The query is left out: it may carry credentials, and spans are kept for a day.
    "url.path": (q >= 0 ? req.path.slice(0, q) : req.path).slice(0, MAX_PATH),
    "trellis.protocol": ctx.protocol,
    "trellis.response_flags": ctx.flags.format(),
    "http.request.body.size": ctx.requestBytes,
    "http.response.body.size": ctx.responseBytes,
  };
  if (outcome.status > 0) a["http.response.status_code"] = outcome.status;
  if (outcome.grpcStatus !== undefined && /^\d{1,2}$/.test(outcome.grpcStatus)) a["rpc.grpc.status_code"] = Number(outcome.grpcStatus);
  if (ctx.target) {
    a["server.address"] = ctx.target.host;
    a["server.port"] = ctx.target.port;
    if (ctx.target.cluster) a["trellis.upstream_cluster"] = ctx.target.cluster;
  }
  if (ctx.route) {
    a["trellis.route"] = ctx.route.name;
    if (ctx.route.source) a["trellis.route.source"] = ctx.route.source;
  }
  // The network peer: the endpoint the last attempt went to (client), or who connected (server).
  const peerAddress = outbound ? ctx.upstreamAddress : ctx.downstreamAddress;
  if (peerAddress) {
    const [address, port] = splitAddress(peerAddress);
    a["network.peer.address"] = address;
    if (port !== undefined) a["network.peer.port"] = port;
  }
  if (!outbound) a["client.address"] = ctx.downstreamAddress;
  // The mesh peer: the workload that answered (client span) or that called (server span).
  const peer: PeerInfo | undefined = outbound ? ctx.destination : ctx.source;
  if (peer && peer.workload !== "unknown") {
    a["trellis.peer.workload"] = peer.workload;
    a["trellis.peer.service"] = peer.app;
    a["trellis.peer.namespace"] = peer.namespace;
    a["trellis.peer.version"] = peer.version;
  }
  // OpenTelemetry's retry count: attempts after the first.
  if (outbound) a["http.request.resend_count"] = ctx.attempts > 1 ? ctx.attempts - 1 : 0;
  if (ctx.error) a["error.type"] = ctx.error.code;
  else if (outcome.status >= 500) a["error.type"] = String(outcome.status);
  return a;
}

/** `10.0.0.7:9080` → [`10.0.0.7`, 9080]; `[::1]:80` and bare `::1` too. */
function splitAddress(addr: string): [string, number | undefined] {
  const colon = addr.lastIndexOf(":");
  if (colon <= 0 || addr.indexOf(":") !== colon) {
    const m = /^\[(.+)\]:(\d+)$/.exec(addr);
    return m ? [m[1]!, Number(m[2])] : [addr, undefined];
  }
  const port = Number(addr.slice(colon + 1));
  return Number.isInteger(port) ? [addr.slice(0, colon), port] : [addr, undefined];
}

/**
 * Wall-clock time of a `performance.now()` reading. The offset between the two clocks is
 * re-read every minute, so spans keep sub-millisecond precision (children inside their
 * parent) and still follow the wall clock if NTP steps it while the proxy runs for days.
 */
let anchorAt = -Infinity;
let offsetMs = 0;
function wallClockMs(perfNow: number): number {
  const now = performance.now();
  if (now - anchorAt > 60_000) {
    anchorAt = now;
    offsetMs = Date.now() - now;
  }
  return offsetMs + perfNow;
}

function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(Math.round((ms - seconds * 1000) * 1e6), 999_999_999);
  return [seconds, nanos];
}
