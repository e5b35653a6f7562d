import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LiveWindow, MAX_RUNNING_WINDOWS, RUNNING_WINDOW_IDLE_MS } from "./live-window";
import type { IngestRow } from "./live-window";
import * as L from "./row-layout";
import { T0, TestClock, httpRow, satRow, tcpRow } from "./test-rows";
import { aggregate, slotsFor, summedSlot } from "./window-query";
import type { SlotSource, Sums, TimeRange } from "./window-query";

const side = (i: number) => ({ namespace: "default", service: `svc-${i}`, workload: `svc-${i}-a`, version: "v1" });

/** A deterministic pseudo-random mesh second: which series report and with what, varying second to second. */
function rowsOf(sec: number): IngestRow[] {
  const rows: IngestRow[] = [];
  for (let i = 0; i < 12; i++) {
    const h = (sec * 7919 + i * 104729) % 97;
    if (h % 3 === 0) continue; // series come and go
    const latencies = Array.from({ length: 1 + (h % 5) }, (_, k) => 0.37 * (k + 1) * (1 + (h % 40))); // fractional ms
    rows.push(httpRow("source", side(i), side((i + 1) % 12), { byClass: [h % 2, 0, latencies.length, 0, 0, h % 4 === 0 ? 1 : 0], latencyMs: [...latencies, ...(h % 2 ? [9.1] : []), ...(h % 4 === 0 ? [777.7] : [])], mtls: 1, requestBytes: h, responseBytes: 3 * h }));
    if (h % 5 === 0) rows.push(tcpRow("source", side(i), side(0), { opened: 1, sent: h, received: 2 * h }));
    rows.push(satRow("destination", side((i + 1) % 12), side(i), { inFlight: h % 7, poolActive: h % 3, poolLimit: 10 }));
  }
  return rows;
}

/** The same window read slot by slot: what aggregate() does without running sums. */
function fromSlots(w: LiveWindow): SlotSource {
  return { slotsFor: (r) => slotsFor(w, r), key: (id) => w.keys.key(id), lastCompleteSecond: w.lastCompleteSecond };
}

function assertSameSums(running: Map<string, Sums>, direct: Map<string, Sums>, what: string): void {
  assert.deepEqual([...running.keys()].sort(), [...direct.keys()].sort(), what);
  for (const [g, d] of direct) {
    const r = running.get(g)!;
    for (let i = 0; i < L.STRIDE; i++) assert.ok(Math.abs(r.vals[i]! - d.vals[i]!) < 1e-6, `${what}: ${g} vals[${i}] ${r.vals[i]} vs ${d.vals[i]}`);
    assert.deepEqual(Array.from(r.hist), Array.from(d.hist), `${what}: ${g} histogram`);
  }
}

/** Per-series groups: any difference in any series shows. */
const read = (range: TimeRange, src: LiveWindow | SlotSource) => aggregate(src, range, (k) => `${k.reporter}|${k.kind}|${k.srcService}|${k.dstService}`);

describe("running window sums", () => {
  test("a window ending now, read every second, sums exactly what its slots hold (seconds, then minutes after the 1 s ring)", () => {
    const clock = new TestClock(T0);
    // 90 s of seconds: a 60 s window reads seconds, a 600 s window reads minutes plus this minute's seconds.
    const w = new LiveWindow({ now: clock.now, secondsKept: 90 });
    let compared = 0;
    for (let s = T0; s < T0 + 900; s++) {
      clock.set(s);
      w.ingest(rowsOf(s));
      clock.set(s + 1);
      if (s % 7 !== 0 && s < T0 + 840) continue; // read now and then, and every second near the end
      for (const len of [10, 60, 600]) {
        const range = { fromSec: s + 1 - len, toSec: s + 1 };
        assert.ok(summedSlot(w, range), "a window ending now has running sums");
        assertSameSums(read(range, w), read(range, fromSlots(w)), `window ${len} s ending ${s + 1 - T0}`);
        compared++;
      }
    }
    assert.ok(compared > 300);
    assert.deepEqual(w.stats().runningWindows, [10, 60, 600]);
  });

  test("a window that does not end now is summed from its slots", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    for (let s = T0; s < T0 + 30; s++) {
      clock.set(s);
      w.ingest(rowsOf(s));
    }
    clock.set(T0 + 30);
    assert.equal(summedSlot(w, { fromSec: T0, toSec: T0 + 20 }), undefined);
    const range = { fromSec: T0 + 5, toSec: T0 + 20 };
    assertSameSums(read(range, w), read(range, fromSlots(w)), "replayed window");
    assert.deepEqual(w.stats().runningWindows, []);
  });

  test("series that leave the window leave no residue, and come back cleanly", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    const odd = httpRow("source", side(1), side(2), { byClass: [0, 0, 3], latencyMs: [0.1, 0.2, 0.30000000000000004] });
    for (let s = T0; s < T0 + 20; s++) {
      clock.set(s);
      w.ingest(s < T0 + 5 || s >= T0 + 15 ? [odd] : [httpRow("source", side(3), side(4), { byClass: [0, 0, 1] })]);
      clock.set(s + 1);
      summedSlot(w, { fromSec: s - 2, toSec: s + 1 }); // a 3 s window, read every second
    }
    const slot = summedSlot(w, { fromSec: T0 + 17, toSec: T0 + 20 })!;
    assert.equal(slot.keys.length, 1, "only the series of the last 3 s");
    assert.equal(w.keys.key(slot.keys[0]!).srcService, "svc-1");
    assert.equal(slot.vals[L.REQUESTS], 9);
    assert.equal(slot.vals[L.LATENCY_SUM_MS], 3 * (0.1 + 0.2 + 0.30000000000000004), "no residue from the 10 s it was gone");
  });

  test(`keeps at most ${MAX_RUNNING_WINDOWS} lengths, least recently read first out, and drops any left unread`, () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    clock.set(T0);
    w.ingest(rowsOf(T0));
    clock.set(T0 + 1);
    const at = (len: number) => summedSlot(w, { fromSec: T0 + 1 - len, toSec: T0 + 1 });
    for (const len of [1, 2, 3, 4]) at(len);
    clock.set(T0 + 1.5 as number); // same second, later reads
    at(1);
    at(5);
    assert.deepEqual(w.stats().runningWindows, [1, 3, 4, 5], "2 was the least recently read");
    assert.ok(w.stats().runningWindowBytes > 0);
    clock.set(T0 + 1 + RUNNING_WINDOW_IDLE_MS / 1000 + 1);
    summedSlot(w, { fromSec: w.lastCompleteSecond - 9, toSec: w.lastCompleteSecond + 1 });
    assert.deepEqual(w.stats().runningWindows, [10], "the unread ones are gone");
  });
});
