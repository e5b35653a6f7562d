import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyBucket } from "@trellis/config";
import { SignalsQuerySchema, goldenSignals } from "./golden-signals";
import type { SignalsQuery } from "./golden-signals";
import { LiveWindow } from "./live/live-window";
import { T0, TestClock, httpRow, ingestSeconds, satRow, tcpRow } from "./live/test-rows";

const PP = { namespace: "default", service: "productpage", workload: "productpage-a", version: "v1" };
const REVIEWS_1 = { namespace: "default", service: "reviews", workload: "reviews-v1-a", version: "v1" };
const REVIEWS_2 = { namespace: "default", service: "reviews", workload: "reviews-v2-a", version: "v2" };
const RATINGS = { namespace: "default", service: "ratings", workload: "ratings-a", version: "v1" };
const MYSQL = { namespace: "db", service: "mysql" };
const SEARCH = { namespace: "shop", service: "search", workload: "search-a", version: "v1" };
/** The other side of an inbound saturation reading. */
const NOBODY = { namespace: "", service: "" };

/**
 * Ten seconds of productpage → reviews (v1 and v2) → ratings, as both sides' proxies report it:
 * productpage's proxy sees 110 requests a second (10 never answered), reviews' proxies 100.
 */
function mesh(): { window: LiveWindow; clock: TestClock } {
  const clock = new TestClock(T0);
  const window = new LiveWindow({ now: clock.now });
  ingestSeconds(window, clock, T0, T0 + 10, () => [
    // caller side
    httpRow("source", PP, REVIEWS_1, { route: "reviews-v1", byClass: [10, 0, 70], mtls: 80, latencyMs: 20, requestBytes: 500, responseBytes: 1500 }),
    httpRow("source", PP, REVIEWS_2, { route: "reviews-v2", byClass: [0, 0, 25, 0, 0, 5], mtls: 30, latencyMs: 200 }),
    // callee side: v1 saw 70 (the 10 unanswered never arrived), v2 saw 30
    httpRow("destination", PP, REVIEWS_1, { byClass: [0, 0, 70], mtls: 70, latencyMs: 15, requestBytes: 500, responseBytes: 1500 }),
    httpRow("destination", PP, REVIEWS_2, { byClass: [0, 0, 25, 0, 0, 5], mtls: 30, latencyMs: 150 }),
    httpRow("source", REVIEWS_2, RATINGS, { kind: "grpc", route: "get-ratings", byClass: [0, 0, 20], grpcErrors: 4, latencyMs: 5 }),
    httpRow("source", SEARCH, REVIEWS_1, { route: "reviews-v1", byClass: [0, 0, 8], latencyMs: 20 }),
    httpRow("destination", SEARCH, REVIEWS_1, { byClass: [0, 0, 8], latencyMs: 20 }),
    tcpRow("source", REVIEWS_1, MYSQL, { opened: 2, sent: 100, received: 900, mtls: 1 }),
    satRow("destination", NOBODY, REVIEWS_1, { inFlight: 4 }),
    satRow("destination", NOBODY, REVIEWS_2, { inFlight: 6 }),
    satRow("source", PP, REVIEWS_1, { inFlight: 3, poolActive: 3, poolLimit: 10, overflows: 1 }),
  ]);
  return { window, clock };
}

const q = (over: Partial<SignalsQuery>): SignalsQuery => SignalsQuerySchema.parse({ scope: "service", namespace: "default", name: "reviews", windowSec: 10, ...over });

describe("goldenSignals", () => {
  test("a service inbound: what its own proxies saw from every caller", () => {
    const { window } = mesh();
    const g = goldenSignals(window, q({}));
    assert.equal(g.from, T0 * 1000);
    assert.equal(g.to, (T0 + 10) * 1000);
    const r = g.requests;
    assert.equal(r.rps, 70 + 30 + 8);
    assert.equal(r.errors, 50);
    assert.equal(r.errorRate, 50 / 1080);
    assert.equal(r.mtlsShare, 1000 / 1080);
    assert.equal(r.bytesPerSec, 2000);
    assert.equal(latencyBucket(r.p50!), latencyBucket(15), "v1's 15 ms (and search's 20 ms) are 78 of 108");
    assert.equal(latencyBucket(r.p95!), latencyBucket(150));
    assert.equal(g.saturation.inFlight, 10, "both workloads' in-flight, averaged per second");
    assert.equal(g.tcp.connectionsOpened, 0, "reviews is only a TCP caller");
  });

  test("a service outbound: what its proxies saw of everything it called, unanswered requests included", () => {
    const { window } = mesh();
    const pp = goldenSignals(window, q({ name: "productpage", direction: "outbound" })).requests;
    assert.equal(pp.rps, 110);
    assert.equal(pp.errors, 10 * (10 + 5), "no response and 5xx");
    assert.equal(pp.errorRate, 15 / 110);
    assert.equal(pp.mtlsShare, 110 / 110);
    const reviews = goldenSignals(window, q({ direction: "outbound" }));
    assert.equal(reviews.requests.rps, 20, "reviews → ratings");
    assert.equal(reviews.requests.errorRate, 0.2, "gRPC errors behind a 200 count");
    assert.deepEqual(reviews.tcp, { connectionsOpened: 20, connectionsPerSec: 2, bytesPerSec: 1000, mtlsShare: 0.5 });
    const ppSat = goldenSignals(window, q({ name: "productpage", direction: "outbound" })).saturation;
    assert.deepEqual(ppSat, { inFlight: 3, poolActive: 3, poolUse: 0.3, overflows: 10 });
  });

  test("workload scope picks one workload's proxy", () => {
    const { window } = mesh();
    assert.equal(goldenSignals(window, q({ scope: "workload", name: "reviews-v2-a" })).requests.rps, 30);
    assert.equal(goldenSignals(window, q({ scope: "workload", name: "reviews-v2-a", direction: "outbound" })).requests.rps, 20);
    assert.equal(goldenSignals(window, q({ scope: "workload", name: "reviews-v2-a" })).saturation.inFlight, 6);
    assert.equal(goldenSignals(window, q({ scope: "workload", name: "reviews" })).requests.requests, 0, "a service name is not a workload");
  });

  test("route scope: the callers' reports of requests that matched the route, from either namespace's side", () => {
    const { window } = mesh();
    const r = goldenSignals(window, q({ scope: "route", name: "reviews-v1" })).requests;
    assert.equal(r.rps, 80 + 8, "productpage's and search's (from shop) requests on the route");
    assert.equal(goldenSignals(window, q({ scope: "route", name: "reviews-v1", namespace: "shop" })).requests.rps, 8);
    assert.equal(goldenSignals(window, q({ scope: "route", name: "reviews-v2" })).requests.errorRate, 5 / 30);
    assert.equal(goldenSignals(window, q({ scope: "route", name: "get-ratings", namespace: "other" })).requests.requests, 0);
  });

  test("other namespaces and other services are not counted", () => {
    const { window } = mesh();
    assert.equal(goldenSignals(window, q({ namespace: "shop" })).requests.requests, 0);
    assert.equal(goldenSignals(window, q({ name: "search", namespace: "shop" })).requests.requests, 0, "search has no inbound traffic");
    assert.equal(goldenSignals(window, q({ name: "search", namespace: "shop", direction: "outbound" })).requests.rps, 8);
  });

  test("the series has one point per step, with its rate and in-flight average", () => {
    const { window, clock } = mesh();
    ingestSeconds(window, clock, T0 + 10, T0 + 20, () => []);
    const g = goldenSignals(window, q({ windowSec: 20, stepSec: 5 }));
    assert.deepEqual(g.series.map((p) => p.t / 1000 - T0), [0, 5, 10, 15]);
    assert.deepEqual(g.series.map((p) => p.rps), [108, 108, 0, 0]);
    assert.deepEqual(g.series.map((p) => p.inFlight), [10, 10, 0, 0]);
    assert.deepEqual(g.series.map((p) => p.errorRate), [50 / 1080, 50 / 1080, null, null]);
    assert.equal(g.requests.rps, 54, "the whole window's rate spans quiet seconds too");
    assert.equal(goldenSignals(window, q({ windowSec: 600 })).series.length, 60, "default step: about 60 points");
  });

  test("until replays an earlier window", () => {
    const { window, clock } = mesh();
    ingestSeconds(window, clock, T0 + 10, T0 + 20, () => [httpRow("destination", PP, REVIEWS_1, { byClass: [0, 0, 1] })]);
    assert.equal(goldenSignals(window, q({})).requests.rps, 1);
    assert.equal(goldenSignals(window, q({ until: (T0 + 10) * 1000 })).requests.rps, 108);
  });
});
