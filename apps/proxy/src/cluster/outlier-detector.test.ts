import assert from "node:assert/strict";
import { test } from "node:test";
import { OverflowError, UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from "../core/errors";
import { endpoints } from "../balancer/test-endpoints";
import { isOutlierFailure, MAX_EJECTION_MS, OutlierDetector } from "./outlier-detector";
import type { OutlierDetection } from "./outlier-detector";

function detector(over: Partial<OutlierDetection> = {}) {
  const clock = { now: 1_000_000 };
  const d = new OutlierDetector({ consecutive5xxErrors: 3, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50, ...over }, () => clock.now);
  return { d, clock };
}

test("consecutive failures eject at the threshold; a success in between resets the count", () => {
  const { d } = detector();
  const eps = endpoints(4);
  const e = eps[0]!;
  assert.equal(d.available(eps), eps, "nothing ejected: the same list, no copy");
  d.record(e, false);
  d.record(e, false);
  d.record(e, true);
  d.record(e, false);
  d.record(e, false);
  assert.equal(d.available(eps).length, 4);
  d.record(e, false);
  assert.deepEqual(d.available(eps), eps.slice(1));
  assert.deepEqual([e.requests, e.failures], [6, 5]);
});

test("an ejection lasts baseEjectionTime × times ejected and ends lazily", () => {
  const { d, clock } = detector();
  const eps = endpoints(4);
  const e = eps[0]!;
  const fail = () => {
    for (let i = 0; i < 3; i++) d.record(e, false);
  };
  d.available(eps);
  fail();
  assert.deepEqual(d.status(e), { ejected: true, ejectedUntil: clock.now + 30_000, ejections: 1, consecutiveFailures: 3 });
  clock.now += 29_999;
  assert.equal(d.available(eps).includes(e), false);
  clock.now += 1;
  assert.equal(d.available(eps).includes(e), true);
  assert.equal(e.consecutiveFailures, 0, "it returns with a clean slate");
  fail();
  assert.equal(d.status(e).ejectedUntil, clock.now + 60_000, "the second ejection is twice as long");
});

test("the ejection count decays while the endpoint stays healthy, and the time is capped", () => {
  const { d, clock } = detector({ baseEjectionTime: "100s" });
  const eps = endpoints(2);
  const e = eps[0]!;
  const ejectAndReturn = () => {
    d.available(eps);
    for (let i = 0; i < 3; i++) d.record(e, false);
    const until = e.ejectedUntil;
    clock.now = until;
    d.available(eps);
    return until;
  };
  for (let i = 0; i < 3; i++) ejectAndReturn();
  assert.equal(d.status(e).ejections, 3);
  const start = clock.now;
  assert.equal(ejectAndReturn() - start, MAX_EJECTION_MS, "4 × 100 s is capped at 300 s");
  clock.now += 35_000; // three whole intervals in rotation
  assert.equal(d.status(e).ejections, 1);
  const again = clock.now;
  d.available(eps);
  for (let i = 0; i < 3; i++) d.record(e, false);
  assert.equal(e.ejectedUntil - again, 200_000, "decayed to 1, so this is the second ejection's length");
});

test("at most maxEjectionPercent of the cluster is ejected", () => {
  const { d } = detector({ maxEjectionPercent: 20 });
  const eps = endpoints(10);
  for (const e of eps) {
    d.available(eps);
    for (let i = 0; i < 3; i++) d.record(e, false);
  }
  assert.equal(d.available(eps).length, 8);
});

test("one endpoint may always be ejected, even when the percentage allows none", () => {
  const { d } = detector({ maxEjectionPercent: 10 });
  const eps = endpoints(3);
  for (const e of eps) {
    d.available(eps);
    for (let i = 0; i < 3; i++) d.record(e, false);
  }
  assert.equal(d.available(eps).length, 2);
});

test("a single-endpoint cluster can be emptied: the caller answers 503 UH (no panic mode)", () => {
  const { d } = detector({ maxEjectionPercent: 10 });
  const eps = endpoints(1);
  d.available(eps);
  for (let i = 0; i < 3; i++) d.record(eps[0]!, false);
  assert.deepEqual(d.available(eps), []);
});

test("a slot freed by a returning endpoint lets the next outlier go", () => {
  const { d, clock } = detector({ maxEjectionPercent: 25 });
  const eps = endpoints(4);
  d.available(eps);
  for (let i = 0; i < 3; i++) d.record(eps[0]!, false);
  for (let i = 0; i < 3; i++) d.record(eps[1]!, false);
  assert.equal(d.status(eps[1]!).ejected, false, "25 % of 4 is one");
  clock.now += 30_000;
  d.available(eps);
  d.record(eps[1]!, false);
  assert.equal(d.status(eps[1]!).ejected, true, "still failing, ejected once there is room");
});

test("only failures of the endpoint itself count", () => {
  assert.equal(isOutlierFailure(new UpstreamConnectError("x")), true);
  assert.equal(isOutlierFailure(new UpstreamResetError("x")), true);
  assert.equal(isOutlierFailure(new UpstreamTimeoutError("x")), true);
  assert.equal(isOutlierFailure(new OverflowError("x")), false);
  assert.equal(isOutlierFailure(new Error("bug")), false);
});
