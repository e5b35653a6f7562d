import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { RequestContext } from "../core/context";
import type { Headers } from "../core/types";
import { PRODUCTPAGE, routedContext } from "../telemetry/test-context";
import { Sampler } from "./sampler";
import { startSpan, Tracer } from "./tracer";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

const ctx = () => new RequestContext("outbound", "http", new AbortController().signal, "127.0.0.1:5000", PRODUCTPAGE);
const always = new Sampler(100);
const never = new Sampler(0);

/** traceparent's fields after startSpan. */
function tp(h: Headers): { traceId: string; spanId: string; flags: string } {
  const m = TP.exec(String(h["traceparent"]));
  assert.ok(m, `traceparent ${String(h["traceparent"])}`);
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

describe("startSpan", () => {
  test("no trace headers and a rate of 0: nothing changes, nothing is recorded", () => {
    const h: Headers = { accept: "*/*" };
    const c = ctx();
    startSpan(never, h, c);
    assert.deepEqual(h, { accept: "*/*" });
    assert.equal(c.span, undefined);
  });

  test("no trace headers, sampled: a new trace whose root is this proxy's span", () => {
    const h: Headers = {};
    const c = ctx();
    startSpan(always, h, c);
    assert.ok(c.span);
    assert.equal(c.span.parentSpanId, undefined);
    assert.deepEqual(tp(h), { traceId: c.span.traceId, spanId: c.span.spanId, flags: "01" });
    assert.equal(h["b3"], undefined, "only the formats that came, plus traceparent");
  });

  test("no trace headers, not sampled by the dice: the decision goes downstream, unsampled", () => {
    const h: Headers = {};
    const c = ctx();
    startSpan(new Sampler(50, () => 0.9), h, c);
    assert.equal(c.span, undefined);
    assert.equal(tp(h).flags, "00");
  });

  test("a sampled traceparent is continued: same trace, parent = the caller's span, tracestate kept", () => {
    const h: Headers = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "vendor=x" };
    const c = ctx();
    startSpan(never, h, c);
    assert.deepEqual({ ...c.span, spanId: undefined }, { traceId: TRACE, spanId: undefined, parentSpanId: SPAN, traceState: "vendor=x" });
    assert.deepEqual(tp(h), { traceId: TRACE, spanId: c.span!.spanId, flags: "01" });
    assert.notEqual(c.span!.spanId, SPAN);
    assert.equal(h["tracestate"], "vendor=x", "tracestate passes through");
  });

  test("an unsampled traceparent is followed and left alone", () => {
    const h: Headers = { traceparent: `00-${TRACE}-${SPAN}-00` };
    const c = ctx();
    startSpan(always, h, c);
    assert.equal(c.span, undefined);
    assert.equal(h["traceparent"], `00-${TRACE}-${SPAN}-00`);
  });

  test("B3 single is continued and answered in B3 single plus traceparent", () => {
    const h: Headers = { b3: `${TRACE}-${SPAN}-1` };
    const c = ctx();
    startSpan(never, h, c);
    assert.equal(c.span?.parentSpanId, SPAN);
    assert.equal(h["b3"], `${TRACE}-${c.span!.spanId}-1-${SPAN}`);
    assert.deepEqual(tp(h), { traceId: TRACE, spanId: c.span!.spanId, flags: "01" });
  });

  test("B3 multi with a 64-bit id and debug is continued in B3 multi, 64-bit, debug kept", () => {
    const h: Headers = { "x-b3-traceid": "e457b5a2e4d86bd1", "x-b3-spanid": SPAN, "x-b3-flags": "1" };
    const c = ctx();
    startSpan(never, h, c);
    assert.equal(c.span?.traceId, "0000000000000000e457b5a2e4d86bd1");
    assert.deepEqual(
      { t: h["x-b3-traceid"], s: h["x-b3-spanid"], p: h["x-b3-parentspanid"], f: h["x-b3-flags"], sampled: h["x-b3-sampled"] },
      { t: "e457b5a2e4d86bd1", s: c.span!.spanId, p: SPAN, f: "1", sampled: undefined },
    );
    assert.equal(tp(h).traceId, "0000000000000000e457b5a2e4d86bd1");
  });

  test("B3 without a sampling state is decided at this Service's rate", () => {
    const sampled = { "x-b3-traceid": TRACE, "x-b3-spanid": SPAN } as Headers;
    startSpan(always, sampled, ctx());
    assert.equal(sampled["x-b3-sampled"], "1");
    const dropped = { "x-b3-traceid": TRACE, "x-b3-spanid": SPAN } as Headers;
    startSpan(never, dropped, ctx());
    assert.equal(tp(dropped).flags, "00", "traceparent is added with the decision");
    assert.equal(dropped["x-b3-spanid"], SPAN, "valid B3 is left as it came");
  });

  test("a malformed traceparent starts a new trace and is overwritten", () => {
    const h: Headers = { traceparent: "00-not-a-trace-01" };
    const c = ctx();
    startSpan(always, h, c);
    assert.ok(c.span);
    assert.equal(c.span.parentSpanId, undefined);
    assert.equal(tp(h).traceId, c.span.traceId);
  });

  test("garbage in every format never throws and always leaves a valid traceparent", () => {
    const junk = ["", "-", "--", "0", "1", "d", "zz", "00-", "ff-ff-ff-ff", "\u0000", "🙂", "a".repeat(600), "0".repeat(32), `${TRACE}-${SPAN}-1-`, `${TRACE}--1`];
    for (const [i, a] of junk.entries()) {
      const b = junk[(i * 7 + 3) % junk.length]!;
      for (const sampler of [always, never]) {
        const h: Headers = { traceparent: a, b3: b, "x-b3-traceid": b, "x-b3-spanid": a, "x-b3-sampled": a, "x-b3-flags": b };
        const c = ctx();
        assert.doesNotThrow(() => startSpan(sampler, h, c));
        if (c.span || sampler === never) assert.match(String(h["traceparent"]), TP);
      }
    }
  });
});

/** An exporter that keeps what it is given. */
function memoryExporter(): SpanExporter & { spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  return {
    spans,
    export: (batch, done) => {
      spans.push(...batch);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
}

describe("Tracer", () => {
  test("the layer opens the span, end() exports it once with the proxy's resource", async () => {
    const exporter = memoryExporter();
    const tracer = new Tracer({ self: PRODUCTPAGE, exporter, proxyVersion: "trellis-proxy/test" });
    const c = routedContext("outbound");
    const req = { method: "GET", path: "/reviews/1?token=secret", authority: "reviews:9080", headers: { traceparent: `00-${TRACE}-${SPAN}-01` } as Headers, body: undefined as never };
    const handler = tracer.layer(0)(async (r) => {
      assert.equal(tp(r.headers).traceId, TRACE, "the upstream sees the trace");
      return { status: 200, headers: {}, body: null, trailers: () => undefined };
    });
    await handler(req, c, c.signal);
    tracer.end(c, req, { status: 200, durationMs: 12.5 });
    tracer.end(c, req, { status: 200, durationMs: 12.5 });
    await tracer.shutdown();
    assert.equal(exporter.spans.length, 1);
    const s = exporter.spans[0]!;
    assert.equal(s.spanContext().traceId, TRACE);
    assert.equal(s.parentSpanContext?.spanId, SPAN);
    assert.equal(s.resource.attributes["service.name"], "productpage");
    assert.equal(s.attributes["url.path"], "/reviews/1");
    assert.deepEqual(tracer.stats, { exported: 1, dropped: 0, failed: 0, queued: 0 });
  });
});
