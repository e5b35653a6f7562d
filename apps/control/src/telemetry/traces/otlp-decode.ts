import { createRequire } from "node:module";
import type { AttributeValue, SpanEvent, SpanRow } from "./span-row";

/**
 * OTLP/HTTP trace payloads (ExportTraceServiceRequest) into SpanRows. Protobuf is decoded by
 * the message types OpenTelemetry JS generated from the official opentelemetry-proto files
 * (shipped inside @opentelemetry/otlp-transformer); JSON follows the OTLP/JSON mapping (ids
 * as hex, 64-bit integers as strings or numbers, enums as numbers). Both then go through
 * one checker that names the first bad field: `resourceSpans[0].scopeSpans[0].spans[3].traceId:
 * must be 16 bytes`. A payload is taken whole or refused whole.
 *
 * What is kept is bounded, so one sender cannot make rows of any size: at most 128
 * attributes and 128 events per span, strings cut at 4096 characters, names at 1024.
 */

/** A payload that is not a valid OTLP trace export; the message names the cause. */
export class OtlpPayloadError extends Error {
  readonly code = "TRELLIS_OTLP_MALFORMED";
  override get name(): string {
    return "OtlpPayloadError";
  }
}

interface MessageType {
  decode(data: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}

// The generated protobufjs module is CommonJS and not in the package's public exports map
// (it has none): load it by path. It registers the opentelemetry.proto.* types.
const generated = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: MessageType } } } } };
};
const ExportTraceServiceRequest = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export function decodeProtobuf(body: Uint8Array): SpanRow[] {
  let message: unknown;
  try {
    message = ExportTraceServiceRequest.decode(body);
  } catch (err) {
    throw new OtlpPayloadError(`not an OTLP ExportTraceServiceRequest in protobuf: ${(err as Error).message}`);
  }
  // bytes as base64 and 64-bit integers as decimal strings: plain values the checker reads like JSON.
  return toRows(ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, enums: Number, defaults: false, arrays: true }), "base64");
}

export function decodeJson(body: Uint8Array): SpanRow[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    throw new OtlpPayloadError(`not JSON: ${(err as Error).message}`);
  }
  return toRows(value, "hex");
}

const MAX_ATTRIBUTES = 128;
const MAX_EVENTS = 128;
const MAX_STRING = 4096;
const MAX_NAME = 1024;
const MAX_DEPTH = 8;

type IdEncoding = "hex" | "base64";

function fail(path: string, message: string): never {
  throw new OtlpPayloadError(`${path}: ${message}`);
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path || "(payload)", "must be an object");
  return v as Record<string, unknown>;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, "must be an array");
  return v;
}

function optionalString(v: unknown, path: string, max = MAX_STRING): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") fail(path, "must be a string");
  return v.length > max ? v.slice(0, max) : v;
}

function toRows(payload: unknown, ids: IdEncoding): SpanRow[] {
  const rows: SpanRow[] = [];
  list(object(payload, "").resourceSpans, "resourceSpans").forEach((rs, i) => {
    const rsPath = `resourceSpans[${i}]`;
    const r = object(rs, rsPath);
    const resource = attributes(r.resource === undefined ? [] : object(r.resource, `${rsPath}.resource`).attributes, `${rsPath}.resource.attributes`, 0);
    const str = (k: string) => (typeof resource[k] === "string" && resource[k] !== "" ? (resource[k] as string) : null);
    const origin = { service: str("service.name") ?? "unknown", namespace: str("service.namespace"), instance: str("service.instance.id"), resource };
    list(r.scopeSpans, `${rsPath}.scopeSpans`).forEach((ss, j) => {
      const ssPath = `${rsPath}.scopeSpans[${j}]`;
      list(object(ss, ssPath).spans, `${ssPath}.spans`).forEach((s, k) => rows.push({ ...origin, ...span(s, `${ssPath}.spans[${k}]`, ids) }));
    });
  });
  return rows;
}

function span(v: unknown, path: string, ids: IdEncoding): Omit<SpanRow, "service" | "namespace" | "instance" | "resource"> {
  const s = object(v, path);
  const traceId = id(s.traceId, 16, `${path}.traceId`, ids);
  const spanId = id(s.spanId, 8, `${path}.spanId`, ids);
  // An all-zero parent is "no parent" to some senders; a missing one is a root.
  const parent = id(s.parentSpanId, 8, `${path}.parentSpanId`, ids, true) ?? null;
  if (traceId === undefined) fail(`${path}.traceId`, "is required");
  if (spanId === undefined) fail(`${path}.spanId`, "is required");
  const start = nanos(s.startTimeUnixNano, `${path}.startTimeUnixNano`);
  const end = nanos(s.endTimeUnixNano, `${path}.endTimeUnixNano`);
  if (start === 0n) fail(`${path}.startTimeUnixNano`, "is required");
  if (end < start) fail(`${path}.endTimeUnixNano`, "is before startTimeUnixNano");
  const kind = s.kind ?? 0;
  if (typeof kind !== "number" || !Number.isInteger(kind) || kind < 0 || kind > 5) fail(`${path}.kind`, "must be a SpanKind number, 0 to 5");
  const status = s.status === undefined || s.status === null ? {} : object(s.status, `${path}.status`);
  const code = status.code ?? 0;
  if (code !== 0 && code !== 1 && code !== 2) fail(`${path}.status.code`, "must be 0 (unset), 1 (ok) or 2 (error)");
  const events = list(s.events, `${path}.events`).slice(0, MAX_EVENTS).map((e, n): SpanEvent => {
    const ev = object(e, `${path}.events[${n}]`);
    return { name: optionalString(ev.name, `${path}.events[${n}].name`, MAX_NAME) ?? "", timeUs: micros(nanos(ev.timeUnixNano, `${path}.events[${n}].timeUnixNano`)), attributes: attributes(ev.attributes, `${path}.events[${n}].attributes`, 0) };
  });
  return {
    traceId,
    spanId,
    parentSpanId: parent,
    name: optionalString(s.name, `${path}.name`, MAX_NAME) ?? "",
    kind,
    startUs: micros(start),
    durationMs: Number(end - start) / 1e6,
    error: code === 2,
    statusMessage: optionalString(status.message, `${path}.status.message`) || null,
    attributes: attributes(s.attributes, `${path}.attributes`, 0),
    events: events.length ? events : null,
  };
}

const HEX = /^[0-9a-fA-F]*$/;

/** An id of `bytes` bytes as lower-case hex; all zeros is invalid (W3C), or undefined with `zeroIsNone`. */
function id(v: unknown, bytes: number, path: string, ids: IdEncoding, zeroIsNone = false): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") fail(path, `must be a ${ids === "hex" ? "hex" : "bytes"} string`);
  let hex: string;
  if (ids === "hex") {
    if (v.length !== bytes * 2 || !HEX.test(v)) fail(path, `must be ${bytes * 2} hex digits (OTLP/JSON encodes ids as hex)`);
    hex = v.toLowerCase();
  } else {
    hex = Buffer.from(v, "base64").toString("hex");
    if (hex.length !== bytes * 2) fail(path, `must be ${bytes} bytes, got ${hex.length / 2}`);
  }
  if (/^0+$/.test(hex)) return zeroIsNone ? undefined : fail(path, "must not be all zeros");
  return hex;
}

/** Nanoseconds to the nearest microsecond (what the store keeps). */
function micros(ns: bigint): number {
  return Number((ns + 500n) / 1000n);
}

/** A fixed64 of nanoseconds: a decimal string or, in JSON, a number. */
function nanos(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt(v);
  fail(path, "must be nanoseconds since the epoch, as a decimal string or an integer");
}

function attributes(v: unknown, path: string, depth: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  let n = 0;
  for (const [i, kv] of list(v, path).entries()) {
    if (n >= MAX_ATTRIBUTES) break;
    const o = object(kv, `${path}[${i}]`);
    const key = optionalString(o.key, `${path}[${i}].key`, 256);
    if (key === undefined) fail(`${path}[${i}].key`, "is required");
    out[key] = anyValue(o.value, `${path}[${i}].value`, depth);
    n++;
  }
  return out;
}

/** An OTLP AnyValue: exactly one of its fields, or none (an empty value). */
function anyValue(v: unknown, path: string, depth: number): AttributeValue {
  if (v === undefined || v === null) return null;
  if (depth >= MAX_DEPTH) fail(path, `nests deeper than ${MAX_DEPTH} levels`);
  const o = object(v, path);
  if (o.stringValue !== undefined) return optionalString(o.stringValue, `${path}.stringValue`) ?? "";
  if (o.boolValue !== undefined) {
    if (typeof o.boolValue !== "boolean") fail(`${path}.boolValue`, "must be true or false");
    return o.boolValue;
  }
  if (o.intValue !== undefined) {
    const x = o.intValue;
    if (typeof x === "number" && Number.isInteger(x)) return x;
    if (typeof x !== "string" || !/^-?\d{1,20}$/.test(x)) fail(`${path}.intValue`, "must be an integer");
    const n = Number(x);
    return Number.isSafeInteger(n) ? n : x;
  }
  if (o.doubleValue !== undefined) {
    const x = o.doubleValue;
    if (typeof x === "number") return x;
    if (x === "NaN" || x === "Infinity" || x === "-Infinity") return x;
    fail(`${path}.doubleValue`, "must be a number");
  }
  if (o.bytesValue !== undefined) return optionalString(o.bytesValue, `${path}.bytesValue`) ?? "";
  if (o.arrayValue !== undefined) {
    const values = list(object(o.arrayValue, `${path}.arrayValue`).values, `${path}.arrayValue.values`);
    return values.slice(0, MAX_ATTRIBUTES).map((x, i) => anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1));
  }
  if (o.kvlistValue !== undefined) return attributes(object(o.kvlistValue, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`, depth + 1);
  return null;
}
