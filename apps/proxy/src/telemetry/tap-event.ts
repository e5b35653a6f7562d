import { TAP_HIDDEN_HEADER_PREFIX, TAP_LIMITS, pathWithoutQuery, tapHeaderValue } from "@trellis/config";
import type { TapRequestFacts } from "@trellis/config";
import { Direction } from "@trellis/proto";
import type { TapEvent } from "@trellis/proto";
import type { RequestContext } from "../core/context";
import type { Headers } from "../core/types";
import type { AccessLogRequest } from "./access-log";
import type { RequestOutcome } from "./request-record";
import { serviceParts } from "./service-parts";

/**
 * What a live tap shows of one finished request: a summary built only from what the proxy
 * already knows at the end of the request, never a body. Before anything leaves the process
 * credentials are redacted (isCredentialHeader), mesh-internal `x-trellis-*` headers dropped,
 * the query string and fragment cut from the path (they carry tokens: `?access_token=…`), and
 * every string cut to TAP_LIMITS, so one event stays small whatever the request held.
 */

/** The request facts a filter looks at, plus the destination workload; computed once per request. */
export interface TapFacts extends TapRequestFacts {
  destinationWorkload: string;
}

/** Facts of a finished request: outbound, the routed host's service; inbound, this proxy's own. */
export function tapFacts(ctx: RequestContext, req: AccessLogRequest, outcome: RequestOutcome): TapFacts {
  const host = ctx.target?.host;
  const [service, namespace] = host !== undefined ? serviceParts(host) : [ctx.destination?.app ?? "", ctx.destination?.namespace ?? ""];
  return {
    sourceWorkload: ctx.source.workload,
    sourceNamespace: ctx.source.namespace,
    destinationService: service,
    destinationNamespace: namespace,
    destinationWorkload: ctx.destination?.workload ?? "",
    path: cut(pathWithoutQuery(req.path), TAP_LIMITS.path),
    status: outcome.status,
  };
}

/** The event for a request that matched `tapIds`. */
export function tapEvent(ctx: RequestContext, req: AccessLogRequest, outcome: RequestOutcome, facts: TapFacts, tapIds: string[]): TapEvent {
  return {
    tapIds,
    direction: ctx.direction === "outbound" ? Direction.DIRECTION_OUTBOUND : Direction.DIRECTION_INBOUND,
    startUnixMs: ctx.startTime,
    durationMs: Number.isFinite(outcome.durationMs) && outcome.durationMs > 0 ? outcome.durationMs : 0,
    sourceWorkload: cut(facts.sourceWorkload, TAP_LIMITS.name),
    sourceNamespace: cut(facts.sourceNamespace, TAP_LIMITS.name),
    destinationService: cut(facts.destinationService, TAP_LIMITS.name),
    destinationNamespace: cut(facts.destinationNamespace, TAP_LIMITS.name),
    destinationWorkload: cut(facts.destinationWorkload, TAP_LIMITS.name),
    method: cut(req.method, 32),
    authority: cut(req.authority, TAP_LIMITS.name),
    path: facts.path,
    status: outcome.status,
    grpcStatus: cut(outcome.grpcStatus ?? "", 16),
    responseFlags: ctx.flags.format(),
    route: cut(ctx.route?.name ?? "", TAP_LIMITS.name),
    mtls: ctx.connectionSecurity === "mutual_tls",
    requestBytes: ctx.requestBytes > 0 ? ctx.requestBytes : 0,
    responseBytes: ctx.responseBytes > 0 ? ctx.responseBytes : 0,
    requestHeaders: tapHeaders(req.headers),
    traceId: traceIdOf(req.headers),
  };
}

/** Request headers as a tap shows them: credentials redacted, `x-trellis-*` left out, at most TAP_LIMITS.headers. */
export function tapHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const name in headers) {
    if (n >= TAP_LIMITS.headers) break;
    const value = headers[name];
    if (value === undefined || name.length > TAP_LIMITS.headerName) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(TAP_HIDDEN_HEADER_PREFIX) || lower === "__proto__") continue;
    out[lower] = tapHeaderValue(lower, typeof value === "string" ? value : value.join(", "));
    n++;
  }
  return out;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

/** The trace id of a sampled W3C `traceparent` (the tracing layer writes one on every request it passes on); "" otherwise. */
function traceIdOf(headers: Headers): string {
  const tp = headers["traceparent"];
  if (typeof tp !== "string") return "";
  const m = TRACEPARENT.exec(tp);
  if (!m || /^0+$/.test(m[1]!) || (parseInt(m[2]!, 16) & 1) === 0) return "";
  return m[1]!;
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}
