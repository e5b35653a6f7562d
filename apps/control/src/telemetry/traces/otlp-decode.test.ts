import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeJson, decodeProtobuf, OtlpPayloadError } from "./otlp-decode";
import { otlpJson, otlpProtobuf } from "./test-otlp";
import type { TestSpan } from "./test-otlp";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const spans: TestSpan[] = [
  { traceId: TRACE, spanId: "b7ad6b7169203331", name: "reviews.default:9080/*", service: "productpage", kind: 2, startMs: 1_763_744_400_123.456, durationMs: 12.5, attributes: { "http.request.method": "GET", "http.response.status_code": 200, "trellis.route": "default", ok: true, list: ["a", "b"] } },
  { traceId: TRACE, spanId: "00f067aa0ba902b7", parentSpanId: "b7ad6b7169203331", name: "reviews.default:9080/*", service: "reviews", kind: 1, startMs: 1_763_744_400_124, durationMs: 10, error: true },
];

const bytes = (s: string) => new TextEncoder().encode(s);

/** The OtlpPayloadError message of a decode that must fail. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof OtlpPayloadError, `expected OtlpPayloadError, got ${String(err)}`);
    assert.equal(err.code, "TRELLIS_OTLP_MALFORMED");
    return err.message;
  }
  assert.fail("expected the payload to be refused");
}

describe("OTLP decoding", () => {
  test("protobuf from OpenTelemetry's exporter encoding becomes rows", () => {
    const rows = decodeProtobuf(otlpProtobuf(spans));
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      service: "productpage",
      namespace: "default",
      instance: "productpage-1",
      resource: { "service.name": "productpage", "service.namespace": "default", "service.instance.id": "productpage-1" },
      traceId: TRACE,
      spanId: "b7ad6b7169203331",
      parentSpanId: null,
      name: "reviews.default:9080/*",
      kind: 3,
      startUs: 1_763_744_400_123_456,
      durationMs: 12.5,
      error: false,
      statusMessage: null,
      attributes: { "http.request.method": "GET", "http.response.status_code": 200, "trellis.route": "default", ok: true, list: ["a", "b"] },
      events: null,
    });
    assert.equal(rows[1]?.parentSpanId, "b7ad6b7169203331");
    assert.equal(rows[1]?.kind, 2, "server");
    assert.equal(rows[1]?.error, true);
    assert.equal(rows[1]?.statusMessage, "boom");
  });

  test("JSON gives the same rows as protobuf", () => {
    assert.deepEqual(decodeJson(otlpJson(spans)), decodeProtobuf(otlpProtobuf(spans)));
  });

  test("an empty export is valid and has no spans", () => {
    assert.deepEqual(decodeProtobuf(new Uint8Array()), []);
    assert.deepEqual(decodeJson(bytes("{}")), []);
  });

  test("garbage is refused with the decoder's reason", () => {
    assert.match(refusal(() => decodeProtobuf(bytes("this is not protobuf at all"))), /^not an OTLP ExportTraceServiceRequest in protobuf: /);
    assert.match(refusal(() => decodeProtobuf(Uint8Array.from([0x0a, 0xff, 0xff, 0x01]))), /protobuf: index out of range/);
    assert.match(refusal(() => decodeJson(bytes("{not json"))), /^not JSON: /);
    assert.match(refusal(() => decodeJson(bytes("[1,2]"))), /^\(payload\): must be an object/);
  });

  test("a bad field is named by its path", () => {
    const json = JSON.parse(new TextDecoder().decode(otlpJson(spans))) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
    const mutate = (f: (s: Record<string, unknown>) => void) => {
      const copy = structuredClone(json);
      f(copy.resourceSpans[1]!.scopeSpans[0]!.spans[0]!);
      return bytes(JSON.stringify(copy));
    };
    assert.equal(refusal(() => decodeJson(mutate((s) => (s.traceId = "abc")))), "resourceSpans[1].scopeSpans[0].spans[0].traceId: must be 32 hex digits (OTLP/JSON encodes ids as hex)");
    assert.match(refusal(() => decodeJson(mutate((s) => (s.traceId = "0".repeat(32))))), /traceId: must not be all zeros/);
    assert.match(refusal(() => decodeJson(mutate((s) => delete s.spanId))), /spanId: is required/);
    assert.match(refusal(() => decodeJson(mutate((s) => (s.endTimeUnixNano = "1")))), /endTimeUnixNano: is before startTimeUnixNano/);
    assert.match(refusal(() => decodeJson(mutate((s) => (s.startTimeUnixNano = "soon")))), /startTimeUnixNano: must be nanoseconds/);
    assert.match(refusal(() => decodeJson(mutate((s) => (s.kind = 9)))), /kind: must be a SpanKind number, 0 to 5/);
    assert.match(refusal(() => decodeJson(mutate((s) => (s.attributes = [{ key: "x", value: { intValue: "1.5" } }])))), /attributes\[0\]\.value\.intValue: must be an integer/);
    assert.match(refusal(() => decodeJson(mutate((s) => (s.status = { code: 7 })))), /status\.code: must be 0 \(unset\), 1 \(ok\) or 2 \(error\)/);
  });

  test("one sender cannot make rows of any size: attributes, strings and nesting are bounded", () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, "v".repeat(10_000)]));
    const [row] = decodeProtobuf(otlpProtobuf([{ ...spans[0]!, attributes: many }]));
    assert.equal(Object.keys(row!.attributes).length, 128);
    assert.equal((row!.attributes["k0"] as string).length, 4096);
    let deep: unknown = { stringValue: "x" };
    for (let i = 0; i < 20; i++) deep = { arrayValue: { values: [deep] } };
    const payload = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: "b7ad6b7169203331", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: [{ key: "deep", value: deep }] }] }] }] };
    assert.match(refusal(() => decodeJson(bytes(JSON.stringify(payload)))), /nests deeper than 8 levels/);
  });
});
