import assert from "node:assert/strict";
import { test } from "node:test";
import { RetryBudget } from "./retry-budget";

test("the floor allows minRetriesPerSecond × window retries with no traffic at all", () => {
  const b = new RetryBudget({ minRetriesPerSecond: 10, windowSeconds: 10, now: () => 5_000 });
  let allowed = 0;
  while (b.tryRetry(20)) allowed++;
  assert.equal(allowed, 100);
});

test("above the floor, retries may add budgetPercent of the requests", () => {
  const b = new RetryBudget({ minRetriesPerSecond: 0, now: () => 0 });
  for (let i = 0; i < 1000; i++) b.recordRequest();
  let allowed = 0;
  while (b.tryRetry(20)) allowed++;
  assert.equal(allowed, 200);
  assert.equal(b.tryRetry(25), true, "a raised percentage applies at once");
});

test("requests and retries leave the window after windowSeconds", () => {
  let now = 0;
  const b = new RetryBudget({ minRetriesPerSecond: 0, windowSeconds: 10, now: () => now });
  for (let i = 0; i < 100; i++) b.recordRequest();
  while (b.tryRetry(10));
  assert.deepEqual(b.totals(), { requests: 100, retries: 10 });
  now = 9_999;
  assert.equal(b.tryRetry(10), false, "still inside the window");
  now = 10_000;
  assert.deepEqual(b.totals(), { requests: 0, retries: 0 });
  assert.equal(b.tryRetry(10), false, "no requests, no floor: no retries");
  for (let i = 0; i < 10; i++) b.recordRequest();
  assert.equal(b.tryRetry(10), true);
});
