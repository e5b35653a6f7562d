import { formatPath, isCredentialHeader, TAP_HIDDEN_HEADER_PREFIX, TAP_LIMITS, TAP_REDACTED } from "@trellis/config";
import { Direction } from "@trellis/proto";
import type { TapEvent } from "@trellis/proto";
import { z } from "zod";
import type { TelemetrySender } from "../../distribution/ports";

/**
 * What the control plane accepts as tap events, from a proxy (TapEvents) or relayed by another
 * replica, and the one form it hands to watchers (TapEventView). Proxies are not trusted to
 * have applied the tap rules: a malformed message is refused whole with the first bad field
 * named; credentials and mesh headers are redacted again; the reporting proxy's own side is
 * overwritten with the identity its stream's Hello established, so it cannot speak for others.
 */

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const name = text(TAP_LIMITS.name);
const count = z.number().int("must be an integer").min(0, "must not be negative");

const HeadersSchema = z
  .custom<Record<string, string>>((v) => typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length <= TAP_LIMITS.headers, { message: `must be a map of at most ${TAP_LIMITS.headers} headers` })
  .pipe(z.record(text(TAP_LIMITS.headerName), text(TAP_LIMITS.headerValue)));

/** The fields every tap event has, as a proxy sends them (TapEvent without tap_ids). */
const TapEventFieldsSchema = z.object({
  direction: z.union([z.literal(Direction.DIRECTION_OUTBOUND), z.literal(Direction.DIRECTION_INBOUND)], { message: "must be OUTBOUND (1) or INBOUND (2)" }),
  startUnixMs: z.number().min(0, "must not be negative"),
  durationMs: z.number().min(0, "must not be negative"),
  sourceWorkload: name,
  sourceNamespace: name,
  destinationService: name,
  destinationNamespace: name,
  destinationWorkload: name,
  method: text(32),
  authority: name,
  path: text(TAP_LIMITS.path).refine((p) => !p.includes("?") && !p.includes("#"), "must not carry a query string or fragment (they can hold tokens)"),
  status: count.max(999, "must be at most 999"),
  grpcStatus: text(16),
  responseFlags: text(64),
  route: name,
  mtls: z.boolean(),
  requestBytes: count,
  responseBytes: count,
  requestHeaders: HeadersSchema,
  traceId: z.string().regex(/^(?:[0-9a-f]{32})?$/, "must be 32 lower-case hex digits or empty"),
});

/** One event from a proxy. */
export const TapEventSchema = TapEventFieldsSchema.extend({
  tapIds: z.array(text(TAP_LIMITS.tapId).min(1, "must not be empty")).min(1, "must name at least one tap").max(TAP_LIMITS.tapIdsPerEvent, `must name at most ${TAP_LIMITS.tapIdsPerEvent} taps`),
});

/** One event as watchers see it: the direction spelled out, and which proxy reported it. */
export const TapEventViewSchema = TapEventFieldsSchema.extend({
  direction: z.enum(["outbound", "inbound"]),
  /** `namespace/workload` of the proxy that saw the request. */
  reporter: name,
});
export type TapEventView = z.infer<typeof TapEventViewSchema>;

/** Why a TapEvents message is refused (naming the field: `events[3].path: …`), or undefined. */
export function tapEventsProblem(events: readonly unknown[]): string | undefined {
  if (events.length === 0) return "events: empty; send TapEvents only when there are events";
  if (events.length > TAP_LIMITS.eventsPerMessage) return `events: ${events.length} in one message (at most ${TAP_LIMITS.eventsPerMessage}); send the rest in the next`;
  for (let i = 0; i < events.length; i++) {
    const r = TapEventSchema.safeParse(events[i]);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      return `${formatPath(["events", i, ...issue.path])}: ${issue.message}`;
    }
  }
  return undefined;
}

/**
 * The event a watcher sees: the reporting side overwritten with the sender's identity
 * (outbound: the caller; inbound: the destination), credentials redacted, `x-trellis-*` left
 * out. Call only on events tapEventsProblem accepted.
 */
export function viewOf(e: TapEvent, sender: TelemetrySender): TapEventView {
  const outbound = e.direction === Direction.DIRECTION_OUTBOUND;
  return {
    direction: outbound ? "outbound" : "inbound",
    reporter: sender.proxyId,
    startUnixMs: e.startUnixMs,
    durationMs: e.durationMs,
    sourceWorkload: outbound ? sender.workload : e.sourceWorkload,
    sourceNamespace: outbound ? sender.namespace : e.sourceNamespace,
    destinationService: outbound ? e.destinationService : sender.service,
    destinationNamespace: outbound ? e.destinationNamespace : sender.namespace,
    destinationWorkload: outbound ? e.destinationWorkload : sender.workload,
    method: e.method,
    authority: e.authority,
    path: e.path,
    status: e.status,
    grpcStatus: e.grpcStatus,
    responseFlags: e.responseFlags,
    route: e.route,
    mtls: e.mtls,
    requestBytes: e.requestBytes,
    responseBytes: e.responseBytes,
    requestHeaders: safeHeaders(e.requestHeaders),
    traceId: e.traceId,
  };
}

/** Headers with the tap rules applied again (a proxy that missed one does not leak it). */
export function safeHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const lower = k.toLowerCase();
    if (lower.startsWith(TAP_HIDDEN_HEADER_PREFIX) || lower === "__proto__") continue;
    out[lower] = isCredentialHeader(lower) ? TAP_REDACTED : v;
  }
  return out;
}

