import assert from "node:assert/strict";
import { test } from "node:test";
import { OverflowError } from "../core/errors";
import { settle } from "../filters/test-fakes";
import { CircuitBreaker } from "./circuit-breaker";

test("maxRequests: overflow once that many are in flight; release (even twice) frees one", () => {
  const b = new CircuitBreaker({ http: { maxRequests: 2 } });
  const r1 = b.acquireRequest();
  b.acquireRequest();
  assert.throws(() => b.acquireRequest(), (e: unknown) => e instanceof OverflowError && e.flag === "UO" && e.status === 503);
  r1();
  r1();
  assert.equal(b.stats().activeRequests, 1);
  b.acquireRequest();
  assert.throws(() => b.acquireRequest(), OverflowError);
  assert.equal(b.stats().overflows.requests, 2);
});

test("connection slots: beyond maxConnections requests wait in order, beyond maxPendingRequests they overflow", async () => {
  const b = new CircuitBreaker({ tcp: { maxConnections: 1 }, http: { maxPendingRequests: 2 } });
  const first = await b.acquireConnectionSlot();
  const order: string[] = [];
  const second = b.acquireConnectionSlot().then((r) => (order.push("second"), r));
  const third = b.acquireConnectionSlot().then((r) => (order.push("third"), r));
  await assert.rejects(b.acquireConnectionSlot(), /too many requests waiting for a connection/);
  assert.deepEqual(b.stats(), { activeRequests: 0, activeConnections: 1, pendingRequests: 2, activeRetries: 0, overflows: { requests: 0, pending: 1, retries: 0 } });
  first();
  const r2 = await second;
  await settle();
  assert.deepEqual(order, ["second"], "the slot went to the oldest waiter only");
  r2();
  (await third)();
  assert.deepEqual(order, ["second", "third"]);
  assert.equal(b.stats().activeConnections, 0);
  assert.equal(b.stats().pendingRequests, 0);
});

test("a waiter whose request is cancelled leaves the queue", async () => {
  const b = new CircuitBreaker({ tcp: { maxConnections: 1 } });
  const held = await b.acquireConnectionSlot();
  const ac = new AbortController();
  const waiting = b.acquireConnectionSlot(ac.signal);
  const gone = new Error("downstream closed");
  ac.abort(gone);
  await assert.rejects(waiting, (e) => e === gone);
  assert.equal(b.stats().pendingRequests, 0);
  held();
  assert.equal(b.stats().activeConnections, 0, "the freed slot was not handed to the cancelled waiter");
});

test("maxPendingRequests 0: no request may wait", async () => {
  const b = new CircuitBreaker({ tcp: { maxConnections: 1 }, http: { maxPendingRequests: 0 } });
  await b.acquireConnectionSlot();
  await assert.rejects(b.acquireConnectionSlot(), OverflowError);
});

test("maxRetries limits concurrent retries", () => {
  const b = new CircuitBreaker({ http: { maxRetries: 1 } });
  assert.equal(b.retries.tryAcquire(), true);
  assert.equal(b.retries.tryAcquire(), false);
  b.retries.release();
  assert.equal(b.retries.tryAcquire(), true);
  assert.deepEqual([b.stats().activeRetries, b.stats().overflows.retries], [1, 1]);
});

test("unset limits are unlimited (Istio's defaults)", async () => {
  const b = new CircuitBreaker();
  for (let i = 0; i < 10_000; i++) b.acquireRequest();
  for (let i = 0; i < 1_000; i++) await b.acquireConnectionSlot();
  for (let i = 0; i < 1_000; i++) assert.equal(b.retries.tryAcquire(), true);
  assert.equal(b.stats().pendingRequests, 0);
});
