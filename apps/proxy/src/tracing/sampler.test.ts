import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sampler } from "./sampler";

/** A fixed sequence of "random" numbers. */
const sequence = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe("Sampler", () => {
  test("samples new traces at its rate", () => {
    const s = new Sampler(25, sequence(0, 0.2, 0.25, 0.9));
    assert.deepEqual([s.sampleNew(), s.sampleNew(), s.sampleNew(), s.sampleNew()], [true, true, false, false]);
    const real = new Sampler(10);
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (real.sampleNew()) n++;
    assert.ok(n > 1600 && n < 2400, `about 10 % of 20000, got ${n}`);
  });

  test("0 never and 100 always, whatever the random source says", () => {
    assert.equal(new Sampler(0, () => 0).sampleNew(), false);
    assert.equal(new Sampler(100, () => 0.999999).sampleNew(), true);
  });

  test("the caller's decision wins over the rate; a deferred one is decided here", () => {
    const never = new Sampler(0);
    const always = new Sampler(100);
    const ids = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", debug: false };
    assert.equal(never.decide({ ...ids, sampled: true }), true);
    assert.equal(always.decide({ ...ids, sampled: false }), false);
    assert.equal(always.decide({ ...ids, sampled: undefined }), true);
    assert.equal(never.decide({ ...ids, sampled: undefined }), false);
    assert.equal(always.decide(undefined), true);
  });

  test("refuses a rate outside 0–100", () => {
    assert.throws(() => new Sampler(101), /0 to 100/);
    assert.throws(() => new Sampler(-1), /0 to 100/);
    assert.throws(() => new Sampler(Number.NaN), /0 to 100/);
  });
});
