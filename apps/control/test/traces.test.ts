import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ControlPlane } from "../src/app";
import { createLogger } from "../src/log";
import { decodeProtobuf } from "../src/telemetry/traces/otlp-decode";
import { TraceService } from "../src/telemetry/traces/trace-service";
import { otlpJson, otlpProtobuf } from "../src/telemetry/traces/test-otlp";
import type { TestSpan } from "../src/telemetry/traces/test-otlp";
import { describeEachBackend } from "./helpers/backends";
import { errorOf, startTestControlPlane, type Api } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";

// The span store on both databases (search filters, whole traces, retention), then the
// receiver and the traces API over real HTTP on a control plane.

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
const traceId = (n: number) => `abcd${hex(n, 28)}`;
const spanId = (t: number, s: number) => `${hex(t, 8)}${hex(s, 8)}`;
const NOW = Date.now();

/** A three-service trace: gateway → (client → server) reviews → (client → server) ratings. */
function chain(t: number, startMs: number, opts: { error?: boolean; slowMs?: number } = {}): TestSpan[] {
  const id = traceId(t);
  const d = opts.slowMs ?? 10;
  return [
    { traceId: id, spanId: spanId(t, 1), name: "productpage.default:9080/*", service: "productpage", kind: 1, startMs, durationMs: d + 4 },
    { traceId: id, spanId: spanId(t, 2), parentSpanId: spanId(t, 1), name: "reviews.default:9080/*", service: "productpage", kind: 2, startMs: startMs + 0.5, durationMs: d + 2 },
    { traceId: id, spanId: spanId(t, 3), parentSpanId: spanId(t, 2), name: "reviews.default:9080/*", service: "reviews", kind: 1, startMs: startMs + 0.75, durationMs: d + 1 },
    { traceId: id, spanId: spanId(t, 4), parentSpanId: spanId(t, 3), name: "ratings.default:9080/*", service: "reviews", kind: 2, startMs: startMs + 1.001, durationMs: d, error: opts.error },
    { traceId: id, spanId: spanId(t, 5), parentSpanId: spanId(t, 4), name: "ratings.default:9080/*", service: "ratings", kind: 1, startMs: startMs + 1.25, durationMs: d - 1, error: opts.error },
  ];
}

describeEachBackend("trace store", (ctx) => {
  let traces: TraceService;
  before(async () => {
    traces = new TraceService({ db: ctx.db, retentionMs: 3_600_000, maxBodyBytes: 1 << 20, log: createLogger("error") });
    const spans = [...chain(1, NOW - 60_000), ...chain(2, NOW - 50_000, { error: true }), ...chain(3, NOW - 40_000, { slowMs: 500 }), ...chain(4, NOW - 5 * 3_600_000)];
    await traces.store.insert(decodeProtobuf(otlpProtobuf(spans)));
    await traces.store.insert(decodeProtobuf(otlpProtobuf(chain(1, NOW - 60_000))));
  });
  const window = { errorsOnly: false, from: new Date(NOW - 3_600_000), to: new Date(NOW + 1000), limit: 20 };
  const ids = (xs: { traceId: string }[]) => xs.map((x) => x.traceId);

  test("search: newest first, with the root, the extent, the span count and the services", async () => {
    const found = await traces.search(window);
    assert.deepEqual(ids(found), [traceId(3), traceId(2), traceId(1)], "trace 4 is outside the window; a resent span is stored once");
    const t1 = found[2]!;
    assert.deepEqual({ ...t1, start: undefined }, { traceId: traceId(1), rootService: "productpage", rootOperation: "productpage.default:9080/*", start: undefined, durationMs: 14, spanCount: 5, error: false, services: ["productpage", "ratings", "reviews"] });
    assert.equal(Date.parse(t1.start), NOW - 60_000);
  });

  test("search filters: service, operation, minimum duration, errors only, time range, limit", async () => {
    assert.deepEqual(ids(await traces.search({ ...window, service: "ratings", minDurationMs: 100 })), [traceId(3)]);
    assert.deepEqual(ids(await traces.search({ ...window, errorsOnly: true })), [traceId(2)]);
    assert.deepEqual(ids(await traces.search({ ...window, service: "reviews", operation: "ratings.default:9080/*", limit: 2 })), [traceId(3), traceId(2)]);
    assert.deepEqual(ids(await traces.search({ ...window, service: "productpage", operation: "ratings.default:9080/*" })), [], "the operation must be the service's own");
    assert.deepEqual(ids(await traces.search({ ...window, from: new Date(NOW - 6 * 3_600_000), to: new Date(NOW - 4 * 3_600_000) })), [traceId(4)]);
  });

  test("get: the whole trace as a tree, to the microsecond", async () => {
    const tree = await traces.get(traceId(2));
    assert.equal(tree.spanCount, 5);
    const path: string[] = [];
    for (let n = tree.roots[0]; n; n = n.children[0]) path.push(`${n.service}/${n.kind}`);
    assert.deepEqual(path, ["productpage/server", "productpage/client", "reviews/server", "reviews/client", "ratings/server"]);
    assert.equal(tree.roots.length, 1);
    const clientToRatings = tree.roots[0]!.children[0]!.children[0]!.children[0]!;
    assert.equal(clientToRatings.offsetMs, 1.001);
    assert.equal(clientToRatings.error, true);
    assert.equal(clientToRatings.statusMessage, "boom");
    await assert.rejects(traces.get(traceId(99)), { code: "TRELLIS_NOT_FOUND" });
  });

  test("retention deletes what started before the cutoff, in slices", async () => {
    const n = await traces.store.deleteOlderThan(new Date(NOW - 3_600_000), 2);
    assert.equal(n, 5, "trace 4's five spans");
    assert.deepEqual(ids(await traces.search({ ...window, from: new Date(0) })), [traceId(3), traceId(2), traceId(1)]);
  });
});

describe("traces API and OTLP receiver over HTTP", () => {
  let db: TestDatabase;
  let cp: ControlPlane;
  let api: Api;
  before(async () => {
    db = await createTestDatabase();
    ({ cp, api } = await startTestControlPlane({ databaseUrl: db.url }));
  });
  after(async () => {
    await cp.close();
    await db.drop();
  });

  test("an export posted to /v1/traces is found by traces.search and traces.get", async () => {
    const res = await fetch(`${cp.apiUrl}/v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: otlpJson(chain(7, NOW - 1000)) });
    assert.equal(res.status, 200);
    const found = await api.traces.search.query({ service: "ratings" });
    assert.deepEqual(found.map((t) => t.traceId), [traceId(7)]);
    const tree = await api.traces.get.query({ traceId: traceId(7).toUpperCase() });
    assert.equal(tree.roots[0]?.children[0]?.children[0]?.service, "reviews");
  });

  test("a malformed export is refused and shows in traces.stats", async () => {
    const res = await fetch(`${cp.apiUrl}/v1/traces`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: "definitely not protobuf" });
    assert.equal(res.status, 400);
    const stats = await api.traces.stats.query();
    assert.equal(stats.receiver.refused.malformed, 1);
    assert.equal(stats.receiver.spansAccepted, 5);
    assert.equal(stats.retention.retentionHours, 24);
  });

  test("bad inputs get errors naming the field", async () => {
    const bad = await errorOf(api.traces.get.query({ traceId: "nope" }));
    assert.equal(bad.code, "BAD_REQUEST");
    assert.match(bad.message, /traceId: must be 32 hex digits/);
    const range = await errorOf(api.traces.search.query({ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }));
    assert.match(range.message, /from: must not be after `to`/);
    const when = await errorOf(api.traces.search.query({ from: "yesterday" }));
    assert.match(when.message, /from: must be an ISO time/);
    assert.equal((await errorOf(api.traces.get.query({ traceId: "f".repeat(32) }))).code, "NOT_FOUND");
  });
});
