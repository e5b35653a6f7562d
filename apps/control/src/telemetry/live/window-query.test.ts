import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyBucket } from "@trellis/config";
import { LiveWindow } from "./live-window";
import * as L from "./row-layout";
import { T0, TestClock, httpRow, ingestSeconds, satRow, tcpRow } from "./test-rows";
import { Sums, aggregate, requestSignals, saturationSignals, slotsFor, tcpSignals, timeSeries } from "./window-query";

const PP = { namespace: "default", service: "productpage", workload: "productpage-a", version: "v1" };
const REVIEWS = { namespace: "default", service: "reviews", workload: "reviews-v1-a", version: "v1" };
const RATINGS = { namespace: "default", service: "ratings", workload: "ratings-a", version: "v1" };

/** Sums of everything in [fromSec, toSec). */
function all(w: LiveWindow, fromSec: number, toSec: number): Sums {
  return aggregate(w, { fromSec, toSec }, () => "all").get("all") ?? new Sums();
}

describe("requestSignals", () => {
  test("rates, errors (5xx, no response, gRPC errors), percentiles, bytes and mTLS share", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
    // 100 a second: 3 without a response, 90 2xx (2 of them failed gRPC calls), 3 4xx, 4 5xx.
    const row = httpRow("source", PP, REVIEWS, { byClass: [3, 0, 90, 0, 3, 4], grpcErrors: 2, mtls: 80, latencyMs: latencies, requestBytes: 1000, responseBytes: 5000 });
    ingestSeconds(w, clock, T0, T0 + 10, () => [row]);
    const s = requestSignals(all(w, T0, T0 + 10), 10);
    assert.equal(s.requests, 1000);
    assert.equal(s.rps, 100);
    assert.equal(s.errors, 10 * (4 + 3 + 2), "4xx are not errors");
    assert.equal(s.errorRate, 0.09);
    assert.deepEqual(s.byClass, [30, 0, 900, 0, 30, 40]);
    for (const [q, truth] of [[s.p50, 50], [s.p95, 95], [s.p99, 99]] as const) {
      assert.ok(q !== null && Math.abs(q - truth) / truth < 0.19, `${q} ms vs ${truth} ms`);
    }
    assert.equal(s.bytesPerSec, 6000);
    assert.equal(s.mtlsShare, 0.8);
  });

  test("percentiles of one latency land in that latency's bucket; nothing gives nulls", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 2, () => [httpRow("source", PP, REVIEWS, { byClass: [0, 0, 9, 0, 0, 1], latencyMs: [...new Array<number>(9).fill(3), 800] })]);
    const s = requestSignals(all(w, T0, T0 + 2), 2);
    assert.equal(latencyBucket(s.p50!), latencyBucket(3));
    assert.equal(latencyBucket(s.p95!), latencyBucket(800));
    assert.equal(latencyBucket(s.p99!), latencyBucket(800));
    const none = requestSignals(new Sums(), 60);
    assert.deepEqual([none.rps, none.errorRate, none.p50, none.p95, none.p99, none.mtlsShare], [0, null, null, null, null, null]);
  });

  test("tcp and saturation signals", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 4, () => [
      tcpRow("source", REVIEWS, RATINGS, { opened: 5, sent: 100, received: 300, mtls: 4 }),
      satRow("source", PP, REVIEWS, { inFlight: 6, poolActive: 3, poolLimit: 10, overflows: 2 }),
      satRow("source", { ...PP, workload: "productpage-b" }, REVIEWS, { inFlight: 2, poolActive: 1, poolLimit: 10 }),
    ]);
    const sums = aggregate(w, { fromSec: T0, toSec: T0 + 4 }, (k) => k.kind);
    assert.deepEqual(tcpSignals(sums.get("tcp")!, 4), { connectionsOpened: 20, connectionsPerSec: 5, bytesPerSec: 400, mtlsShare: 0.8 });
    const sat = saturationSignals(sums.get("sat")!, 4);
    assert.equal(sat.inFlight, 8, "two proxies' readings, averaged over the seconds");
    assert.equal(sat.poolActive, 4);
    assert.equal(sat.poolUse, 0.2);
    assert.equal(sat.overflows, 8, "overflows are summed, not averaged");
    assert.equal(sums.get("sat")!.vals[L.READINGS], 8);
    assert.equal(saturationSignals(new Sums(), 4).poolUse, null, "no limit, no use share");
  });
});

describe("slotsFor", () => {
  test("a range the 1 s ring covers reads seconds, clipped to the last complete second", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 30, () => [httpRow("source", PP, REVIEWS, { byClass: [1] })]);
    const slots = slotsFor(w, { fromSec: T0 + 10, toSec: T0 + 100 });
    assert.deepEqual(slots.map((s) => [s.slot.t - T0, s.seconds]), Array.from({ length: 20 }, (_, i) => [10 + i, 1]));
  });

  test("a range older than the 1 s ring reads whole minutes plus the current minute's seconds", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now, secondsKept: 30 });
    const n = (k: number) => [httpRow("source", PP, REVIEWS, { byClass: [0, 0, k] })];
    for (const [sec, k] of [[5, 1], [65, 10], [125, 100], [130, 1000]] as const) {
      clock.set(T0 + sec);
      w.ingest(n(k));
    }
    clock.set(T0 + 140);
    assert.equal(w.secondsCoverFrom, T0 + 125, "seconds 5 and 65 are gone from the 1 s ring");

    const slots = slotsFor(w, { fromSec: T0, toSec: T0 + 140 });
    assert.deepEqual(slots.map((s) => [s.slot.t - T0, s.seconds]), [[0, 60], [60, 60], [125, 1], [130, 1]]);
    assert.equal(all(w, T0, T0 + 140).vals[L.REQUESTS], 1111);
    assert.equal(all(w, T0 + 61, T0 + 140).vals[L.REQUESTS], 1110, "whole minutes: the minute the range starts in counts");
    assert.equal(all(w, T0 + 126, T0 + 140).vals[L.REQUESTS], 1000, "inside the 1 s ring: seconds only");
    assert.equal(all(w, T0 + 120, T0 + 128).vals[L.REQUESTS], 100);
  });
});

describe("timeSeries", () => {
  test("buckets slots into steps from the range start; empty steps are zero", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 15, (s) => (s < T0 + 5 ? [httpRow("source", PP, REVIEWS, { byClass: [0, 0, 10] })] : s >= T0 + 10 ? [httpRow("source", PP, REVIEWS, { byClass: [0, 0, 30] }), httpRow("source", PP, RATINGS, { byClass: [0, 0, 7] })] : []));
    const points = timeSeries(w, { fromSec: T0, toSec: T0 + 15 }, 5, (k) => k.dstService === "reviews");
    assert.deepEqual(points.map((p) => [p.t - T0, p.sums.vals[L.REQUESTS]]), [[0, 50], [5, 0], [10, 150]]);
    assert.deepEqual(points.map((p) => requestSignals(p.sums, 5).rps), [10, 0, 30]);
    const partial = timeSeries(w, { fromSec: T0 + 1, toSec: T0 + 15 }, 5, () => true);
    assert.deepEqual(partial.map((p) => [p.t - T0, p.sums.vals[L.REQUESTS]]), [[1, 40], [6, 37], [11, 148]], "steps start at the range start");
  });
});
