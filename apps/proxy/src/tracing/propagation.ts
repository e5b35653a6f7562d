import type { Headers } from "../core/types";
import { formatB3Single, formatTraceparent, b3TraceId, parseB3Multi, parseB3Single, parseTraceparent } from "./trace-context";
import type { Parsed } from "./trace-context";

/**
 * Which trace context formats a request carried, and the context read from them. The proxy
 * answers in the same formats (so a B3-only app still finds its B3 headers) plus
 * `traceparent` always, rewritten with its own span as the parent.
 */

/** Bit set of formats. */
export const W3C = 1;
export const B3_SINGLE = 2;
export const B3_MULTI = 4;

export interface Extracted {
  /** Formats whose headers were present, valid or not (a malformed one is overwritten on the way out). */
  formats: number;
  /** The first valid context, W3C before B3 single before B3 multi; undefined when none parsed. */
  parsed: Parsed | undefined;
  /** Whether the context came from a valid `traceparent` (then `tracestate` belongs to it). */
  fromW3C: boolean;
}

/**
 * Reads the trace context of a request. Undefined when no trace header is present at all —
 * the common case outside a traced call chain, answered with five property reads.
 */
export function extract(h: Headers): Extracted | undefined {
  const tp = h["traceparent"];
  const b3 = h["b3"];
  const xTrace = h["x-b3-traceid"];
  const xSampled = h["x-b3-sampled"];
  const xFlags = h["x-b3-flags"];
  if (tp === undefined && b3 === undefined && xTrace === undefined && xSampled === undefined && xFlags === undefined) return undefined;
  let formats = 0;
  let parsed: Parsed | undefined;
  let fromW3C = false;
  if (tp !== undefined) {
    formats |= W3C;
    parsed = parseTraceparent(tp);
    fromW3C = parsed !== undefined;
  }
  if (b3 !== undefined) {
    formats |= B3_SINGLE;
    parsed ??= parseB3Single(b3);
  }
  if (xTrace !== undefined || xSampled !== undefined || xFlags !== undefined || h["x-b3-spanid"] !== undefined) {
    formats |= B3_MULTI;
    parsed ??= parseB3Multi(xTrace, h["x-b3-spanid"], xSampled, xFlags);
  }
  return { formats, parsed, fromW3C };
}

/** The position written into the upstream request's headers. */
export interface Outgoing {
  traceId: string;
  /** The span the upstream's work is a child of: this proxy's span, or the caller's when not sampled. */
  spanId: string;
  /** B3 carries the parent of `spanId` too. */
  parentSpanId: string | undefined;
  sampled: boolean;
  debug: boolean;
}

/** Writes `out` in every format of `formats` (mutating the request's own header copy). */
export function inject(h: Headers, out: Outgoing, formats: number): void {
  if (formats & W3C) h["traceparent"] = formatTraceparent(out.traceId, out.spanId, out.sampled);
  if (formats & B3_SINGLE) h["b3"] = formatB3Single(out.traceId, out.spanId, out.sampled, out.debug, out.parentSpanId);
  if (formats & B3_MULTI) {
    h["x-b3-traceid"] = b3TraceId(out.traceId);
    h["x-b3-spanid"] = out.spanId;
    if (out.parentSpanId !== undefined) h["x-b3-parentspanid"] = out.parentSpanId;
    else delete h["x-b3-parentspanid"];
    // B3: debug implies sampled, and x-b3-sampled is not sent with it.
    if (out.debug) {
      h["x-b3-flags"] = "1";
      delete h["x-b3-sampled"];
    } else {
      h["x-b3-sampled"] = out.sampled ? "1" : "0";
      delete h["x-b3-flags"];
    }
  }
}
