import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TAP_LIMITS, TAP_REDACTED } from "@trellis/config";
import { Direction, TapEvents } from "@trellis/proto";
import type { TapFilter, TapSpec } from "@trellis/proto";
import { AccessLog } from "./access-log";
import { finishRequest } from "./finish-request";
import { ProxyMetrics } from "./metrics";
import { DEFAULT_TAP_TTL_MS, MAX_TAPS, TapRecorder } from "./tap-recorder";
import { routedContext } from "./test-context";

const open = { sourceWorkload: "", sourceNamespace: "", destinationService: "", destinationNamespace: "", pathPrefix: "", statusMin: 0, statusMax: 0 };
const spec = (id: string, over: Partial<Omit<TapSpec, "filter">> & { filter?: Partial<TapFilter> } = {}): TapSpec => ({ id, sampleRate: 1, maxPerSecond: 100, ttlMs: 10_000, ...over, filter: { ...open, ...over.filter } });
const req = (path = "/reviews/1", headers: Record<string, string | string[]> = {}) => ({ method: "GET", path, authority: "reviews:9080", headers });
const ok = { status: 200, durationMs: 4.5 };

/** A recorder on a settable clock. */
function recorder(opts: { random?: () => number; maxBuffered?: number } = {}) {
  const clock = { now: 1_700_000_000_000 };
  const r = new TapRecorder({ now: () => clock.now, ...opts });
  return { r, clock };
}

describe("TapRecorder", () => {
  test("inactive until a tap is set; then only matching requests become events", () => {
    const { r } = recorder();
    assert.equal(r.active, false);
    r.setTaps([spec("t1", { filter: { destinationService: "reviews", pathPrefix: "/reviews", statusMin: 200, statusMax: 299 } })]);
    assert.equal(r.active, true);
    r.record(routedContext("outbound"), req("/reviews/1?token=abc"), ok);
    r.record(routedContext("outbound"), req("/ratings/1"), ok); // other path
    r.record(routedContext("outbound"), req("/reviews/2"), { status: 503, durationMs: 1 }); // other status
    const events = r.take();
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.deepEqual(e.tapIds, ["t1"]);
    assert.equal(e.path, "/reviews/1", "no query string");
    assert.equal(e.direction, Direction.DIRECTION_OUTBOUND);
    assert.equal(e.destinationService, "reviews");
    assert.equal(e.destinationNamespace, "default");
    assert.equal(e.destinationWorkload, "reviews-v2-5c4b");
    assert.equal(e.sourceWorkload, "productpage-v1-7d9f");
    assert.equal(e.route, "reviews-canary");
    assert.equal(e.status, 200);
    assert.deepEqual(r.take(), [], "take() empties the buffer");
  });

  test("filters on source workload and namespace, and on destination namespace", () => {
    const { r } = recorder();
    r.setTaps([spec("a", { filter: { sourceWorkload: "productpage-v1-7d9f", sourceNamespace: "default" } }), spec("b", { filter: { sourceWorkload: "someone-else" } }), spec("c", { filter: { destinationNamespace: "prod" } })]);
    r.record(routedContext("outbound"), req(), ok);
    assert.deepEqual(r.take().map((e) => e.tapIds), [["a"]], "one event naming every tap that wanted it");
  });

  test("credentials are redacted, x-trellis-* headers left out, the referer's query cut", () => {
    const { r } = recorder();
    r.setTaps([spec("t")]);
    r.record(
      routedContext("outbound"),
      req("/x", { authorization: "Bearer s3cret", cookie: "sid=1", "proxy-authorization": "Basic eA==", "x-api-key": "k", "x-auth-token": "t", "x-trellis-peer": "w=a", "user-agent": "curl/8", referer: "https://a.example/p?token=zzz", accept: ["a", "b"], traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }),
      ok,
    );
    const e = r.take()[0]!;
    for (const h of ["authorization", "cookie", "proxy-authorization", "x-api-key", "x-auth-token"]) assert.equal(e.requestHeaders[h], TAP_REDACTED, h);
    assert.equal(e.requestHeaders["x-trellis-peer"], undefined);
    assert.equal(e.requestHeaders["user-agent"], "curl/8");
    assert.equal(e.requestHeaders["referer"], "https://a.example/p");
    assert.equal(e.requestHeaders["accept"], "a, b");
    assert.equal(e.traceId, "0af7651916cd43dd8448eb211c80319c");
    assert.doesNotMatch(JSON.stringify(e), /s3cret|sid=1|zzz/);
  });

  test("huge headers and paths are cut to the limits, so an event stays small", () => {
    const { r } = recorder();
    r.setTaps([spec("t")]);
    const headers: Record<string, string> = {};
    for (let i = 0; i < 200; i++) headers[`h-${i}`] = "v".repeat(10_000);
    r.record(routedContext("inbound"), req("/" + "p".repeat(100_000), headers), ok);
    const e = r.take()[0]!;
    assert.equal(Object.keys(e.requestHeaders).length, TAP_LIMITS.headers);
    assert.ok(Object.values(e.requestHeaders).every((v) => v.length <= TAP_LIMITS.headerValue));
    assert.equal(e.path.length, TAP_LIMITS.path);
    assert.ok(TapEvents.encode({ events: [e] }).finish().length < 80_000);
  });

  test("sampling: a rate of 0.25 keeps the requests whose random draw is below it", () => {
    const draws = [0.1, 0.3, 0.2, 0.9, 0.24];
    const { r } = recorder({ random: () => draws.shift() ?? 1 });
    r.setTaps([spec("t", { sampleRate: 0.25 })]);
    for (let i = 0; i < 5; i++) r.record(routedContext("outbound"), req(), ok);
    assert.equal(r.take().length, 3);
  });

  test("at most maxPerSecond events per tap per second", () => {
    const { r, clock } = recorder();
    r.setTaps([spec("slow", { maxPerSecond: 3 }), spec("fast", { maxPerSecond: 100 })]);
    for (let i = 0; i < 10; i++) r.record(routedContext("outbound"), req(), ok);
    const events = r.take();
    assert.equal(events.length, 10);
    assert.equal(events.filter((e) => e.tapIds.includes("slow")).length, 3);
    clock.now += 1000;
    for (let i = 0; i < 10; i++) r.record(routedContext("outbound"), req(), ok);
    assert.equal(r.take().filter((e) => e.tapIds.includes("slow")).length, 3, "a new second, a new allowance");
  });

  test("a tap expires after its ttl unless renewed; renewal keeps it", () => {
    const { r, clock } = recorder();
    r.setTaps([spec("t", { ttlMs: 1000 })]);
    clock.now += 900;
    r.setTaps([spec("t", { ttlMs: 1000 })]);
    clock.now += 900;
    r.record(routedContext("outbound"), req(), ok);
    assert.equal(r.take().length, 1, "renewed at 900 ms, still running at 1800 ms");
    clock.now += 200;
    r.record(routedContext("outbound"), req(), ok);
    assert.equal(r.active, false);
    assert.deepEqual(r.take(), []);
    r.setTaps([spec("z", { ttlMs: 0 })]);
    clock.now += DEFAULT_TAP_TTL_MS - 1;
    assert.equal(r.active, true, "ttl 0 = the default ttl");
    clock.now += 1;
    r.take();
    assert.equal(r.active, false, "take() stops expired taps even without traffic");
  });

  test("an empty TapControl stops every tap and discards what waits", () => {
    const { r } = recorder();
    r.setTaps([spec("t")]);
    r.record(routedContext("outbound"), req(), ok);
    r.setTaps([]);
    assert.equal(r.active, false);
    assert.deepEqual(r.take(), []);
  });

  test("a flood is bounded: the per-second cap, then maxBuffered events kept and the rest counted as dropped; take() hands out at most `max`", () => {
    const { r } = recorder({ maxBuffered: 600 });
    r.setTaps([spec("t", { maxPerSecond: 50_000 })]);
    for (let i = 0; i < 2000; i++) r.record(routedContext("outbound"), req(), ok);
    // maxPerSecond is capped at TAP_LIMITS.maxPerSecond: 1000 pass, 600 fit.
    assert.equal(r.buffered, 600);
    assert.equal(r.dropped, TAP_LIMITS.maxPerSecond - 600);
    assert.equal(r.take(250).length, 250);
    assert.equal(r.take().length, 350);
  });

  test("bad specs are ignored and counted; at most MAX_TAPS run", () => {
    const { r } = recorder();
    const specs = [spec(""), spec("x".repeat(TAP_LIMITS.tapId + 1)), spec("rate", { sampleRate: 0 }), spec("nan", { sampleRate: Number.NaN }), spec("dup"), spec("dup")];
    for (let i = 0; i < MAX_TAPS + 3; i++) specs.push(spec(`t${i}`));
    r.setTaps(specs);
    assert.equal(r.running.length, MAX_TAPS);
    assert.equal(r.ignoredSpecs, 4 + 1 + 4);
  });
});

describe("finishRequest with a tap recorder", () => {
  test("records into the tap only while a tap runs", () => {
    const { r } = recorder();
    const telemetry = { metrics: new ProxyMetrics(), accessLog: new AccessLog({ sink: { write: () => true } }), tap: r };
    finishRequest(telemetry, routedContext("outbound"), req(), ok);
    r.setTaps([spec("t")]);
    finishRequest(telemetry, routedContext("outbound"), req(), ok);
    assert.equal(r.take().length, 1);
  });
});
