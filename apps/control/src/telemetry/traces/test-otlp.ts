import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";

/**
 * Test helper: OTLP export bodies made by OpenTelemetry JS's own serializers (what its
 * exporters send), from spans described briefly.
 */
export interface TestSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name?: string;
  service?: string;
  /** API SpanKind: 0 internal, 1 server, 2 client. */
  kind?: number;
  /** Start, epoch ms (fractions allowed). */
  startMs: number;
  durationMs: number;
  error?: boolean;
  attributes?: Record<string, string | number | boolean | string[]>;
}

const resources = new Map<string, { attributes: Record<string, string>; schemaUrl?: string }>();

function readable(s: TestSpan) {
  const service = s.service ?? "svc";
  let resource = resources.get(service);
  if (!resource) resources.set(service, (resource = { attributes: { "service.name": service, "service.namespace": "default", "service.instance.id": `${service}-1` } }));
  const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
  return {
    name: s.name ?? "op",
    kind: s.kind ?? 1,
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: 1 }),
    parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1, isRemote: true } : undefined,
    startTime: hr(s.startMs),
    endTime: hr(s.startMs + s.durationMs),
    duration: hr(s.durationMs),
    status: s.error ? { code: 2, message: "boom" } : { code: 0 },
    attributes: s.attributes ?? {},
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: "test" },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function otlpProtobuf(spans: TestSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(spans.map(readable) as never)!;
}

export function otlpJson(spans: TestSpan[]): Uint8Array {
  return JsonTraceSerializer.serializeRequest(spans.map(readable) as never)!;
}
