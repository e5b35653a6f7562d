import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backoff, sleep } from "./backoff";

describe("Backoff", () => {
  test("full jitter: each delay is random() times a ceiling that doubles up to maxMs", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0.5);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [50, 100, 200, 400, 500, 500]);
    const top = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0.999);
    const zero = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0);
    for (let i = 0; i < 10; i++) {
      assert.ok(top.next() < 1000);
      assert.equal(zero.next(), 0);
    }
  });

  test("reset starts again from the base", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 10_000 }, () => 0.5);
    for (let i = 0; i < 5; i++) b.next();
    assert.equal(b.attempts, 5);
    assert.equal(b.ceilingMs, 3200);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 50);
  });

  test("a thousand attempts do not overflow", () => {
    const b = new Backoff({ baseMs: 1, maxMs: 30_000 }, () => 0.5);
    for (let i = 0; i < 1000; i++) b.next();
    assert.equal(b.ceilingMs, 30_000);
  });

  test("refuses nonsense bounds", () => {
    assert.throws(() => new Backoff({ baseMs: 0, maxMs: 10 }), /baseMs must be greater than 0/);
    assert.throws(() => new Backoff({ baseMs: 100, maxMs: 10 }), /maxMs must be at least baseMs \(100\), got 10/);
  });
});

describe("sleep", () => {
  test("resolves after the delay, not before", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let done = false;
    const p = sleep(1000).then(() => (done = true));
    t.mock.timers.tick(999);
    await Promise.resolve();
    assert.equal(done, false);
    t.mock.timers.tick(1);
    await p;
    assert.equal(done, true);
  });

  test("an abort ends the wait at once; an aborted signal does not wait at all", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await p; // would hang if the abort were ignored: the mocked clock never advances
    await sleep(60_000, ac.signal);
    assert.ok(true);
  });
});
