import assert from "node:assert/strict";
import { test } from "node:test";
import { projectMemory } from "./window-memory";
import type { WindowSample } from "./window-memory";

/**
 * A window growing `s` bytes a second and `m` more at each minute boundary, sampled once a
 * second from `from` (ms) except the seconds in `missed`; from sample `evictAt` on, the budget
 * evicts one second a second.
 */
function samples(from: number, n: number, s: number, m: number, evictAt = Infinity, missed: number[] = []): WindowSample[] {
  const out: WindowSample[] = [];
  let bytes = 0;
  let evicted = 0;
  for (let i = 0; i < n; i++) {
    const sec = Math.floor(from / 1000) + i;
    if (i > 0) {
      bytes += s;
      if (sec % 60 === 0) bytes += m;
      if (i >= evictAt) {
        bytes -= s;
        evicted++;
      }
    }
    if (!missed.includes(i)) out.push({ sec, rtMs: 5, bytes, series: 1000, evictedForMemory: evicted, memoryBytes: 256 * 2 ** 20 });
  }
  return out;
}

/** Telemetry ran without pause from `from` on. */
const since = (from: number) => (a: number, b: number) => Math.max(0, (b - Math.max(a, from)) / 1000);

test("second and minute slot sizes from the growth of liveStats bytes, evictions added back", () => {
  const from = 1_700_000_000_000 - (1_700_000_000_000 % 60_000) + 500; // half a second into a minute
  // The samples around the second minute boundary are missing: that step spans three seconds.
  const p = projectMemory(samples(from, 150, 2_000_000, 30_000_000, 100, [119, 120]), since(from));
  assert.equal(p.secondSlotBytes, 2_000_000);
  assert.equal(p.minuteSlotBytes, 30_000_000);
  assert.equal(p.minuteCoveredS, 60);
  assert.equal(p.evictingAfterS, 99);
  assert.equal(p.projectedBytes, 1800 * 2_000_000 + 1440 * 30_000_000 + 300_000);
  // 256 MiB cannot hold 24 h of 30 MB minutes even with 60 s of seconds: it keeps what fits.
  assert.deepEqual(p.budgetKeeps, { secondsS: 60, minutes: Math.floor((256 * 2 ** 20 - 60 * 2_000_000 - 300_000) / 30_000_000) });
});

test("a small window fits the budget whole", () => {
  const from = 1_700_000_000_000;
  const p = projectMemory(samples(from, 90, 1000, 20_000), since(from));
  assert.deepEqual(p.budgetKeeps, { secondsS: 1800, minutes: 1440 });
  assert.ok(Number.isNaN(p.evictingAfterS));
});

test("a sample read behind a blocked event loop, one slot short, does not skew the minute slot", () => {
  const from = 1_700_000_000_000 - (1_700_000_000_000 % 60_000) - 20_500; // 20.5 s before a minute boundary
  const xs = samples(from, 40, 1_000_000, 5_000_000);
  const atBoundary = xs.findIndex((x) => x.sec % 60 === 0);
  xs[atBoundary] = { ...xs[atBoundary]!, rtMs: 400, bytes: xs[atBoundary]!.bytes - 1_000_000 };
  const p = projectMemory(xs, since(from - 60_000));
  assert.equal(p.secondSlotBytes, 1_000_000);
  assert.equal(p.minuteSlotBytes, 5_000_000);
  assert.equal(p.minuteCoveredS, 60);
});
