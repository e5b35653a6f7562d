/**
 * A span as the control plane stores and serves it, whatever OTLP encoding it came in:
 * ids as lower-case hex, times in microseconds since the epoch, attributes as plain JSON.
 */
export interface SpanRow {
  traceId: string;
  spanId: string;
  /** Null for a root span. */
  parentSpanId: string | null;
  /** Resource `service.name`; `unknown` when absent. */
  service: string;
  /** Resource `service.namespace`. */
  namespace: string | null;
  /** Resource `service.instance.id`. */
  instance: string | null;
  /** The span name (the operation). */
  name: string;
  /** OTLP SpanKind, 0–5. */
  kind: number;
  /** Microseconds since the Unix epoch. */
  startUs: number;
  durationMs: number;
  /** Status code ERROR. */
  error: boolean;
  statusMessage: string | null;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  /** Null when the span has none. */
  events: SpanEvent[] | null;
}

/** An OTLP AnyValue as JSON (bytes as base64, 64-bit integers beyond 2^53 as strings). */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export interface SpanEvent {
  name: string;
  timeUs: number;
  attributes: Record<string, AttributeValue>;
}

/** OTLP SpanKind names, by number. */
export const SPAN_KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
