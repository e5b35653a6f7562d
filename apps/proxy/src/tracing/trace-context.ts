/**
 * The trace context headers the proxy understands, parsed and written without allocating
 * more than the result: W3C Trace Context (`traceparent`), B3 single (`b3`) and B3 multi
 * (`x-b3-*`). Parsers never throw: anything malformed is undefined, and the caller then
 * starts a new trace as if no header had come (W3C's rule for an unparseable traceparent).
 */

/** What a caller passed on: the span it made the request in, and its sampling decision. */
export interface IncomingContext {
  /** 32 lower-case hex digits; a 64-bit B3 id is left-padded with zeros (as OpenTelemetry does). */
  traceId: string;
  /** The caller's span: the parent of the span this proxy records. */
  spanId: string;
  /** The caller's decision; undefined when it deferred it (B3 without a sampling state). */
  sampled: boolean | undefined;
  /** B3 debug (`d`, `x-b3-flags: 1`): always sampled, and passed on as debug. */
  debug: boolean;
}

/** A sampling decision that came without ids (`b3: 0`, a lone `x-b3-sampled`). */
export interface DecisionOnly {
  traceId: undefined;
  spanId: undefined;
  sampled: boolean;
  debug: boolean;
}

export type Parsed = IncomingContext | DecisionOnly;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX16_OR_32 = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const ZERO32 = "00000000000000000000000000000000";
const ZERO16 = "0000000000000000";

/**
 * `version-traceid-parentid-flags`. Version ff is invalid; version 00 has exactly four fields;
 * a later version may append fields after a `-` (W3C: parse the four we know, keep going).
 * Upper-case hex and all-zero ids are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined): IncomingContext | undefined {
  if (typeof value !== "string" || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO32 || spanId === ZERO16) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, debug: false };
}

/**
 * B3 single: `{traceid}-{spanid}[-{sampling}[-{parentspanid}]]`, or a lone sampling state
 * (`0`, `1`, `d`). Sampling is `0`, `1` or `d` (debug).
 */
export function parseB3Single(value: string | string[] | undefined): Parsed | undefined {
  if (typeof value !== "string" || value.length > 512) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "0" || v === "1" || v === "d") return { traceId: undefined, spanId: undefined, sampled: v !== "0", debug: v === "d" };
  const parts = v.split("-");
  if (parts.length < 2 || parts.length > 4) return undefined;
  const [traceId, spanId, sampling, parent] = parts as [string, string, string | undefined, string | undefined];
  if (!HEX16_OR_32.test(traceId) || !HEX16.test(spanId)) return undefined;
  if (sampling !== undefined && sampling !== "0" && sampling !== "1" && sampling !== "d") return undefined;
  if (parent !== undefined && !HEX16.test(parent)) return undefined;
  return context(traceId, spanId, sampling === undefined ? undefined : sampling !== "0", sampling === "d");
}

/** B3 multi: `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled` (`1`/`0`, or `true`/`false` from old tracers), `x-b3-flags: 1` (debug). */
export function parseB3Multi(traceIdValue: string | string[] | undefined, spanIdValue: string | string[] | undefined, sampledValue: string | string[] | undefined, flagsValue: string | string[] | undefined): Parsed | undefined {
  const debug = typeof flagsValue === "string" && flagsValue.trim() === "1";
  let sampled: boolean | undefined;
  if (typeof sampledValue === "string") {
    const s = sampledValue.trim().toLowerCase();
    if (s === "1" || s === "true") sampled = true;
    else if (s === "0" || s === "false") sampled = false;
    else return undefined;
  } else if (sampledValue !== undefined) return undefined;
  if (traceIdValue === undefined && spanIdValue === undefined) {
    if (debug) return { traceId: undefined, spanId: undefined, sampled: true, debug: true };
    return sampled === undefined ? undefined : { traceId: undefined, spanId: undefined, sampled, debug: false };
  }
  if (typeof traceIdValue !== "string" || typeof spanIdValue !== "string") return undefined;
  const traceId = traceIdValue.trim().toLowerCase();
  const spanId = spanIdValue.trim().toLowerCase();
  if (!HEX16_OR_32.test(traceId) || !HEX16.test(spanId)) return undefined;
  return context(traceId, spanId, debug ? true : sampled, debug);
}

function context(traceId: string, spanId: string, sampled: boolean | undefined, debug: boolean): IncomingContext | undefined {
  const id = traceId.length === 16 ? ZERO16 + traceId : traceId;
  if (id === ZERO32 || spanId === ZERO16) return undefined;
  return { traceId: id, spanId, sampled: debug ? true : sampled, debug };
}

/** `00-{traceid}-{spanid}-{01|00}`. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** A trace id as B3 writes it: a 64-bit id that came in as one (padded with zeros) goes out as 16 digits again. */
export function b3TraceId(traceId: string): string {
  return traceId.startsWith(ZERO16) ? traceId.slice(16) : traceId;
}

/** `{traceid}-{spanid}-{1|0|d}[-{parentspanid}]`. */
export function formatB3Single(traceId: string, spanId: string, sampled: boolean, debug: boolean, parentSpanId: string | undefined): string {
  const state = debug ? "d" : sampled ? "1" : "0";
  return parentSpanId === undefined ? `${b3TraceId(traceId)}-${spanId}-${state}` : `${b3TraceId(traceId)}-${spanId}-${state}-${parentSpanId}`;
}
