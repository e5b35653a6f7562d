import assert from "node:assert/strict";
import { test } from "node:test";
import { percentile, ratio, summary } from "./stats";

test("percentile uses the nearest rank, so p99 of 100 samples is the 99th smallest, not an interpolation", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(values, 0), 1);
});

test("percentile of few samples: p99 of 20 write latencies is their maximum", () => {
  const values = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  assert.equal(percentile(values, 99), 20);
  assert.equal(percentile(values, 50), 10);
  assert.deepEqual(summary([42]), { p50: 42, p99: 42, max: 42, n: 1 });
});

test("empty input gives NaN and out-of-range percentiles are refused", () => {
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 101), /between 0 and 100/);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.equal(ratio(3, 2), 1.5);
});
