import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyBucket } from "@trellis/config";
import { Direction, TelemetryDelta, TrafficProtocol } from "@trellis/proto";
import type { TelemetryPeer } from "@trellis/proto";
import { RequestContext, UNKNOWN_PEER } from "../core/context";
import { LiveDeltas, MAX_ROWS, OVERFLOW_ROUTE } from "./live-deltas";
import { routedContext } from "./test-context";

function names(strings: string[], p: TelemetryPeer | undefined) {
  assert.ok(p);
  return { namespace: strings[p.namespace], service: strings[p.service], workload: strings[p.workload], version: strings[p.version] };
}

describe("LiveDeltas", () => {
  test("sums requests per peer and route, by response class, with a sparse histogram; take() starts afresh", () => {
    const live = new LiveDeltas();
    const ok = routedContext("outbound");
    ok.requestBytes = 100;
    ok.responseBytes = 1000;
    for (const [status, ms] of [[200, 3], [200, 3.1], [503, 40], [0, 7]] as const) {
      live.started(ok);
      live.request(ok, { status, durationMs: ms });
    }
    const d = live.take(Date.now());
    assert.equal(d.requests.length, 1);
    const row = d.requests[0]!;
    assert.equal(row.direction, Direction.DIRECTION_OUTBOUND);
    assert.deepEqual(names(d.strings, row.peer), { namespace: "default", service: "reviews", workload: "reviews-v2-5c4b", version: "v2" });
    assert.equal(d.strings[row.route], "reviews-canary");
    assert.deepEqual(row.byClass, [1, 0, 2, 0, 0, 1]);
    assert.equal(row.latencyCounts.reduce((a, b) => a + b, 0), 4);
    assert.deepEqual(row.latencyBuckets, [...new Set([latencyBucket(3), latencyBucket(3.1), latencyBucket(7), latencyBucket(40)])].sort((a, b) => a - b));
    assert.equal(row.latencySumMs, 53.1);
    assert.equal(row.requestBytes, 400);
    assert.equal(row.responseBytes, 4000);
    assert.equal(d.strings[0], "", "index 0 is the empty string (unknown)");
    // The delta encodes as the proto message the stream carries.
    const decoded = TelemetryDelta.decode(TelemetryDelta.encode({ sequence: 1, ...d }).finish());
    assert.deepEqual(decoded.requests[0]?.byClass, [1, 0, 2, 0, 0, 1]);
    assert.equal(live.take().requests.length, 0);
  });

  test("inbound rows name the caller; an unknown caller is all index 0; gRPC errors behind 200 are counted; in-flight is tracked", () => {
    const live = new LiveDeltas();
    const known = routedContext("inbound", "grpc");
    known.connectionSecurity = "mutual_tls";
    const stranger = new RequestContext("inbound", "http", new AbortController().signal, "10.0.0.9:1", UNKNOWN_PEER);
    live.started(known);
    live.started(stranger);
    live.started(known);
    live.request(known, { status: 200, grpcStatus: "14", durationMs: 1 });
    live.request(stranger, { status: 404, durationMs: 1 });
    const d = live.take();
    const grpcRow = d.requests.find((r) => r.protocol === TrafficProtocol.TRAFFIC_PROTOCOL_GRPC)!;
    assert.deepEqual(names(d.strings, grpcRow.peer), { namespace: "default", service: "productpage", workload: "productpage-v1-7d9f", version: "v1" });
    assert.equal(grpcRow.grpcErrors, 1);
    assert.equal(grpcRow.mtlsRequests, 1);
    const plain = d.requests.find((r) => r.protocol === TrafficProtocol.TRAFFIC_PROTOCOL_HTTP)!;
    assert.deepEqual(plain.peer, { namespace: 0, service: 0, workload: 0, version: 0 });
    const inbound = d.saturation.find((r) => r.direction === Direction.DIRECTION_INBOUND)!;
    assert.equal(inbound.inFlight, 1, "one of three started requests is still running");
  });

  test("rows follow the request's route, destination and protocol, and a row taken is never added to again", () => {
    const live = new LiveDeltas();
    const a = routedContext("outbound");
    const other = routedContext("outbound");
    other.route = { name: "reviews-default", source: "Route/default/reviews" };
    const grpc = routedContext("outbound", "grpc");
    grpc.route = a.route;
    grpc.target = a.target;
    for (const ctx of [a, a, other, grpc]) live.request(ctx, { status: 200, durationMs: 1 });
    const first = live.take(Date.now());
    const count = (d: typeof first) => d.requests.map((r) => `${d.strings[r.route]}|${r.protocol}=${r.byClass[2]}`).sort();
    assert.deepEqual(count(first), [`reviews-canary|${TrafficProtocol.TRAFFIC_PROTOCOL_GRPC}=1`, `reviews-canary|${TrafficProtocol.TRAFFIC_PROTOCOL_HTTP}=2`, `reviews-default|${TrafficProtocol.TRAFFIC_PROTOCOL_HTTP}=1`].sort());
    live.request(a, { status: 200, durationMs: 1 });
    assert.deepEqual(count(live.take(Date.now())), [`reviews-canary|${TrafficProtocol.TRAFFIC_PROTOCOL_HTTP}=1`]);
    assert.equal(first.requests.find((r) => first.strings[r.route] === "reviews-canary" && r.protocol === TrafficProtocol.TRAFFIC_PROTOCOL_HTTP)?.byClass[2], 2, "the first delta's row kept its count");
  });

  test("TCP: opens, byte deltas and closes", () => {
    const live = new LiveDeltas();
    const ctx = routedContext("outbound", "tcp");
    live.tcpOpened(ctx);
    live.tcpBytes(ctx, 10, 20, false);
    live.tcpBytes(ctx, 5, 0, true);
    const [row] = live.take().tcp;
    assert.deepEqual({ opened: row?.opened, closed: row?.closed, sent: row?.sentBytes, received: row?.receivedBytes }, { opened: 1, closed: 1, sent: 15, received: 20 });
  });

  test("saturation: per destination service, overflows as deltas of the running totals", () => {
    let overflowsTotal = 5;
    const live = new LiveDeltas(() => [
      { cluster: "outbound|9080|v1|reviews.default", host: "reviews.default", active: 2, limit: 10, overflowsTotal },
      { cluster: "outbound|9080|v2|reviews.default", host: "reviews.default", active: 1, limit: 10, overflowsTotal: 0 },
    ]);
    let d = live.take();
    let out = d.saturation.find((r) => r.direction === Direction.DIRECTION_OUTBOUND)!;
    assert.equal(out.inFlight, 3);
    assert.equal(out.poolLimit, 20);
    assert.equal(out.overflows, 5);
    overflowsTotal = 7;
    d = live.take();
    out = d.saturation.find((r) => r.direction === Direction.DIRECTION_OUTBOUND)!;
    assert.equal(out.overflows, 2);
    assert.equal(d.strings[out.peer!.service], "reviews");
  });

  test("a flood of distinct peers stays within MAX_ROWS: the rest sum into one overflow row", () => {
    const live = new LiveDeltas();
    for (let i = 0; i < MAX_ROWS + 50; i++) {
      const ctx = routedContext("outbound");
      ctx.target = { host: `svc-${i}.default`, port: 80, cluster: `outbound|80||svc-${i}.default` };
      live.request(ctx, { status: 200, durationMs: 1 });
    }
    const d = live.take();
    assert.equal(d.requests.length, MAX_ROWS + 1);
    const overflow = d.requests.find((r) => d.strings[r.route] === OVERFLOW_ROUTE)!;
    assert.equal(overflow.byClass[2], 50);
  });
});
