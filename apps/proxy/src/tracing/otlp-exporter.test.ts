import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { routedContext } from "../telemetry/test-context";
import { createOtlpExporter } from "./otlp-exporter";
import { toReadableSpan } from "./span-record";

// The exporter against a real HTTP server on port 0; what it sends is decoded with the message
// types OpenTelemetry generated from opentelemetry-proto (the control plane's decoder uses them too).

interface Decoded {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ scope: { name: string }; spans: Array<{ name: string; traceId: string; spanId: string; parentSpanId: string; kind: number }> }>;
  }>;
}
const root = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): Decoded } } } } } };
};
const RequestType = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

describe("OTLP exporter", () => {
  test("sends spans as an OTLP protobuf export, retries a 503, and carries OTEL_EXPORTER_OTLP_HEADERS", async () => {
    const got: Array<{ contentType: string | undefined; tenant: string | undefined; body: Buffer }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        got.push({ contentType: req.headers["content-type"], tenant: req.headers["x-tenant"] as string | undefined, body: Buffer.concat(chunks) });
        res.writeHead(got.length === 1 ? 503 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;

    process.env.OTEL_EXPORTER_OTLP_HEADERS = "x-tenant=mesh-a";
    const exporter = createOtlpExporter(url);
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    after(() => exporter.shutdown());

    const origin = { resource: resourceFromAttributes({ "service.name": "productpage" }), scope: { name: "trellis-proxy" } };
    const span = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", parentSpanId: "00f067aa0ba902b7", traceState: undefined };
    const s = toReadableSpan(span, routedContext("outbound"), { method: "GET", path: "/reviews/1", authority: "reviews:9080" }, { status: 200, durationMs: 2 }, origin);
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export([s], resolve));

    assert.equal(result.code, 0, `export succeeded after the retry: ${result.error?.message ?? ""}`);
    assert.equal(got.length, 2, "the 503 was retried once");
    for (const g of got) {
      assert.equal(g.contentType, "application/x-protobuf");
      assert.equal(g.tenant, "mesh-a");
    }
    const decoded = RequestType.toObject(RequestType.decode(got[1]!.body), { bytes: String, enums: Number, longs: String });
    const rs = decoded.resourceSpans[0]!;
    assert.deepEqual(rs.resource.attributes.find((a) => a.key === "service.name")?.value, { stringValue: "productpage" });
    const scope = rs.scopeSpans[0]!;
    assert.equal(scope.scope.name, "trellis-proxy");
    const sent = scope.spans[0]!;
    assert.equal(sent.name, s.name);
    assert.equal(sent.kind, 3, "SPAN_KIND_CLIENT on the wire (the API's CLIENT = 2, plus one)");
    assert.equal(Buffer.from(sent.traceId, "base64").toString("hex"), span.traceId);
    assert.equal(Buffer.from(sent.parentSpanId, "base64").toString("hex"), span.parentSpanId);
  });
});
