import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { createLogger } from "../../log";
import { OtlpReceiver } from "./otlp-receiver";
import type { SpanRow } from "./span-row";
import { otlpJson, otlpProtobuf } from "./test-otlp";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const spans = [{ traceId: TRACE, spanId: "b7ad6b7169203331", startMs: 1_763_744_400_000, durationMs: 5 }];
const MAX = 64 * 1024;

describe("OtlpReceiver on a real HTTP server", () => {
  const stored: SpanRow[][] = [];
  let failStore = false;
  const receiver = new OtlpReceiver({
    store: {
      insert: async (rows) => {
        if (failStore) throw new Error("database unavailable");
        stored.push([...rows]);
      },
    },
    maxBodyBytes: MAX,
    log: createLogger("error"),
  });
  const server = http.createServer((req, res) => receiver.handle(req, res));
  let url = "";
  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const post = (body: Uint8Array | string, headers: Record<string, string>) => fetch(url, { method: "POST", body, headers });

  test("protobuf: 200, an empty ExportTraceServiceResponse, spans stored", async () => {
    const res = await post(otlpProtobuf(spans), { "content-type": "application/x-protobuf" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-protobuf");
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    assert.equal(stored.at(-1)?.[0]?.traceId, TRACE);
  });

  test("JSON (with a charset), and gzip-encoded protobuf, are accepted too", async () => {
    const json = await post(otlpJson(spans), { "content-type": "application/json; charset=utf-8" });
    assert.equal(json.status, 200);
    assert.equal(await json.text(), "{}");
    const gz = await post(gzipSync(otlpProtobuf(spans)), { "content-type": "application/x-protobuf", "content-encoding": "gzip" });
    assert.equal(gz.status, 200);
    assert.equal(receiver.stats.spansAccepted, 3);
  });

  test("garbage is 400 with a message naming the cause, and counted", async () => {
    const before = receiver.stats.refused.malformed;
    const res = await post("this is not protobuf at all", { "content-type": "application/x-protobuf" });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /^malformed OTLP trace export \(protobuf\): not an OTLP ExportTraceServiceRequest in protobuf: /);
    const bad = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "xyz" }] }] }] }), { "content-type": "application/json" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: must be 32 hex digits/);
    assert.equal(receiver.stats.refused.malformed, before + 2);
    assert.match(receiver.stats.lastRefusal?.reason ?? "", /traceId/);
  });

  test("too big is 413, by Content-Length, while streaming, or once gunzipped", async () => {
    const big = new Uint8Array(MAX + 1);
    const declared = await post(big, { "content-type": "application/x-protobuf" });
    assert.equal(declared.status, 413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: "POST", headers: { "content-type": "application/x-protobuf", "transfer-encoding": "chunked" } }, (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(MAX / 2));
      req.end();
    });
    assert.equal(streamed, 413);
    const bomb = gzipSync(Buffer.alloc(MAX * 10));
    assert.ok(bomb.length < MAX);
    const inflated = await post(bomb, { "content-type": "application/x-protobuf", "content-encoding": "gzip" });
    assert.equal(inflated.status, 413);
    assert.equal(receiver.stats.refused.tooLarge, 3);
  });

  test("other content types, encodings and methods are refused", async () => {
    assert.equal((await post("x", { "content-type": "text/plain" })).status, 415);
    assert.equal((await post("x", { "content-type": "application/json", "content-encoding": "br" })).status, 415);
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.deepEqual({ ...receiver.stats.refused, malformed: 0, tooLarge: 0 }, { malformed: 0, tooLarge: 0, unsupportedMediaType: 2, methodNotAllowed: 1, storeFailed: 0 });
  });

  test("a store failure is 503, which OTLP exporters retry", async () => {
    failStore = true;
    try {
      assert.equal((await post(otlpProtobuf(spans), { "content-type": "application/x-protobuf" })).status, 503);
    } finally {
      failStore = false;
    }
    assert.equal(receiver.stats.refused.storeFailed, 1);
  });
});
