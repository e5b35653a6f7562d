import assert from "node:assert/strict";
import { test } from "node:test";
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKETS, latencyBucket, latencyQuantile, responseClass } from "./telemetry";

test("every latency lands in the bucket whose bounds enclose it", () => {
  for (const ms of [0, 0.05, 0.1, 0.1000001, 0.5, 1, 1.41, 3, 10, 99.9, 250, 1000, 30_000, 52_000]) {
    const i = latencyBucket(ms);
    if (i < LATENCY_BUCKET_BOUNDS_MS.length) assert.ok(ms <= LATENCY_BUCKET_BOUNDS_MS[i]!, `${ms} ≤ bound ${i}`);
    if (i > 0) assert.ok(ms > LATENCY_BUCKET_BOUNDS_MS[i - 1]!, `${ms} > bound ${i - 1}`);
  }
  // exact bounds belong to their own bucket
  for (let i = 0; i < LATENCY_BUCKET_BOUNDS_MS.length; i++) assert.equal(latencyBucket(LATENCY_BUCKET_BOUNDS_MS[i]!), i);
  assert.equal(latencyBucket(1e9), LATENCY_BUCKETS - 1);
  assert.equal(latencyBucket(Number.NaN), 0);
  assert.equal(latencyBucket(-5), 0);
});

test("quantiles from the buckets are within the buckets' ±19% of the truth", () => {
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
  const values: number[] = [];
  for (let i = 1; i <= 1000; i++) {
    const v = i * 0.37; // 0.37 .. 370 ms, uniform
    values.push(v);
    counts[latencyBucket(v)]!++;
  }
  for (const q of [0.5, 0.95, 0.99]) {
    const truth = values[Math.ceil(q * values.length) - 1]!;
    const est = latencyQuantile(counts, q);
    assert.ok(Math.abs(est - truth) / truth < 0.19, `p${q * 100}: ${est} vs ${truth}`);
  }
  assert.ok(Number.isNaN(latencyQuantile(new Array(LATENCY_BUCKETS).fill(0), 0.5)));
});

test("response classes", () => {
  assert.deepEqual([0, 99, 100, 204, 302, 404, 503, 599, 600].map(responseClass), [0, 0, 1, 2, 3, 4, 5, 5, 0]);
});
