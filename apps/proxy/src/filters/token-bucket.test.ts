import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenBucket } from "./token-bucket";

test("starts full, empties, and refills tokensPerFill per whole interval up to the max", () => {
  let now = 0;
  const b = new TokenBucket(3, 2, 1000, () => now);
  assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()], [true, true, true, false]);
  now = 999;
  assert.equal(b.tryTake(), false, "no partial refills");
  now = 1000;
  assert.equal(b.tokens, 2);
  now = 10_000;
  assert.equal(b.tokens, 3, "capped at maxTokens");
});

test("refill keeps its phase: time past an interval is not lost", () => {
  let now = 0;
  const b = new TokenBucket(1, 1, 1000, () => now);
  b.tryTake();
  now = 1500;
  assert.equal(b.tryTake(), true);
  now = 2000;
  assert.equal(b.tryTake(), true, "the next fill is due at 2000, not 2500");
});

test("fullAt says when an untouched bucket is full again", () => {
  let now = 0;
  const b = new TokenBucket(4, 1, 100, () => now);
  assert.equal(b.fullAt(), 0);
  for (let i = 0; i < 3; i++) b.tryTake();
  assert.equal(b.fullAt(), 300);
});

test("nonsense numbers are refused", () => {
  assert.throws(() => new TokenBucket(0, 1, 1000), /maxTokens ≥ 1/);
  assert.throws(() => new TokenBucket(1, 1, 0), /fillInterval > 0/);
});
