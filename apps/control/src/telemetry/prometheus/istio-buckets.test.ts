import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LATENCY_BUCKETS, LATENCY_BUCKET_BOUNDS_MS, latencyBucket, latencyQuantile } from "@trellis/config";
import { addIstioHistogram, parseLe, trellisBucketOf } from "./istio-buckets";

/** Istio's default duration buckets, as the proxies export them. */
const ISTIO = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

describe("trellisBucketOf", () => {
  test("every Istio bucket goes to the Trellis bucket holding its geometric midpoint", () => {
    for (let i = 1; i < ISTIO.length; i++) {
      const lo = ISTIO[i - 1]!;
      const hi = ISTIO[i]!;
      const mid = Math.sqrt(lo * hi);
      const b = trellisBucketOf(lo, hi);
      assert.equal(b, latencyBucket(mid), `(${lo}, ${hi}]`);
      if (b < LATENCY_BUCKET_BOUNDS_MS.length) assert.ok(mid <= LATENCY_BUCKET_BOUNDS_MS[b]!, `${mid} ≤ upper bound of bucket ${b}`);
      if (b > 0) assert.ok(mid > LATENCY_BUCKET_BOUNDS_MS[b - 1]!, `${mid} > lower bound of bucket ${b}`);
    }
  });

  test("the first bucket (0, 0.5] is read as (0.1, 0.5]; above 52 s and +Inf go to the overflow bucket", () => {
    assert.equal(trellisBucketOf(0, 0.5), latencyBucket(Math.sqrt(0.1 * 0.5)));
    assert.equal(trellisBucketOf(0, 0.05), latencyBucket(0.05), "a first bound under 0.1 ms is its own midpoint");
    assert.equal(trellisBucketOf(60000, 300000), LATENCY_BUCKETS - 1);
    assert.equal(trellisBucketOf(3600000, Infinity), LATENCY_BUCKETS - 1);
    assert.equal(trellisBucketOf(30000, 60000), latencyBucket(Math.sqrt(30000 * 60000)), "(30, 60] s still resolves below 52 s");
  });
});

describe("addIstioHistogram", () => {
  test("cumulative le counts (any order) become counts per Trellis bucket", () => {
    const into = new Float64Array(LATENCY_BUCKETS);
    addIstioHistogram(
      [
        { le: Infinity, count: 11 },
        { le: 5, count: 10 },
        { le: 0.5, count: 0 },
        { le: 1, count: 2 },
        { le: 10, count: 10 },
      ],
      into,
    );
    const expected = new Float64Array(LATENCY_BUCKETS);
    expected[trellisBucketOf(0.5, 1)] = 2;
    expected[trellisBucketOf(1, 5)] = 8;
    expected[LATENCY_BUCKETS - 1] = 1;
    assert.deepEqual(into, expected);
  });

  test("a bound counting less than the one below it adds nothing (never a negative count)", () => {
    const into = new Float64Array(LATENCY_BUCKETS);
    addIstioHistogram([{ le: 1, count: 5 }, { le: 5, count: 3 }, { le: 10, count: 6 }], into);
    assert.equal(into.reduce((a, b) => a + b, 0), 6);
    assert.ok(into.every((c) => c >= 0));
  });

  test("precision: a percentile from history is within √(hi/lo) of the Istio bucket, times the √2 bucket's 19 %", () => {
    for (const truth of [0.7, 3, 7, 17, 40, 80, 180, 400, 700, 1800, 4000, 8000, 20000]) {
      const i = ISTIO.findIndex((b) => truth <= b);
      const lo = ISTIO[i - 1]!;
      const hi = ISTIO[i]!;
      const into = new Float64Array(LATENCY_BUCKETS);
      addIstioHistogram(ISTIO.map((le) => ({ le, count: le >= truth ? 100 : 0 })), into);
      const p50 = latencyQuantile(into, 0.5);
      const bound = Math.sqrt(hi / lo) * 2 ** 0.25 * 1.0001;
      assert.ok(p50 / truth <= bound && truth / p50 <= bound, `${truth} ms in (${lo}, ${hi}]: p50 ${p50.toFixed(2)} ms`);
    }
  });
});

test("parseLe reads numbers and +Inf, and refuses the rest", () => {
  assert.equal(parseLe("0.5"), 0.5);
  assert.equal(parseLe("+Inf"), Infinity);
  assert.ok(Number.isNaN(parseLe("fast")));
  assert.ok(Number.isNaN(parseLe(undefined)));
});
