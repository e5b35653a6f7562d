import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { PushCoalescer } from "./push-coalescer";

describe("PushCoalescer", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  /** Lets the microtasks of a finished run settle. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  test("a burst becomes one run after the quiet window", async () => {
    let runs = 0;
    const c = new PushCoalescer(async () => void runs++, { quietMs: 50, maxDelayMs: 250 });
    for (let i = 0; i < 20; i++) {
      c.trigger();
      mock.timers.tick(10);
    }
    await settle();
    assert.equal(runs, 0, "still inside the burst's max delay: each trigger restarted the quiet window");
    mock.timers.tick(50);
    await settle();
    assert.equal(runs, 1);
    mock.timers.tick(1000);
    await settle();
    assert.equal(runs, 1, "nothing pending, nothing runs");
  });

  test("a steady stream of triggers still runs every maxDelay", async () => {
    let runs = 0;
    const c = new PushCoalescer(async () => void runs++, { quietMs: 50, maxDelayMs: 250 });
    for (let t = 0; t < 1000; t += 20) {
      c.trigger();
      mock.timers.tick(20);
      await settle();
    }
    assert.ok(runs >= 3 && runs <= 5, `expected about one run per 250 ms, got ${runs}`);
    await c.close();
  });

  test("runs never overlap; triggers during a run lead to exactly one more run", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => {};
    const c = new PushCoalescer(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      active--;
      runs++;
    }, { quietMs: 50, maxDelayMs: 250 });
    c.trigger();
    mock.timers.tick(50);
    await settle();
    assert.equal(active, 1);
    for (let i = 0; i < 5; i++) c.trigger();
    mock.timers.tick(300); // the next window ends while the first run is still going
    await settle();
    release();
    await settle();
    assert.equal(active, 1, "the second run starts as soon as the first finishes");
    release();
    await settle();
    assert.equal(runs, 2);
    assert.equal(maxActive, 1);
  });

  test("errors go to onError and later triggers still run", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const c = new PushCoalescer(async () => {
      calls++;
      if (calls === 1) throw new Error("database unavailable");
    }, { quietMs: 10, maxDelayMs: 20, onError: (e) => errors.push(e) });
    c.trigger();
    mock.timers.tick(10);
    await settle();
    c.trigger();
    mock.timers.tick(10);
    await settle();
    assert.equal(calls, 2);
    assert.equal(errors.length, 1);
  });

  test("flush runs a pending task at once; close drops a pending one", async () => {
    let runs = 0;
    const c = new PushCoalescer(async () => void runs++, { quietMs: 50, maxDelayMs: 250 });
    c.trigger();
    await c.flush();
    assert.equal(runs, 1);
    c.trigger();
    await c.close();
    mock.timers.tick(1000);
    await settle();
    assert.equal(runs, 1);
  });
});
