import assert from "node:assert/strict";
import { test } from "node:test";
import { added, cpuPer1000Requests, otherCores, percentileOfSorted, ratio, summarize, vcpuPer1000Rps, verdict } from "./stats";

test("summarize: nearest-rank percentiles of unsorted samples, so p99 of 1000 samples is the 990th smallest", () => {
  const samples = Array.from({ length: 1000 }, (_, i) => (1000 - i) / 100); // 10.00 .. 0.01 ms, reversed on purpose
  const s = summarize(samples);
  assert.equal(s.n, 1000);
  assert.equal(s.p50, 5);
  assert.equal(s.p90, 9);
  assert.equal(s.p99, 9.9);
  assert.equal(s.p999, 9.99);
  assert.equal(s.max, 10);
  assert.ok(Math.abs(s.mean - 5.005) < 1e-9);
});

test("summarize sorts numerically (Float64Array), not as strings", () => {
  const s = summarize([10, 9, 100, 2]);
  assert.equal(s.p50, 9);
  assert.equal(s.max, 100);
  assert.ok(Number.isNaN(summarize([]).p99));
  assert.throws(() => percentileOfSorted([1], 101), /between 0 and 100/);
});

test("the pair's added latency is the percentile difference against the app direct", () => {
  const direct = summarize([0.2, 0.3, 0.4]);
  const pair = summarize([0.7, 0.9, 1.6]);
  const a = added(pair, direct);
  assert.ok(Math.abs(a.p50 - 0.6) < 1e-9);
  assert.ok(Math.abs(a.p99 - 1.2) < 1e-9);
});

test("CPU per 1000 requests and vCPU per 1000 rps agree at a steady rate", () => {
  // 2.5 CPU seconds over 10 s while serving 10 000 requests (1000 rps): a quarter of a core.
  assert.equal(cpuPer1000Requests(2.5, 10_000), 0.25);
  assert.equal(vcpuPer1000Rps(2.5, 10, 10_000), 0.25);
  // The same process at 4000 rps using 1 core: still 0.25 vCPU per 1000 rps.
  assert.equal(vcpuPer1000Rps(10, 10, 40_000), 0.25);
  assert.ok(Number.isNaN(vcpuPer1000Rps(1, 0, 10)));
  assert.ok(Number.isNaN(cpuPer1000Requests(1, 0)));
});

test("ratios and verdicts: unmeasured figures are n/a, never PASS", () => {
  assert.equal(ratio(13_000, 10_000), 1.3);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(undefined, 2)));
  assert.equal(verdict(1.3, ">=", 1.3), "PASS");
  assert.equal(verdict(1.29, ">=", 1.3), "FAIL");
  assert.equal(verdict(0.5, "<=", 0.5), "PASS");
  assert.equal(verdict(Number.NaN, "<=", 0.5), "n/a");
  assert.equal(verdict(undefined, ">=", 1), "n/a");
});

test("other load: the machine's busy CPU not used by the measured processes, in cores", () => {
  // 10 s window: the machine was busy 15 CPU-seconds, the proxy, app and load tool used 12.
  assert.equal(otherCores(15, 12, 10), 0.3);
  // Tick rounding can make the measured processes exceed the machine's reading: never negative.
  assert.equal(otherCores(11.98, 12, 10), 0);
  assert.ok(Number.isNaN(otherCores(1, 1, 0)));
});
