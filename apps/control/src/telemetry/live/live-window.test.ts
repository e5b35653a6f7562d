import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { latencyBucket } from "@trellis/config";
import { LiveWindow } from "./live-window";
import * as L from "./row-layout";
import { KeyTable, OVERFLOW_SERIES_ROUTE } from "./series-key";
import type { FrozenSlot } from "./slot";
import { T0, TestClock, httpRow, ingestSeconds, seriesKey } from "./test-rows";

const PP = { namespace: "default", service: "productpage", workload: "productpage-a", version: "v1" };
const REVIEWS = { namespace: "default", service: "reviews", workload: "reviews-v1-a", version: "v1" };

const requests = (slot: FrozenSlot, row = 0) => slot.vals[row * L.STRIDE + L.REQUESTS]!;
const histOf = (slot: FrozenSlot, row = 0) => {
  const out = new Map<number, number>();
  for (let j = slot.histOff[row]!; j < slot.histOff[row + 1]!; j++) out.set(slot.histIdx[j]!, slot.histCnt[j]!);
  return out;
};
const pp = (n: number, latencyMs = 10) => httpRow("source", PP, REVIEWS, { byClass: [0, 0, n], latencyMs });

describe("LiveWindow", () => {
  test("a second's rows become visible once the clock has moved past that second, not before", () => {
    const clock = new TestClock(T0 + 5);
    const w = new LiveWindow({ now: clock.now });
    w.ingest([pp(3)]);
    w.ingest([pp(4)]);
    assert.deepEqual(w.secondsIn(T0, T0 + 100), [], "the current second is still open");
    clock.set(T0 + 5.999);
    assert.deepEqual(w.secondsIn(T0, T0 + 100), []);
    assert.equal(w.lastCompleteSecond, T0 + 4);
    clock.set(T0 + 6);
    const slots = w.secondsIn(T0, T0 + 100);
    assert.equal(slots.length, 1);
    assert.equal(slots[0]!.t, T0 + 5);
    assert.equal(requests(slots[0]!), 7, "rows of one series in one second are summed");
    assert.equal(w.lastCompleteSecond, T0 + 5);
    // [from, to) bounds
    assert.equal(w.secondsIn(T0 + 6, T0 + 100).length, 0);
    assert.equal(w.secondsIn(T0, T0 + 5).length, 0);
  });

  test("the minute roll-up holds the sum of its seconds, histograms included, once the minute is over", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 60, (s) => (s % 20 === 1 ? [pp(s - T0, s === T0 + 41 ? 100 : 10)] : []));
    clock.set(T0 + 59);
    assert.deepEqual(w.minutesIn(T0, T0 + 3600), [], "the minute is still open");
    clock.set(T0 + 60);
    assert.equal(w.secondsIn(T0, T0 + 60).length, 3, "only seconds with rows are kept");
    const minutes = w.minutesIn(T0, T0 + 3600);
    assert.equal(minutes.length, 1);
    assert.equal(minutes[0]!.t, T0);
    assert.equal(requests(minutes[0]!), 1 + 21 + 41);
    assert.deepEqual(histOf(minutes[0]!), new Map([[latencyBucket(10), 22], [latencyBucket(100), 41]]));
    assert.equal(minutes[0]!.vals[L.LATENCY_SUM_MS], 22 * 10 + 41 * 100);
  });

  test("a clock jump closes the open second and its minute", () => {
    const clock = new TestClock(T0 + 30);
    const w = new LiveWindow({ now: clock.now });
    w.ingest([pp(5)]);
    clock.set(T0 + 600);
    assert.equal(requests(w.secondsIn(T0, T0 + 600)[0]!), 5);
    assert.equal(requests(w.minutesIn(T0, T0 + 600)[0]!), 5);
  });

  test("seconds older than secondsKept and minutes older than minutesKept are dropped", () => {
    const clock = new TestClock(T0 + 1);
    const w = new LiveWindow({ now: clock.now, secondsKept: 10, minutesKept: 2 });
    w.ingest([pp(1)]);
    clock.set(T0 + 11);
    assert.equal(w.secondsIn(T0, T0 + 100).length, 1, "10 complete seconds are kept");
    assert.equal(w.stats().secondsFrom, T0 + 1);
    clock.set(T0 + 12);
    assert.equal(w.secondsIn(T0, T0 + 100).length, 0);
    assert.equal(w.stats().secondsFrom, null);
    clock.set(T0 + 60);
    assert.equal(w.minutesIn(T0, T0 + 3600).length, 1, "its minute remains");
    clock.set(T0 + 120);
    assert.equal(w.stats().minutesFrom, T0);
    clock.set(T0 + 121);
    assert.equal(w.minutesIn(T0, T0 + 3600).length, 0);
    assert.equal(w.stats().minutesFrom, null);
    assert.equal(w.stats().evictedForMemory, 0, "age is not memory pressure");
  });

  test("over the memory budget the oldest seconds go first, their minutes stay, and the bytes stay within the budget", () => {
    const clock = new TestClock(T0);
    // One row a second, no histogram: find what a slot costs, then allow about 100 of them.
    const probe = new LiveWindow({ now: clock.now });
    probe.ingest([httpRow("source", PP, REVIEWS, { byClass: [1], latencyMs: [] })]);
    clock.set(T0 + 1);
    const slotBytes = probe.secondsIn(T0, T0 + 1)[0]!.bytes;
    const budget = 100 * slotBytes;

    clock.set(T0);
    const w = new LiveWindow({ now: clock.now, memoryBytes: budget });
    const row = httpRow("source", PP, REVIEWS, { byClass: [1], latencyMs: [] });
    for (let s = T0; s < T0 + 300; s++) {
      clock.set(s);
      w.ingest([row]);
      assert.ok(w.stats().bytes <= budget, `${w.stats().bytes} bytes at second ${s - T0}, budget ${budget}`);
    }
    clock.set(T0 + 300);
    w.advance();
    const st = w.stats();
    assert.ok(st.bytes <= budget, `${st.bytes} bytes, budget ${budget}`);
    assert.equal(st.memoryBytes, budget);
    assert.ok(st.evictedForMemory > 0);
    assert.ok(st.secondsFrom! > T0 + 200, `the 1 s ring now starts at ${st.secondsFrom! - T0}`);
    assert.equal(st.minutesFrom, T0, "minutes are evicted only after the seconds");
    assert.equal(w.minutesIn(T0, T0 + 300).length, 5);
    assert.equal(w.secondsIn(T0 + 299, T0 + 300).length, 1, "the newest second is kept");
    assert.equal(st.secondsFrom, w.secondsCoverFrom);
  });

  test("when the seconds are down to the last minute, the oldest minutes go", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now, memoryBytes: 1 });
    const row = httpRow("source", PP, REVIEWS, { byClass: [1], latencyMs: [] });
    ingestSeconds(w, clock, T0, T0 + 300, () => [row]);
    assert.equal(w.secondsIn(T0, T0 + 300).length, 60, "the last 60 seconds are never evicted for memory");
    const st = w.stats();
    assert.equal(st.minutesFrom, null, "every minute went");
    assert.equal(st.secondsFrom, T0 + 240);
  });

  test("past maxSeries, new keys fold into one overflow series per reporter and kind, and are counted", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now, maxSeries: 2 });
    const to = (n: number) => ({ namespace: "default", service: `svc-${n}` });
    w.ingest([1, 2, 3, 4, 5].map((n) => httpRow("source", PP, to(n), { byClass: [0, 0, n] })));
    w.ingest([httpRow("source", PP, to(1), { byClass: [0, 0, 10] })]);
    w.ingest([httpRow("destination", PP, to(6), { byClass: [0, 0, 6] })]);
    clock.set(T0 + 1);
    const st = w.stats();
    assert.equal(st.foldedRows, 4);
    assert.equal(st.series, 4, "2 keys and 2 overflow series (source/http, destination/http)");
    const slot = w.secondsIn(T0, T0 + 1)[0]!;
    const byKey = new Map<string, number>();
    for (let r = 0; r < slot.keys.length; r++) {
      const k = w.keys.key(slot.keys[r]!);
      byKey.set(`${k.reporter} ${k.dstService || "-"} ${k.route}`, requests(slot, r));
    }
    assert.deepEqual(
      byKey,
      new Map([
        ["source svc-1 ", 11],
        ["source svc-2 ", 2],
        [`source - ${OVERFLOW_SERIES_ROUTE}`, 3 + 4 + 5],
        [`destination - ${OVERFLOW_SERIES_ROUTE}`, 6],
      ]),
    );
  });

  test("keys no retained slot uses are swept (hourly), and their ids reused", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now, secondsKept: 10, minutesKept: 1 });
    const a = httpRow("source", PP, { namespace: "default", service: "a" }, { byClass: [1] });
    const b = httpRow("source", PP, { namespace: "default", service: "b" }, { byClass: [1] });
    w.ingest([a]);
    const idA = w.keys.id(a.key, T0);
    clock.set(T0 + 1);
    w.advance(); // the first advance sweeps
    assert.equal(w.stats().series, 1, "a key in a retained slot is not swept");
    clock.set(T0 + 3700);
    w.ingest([b]);
    assert.equal(w.stats().series, 1, "a, last written an hour ago, is gone");
    assert.equal(w.keys.key(idA).dstService, "b", "b took a's freed id");
  });
});

describe("LiveWindow.start", () => {
  test("ticks once a second, whenever in the second it starts", () => {
    for (const startMs of [1, 500, 999]) {
      mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: T0 * 1000 + startMs });
      try {
        const w = new LiveWindow({ now: () => Date.now() });
        const advance = mock.method(w, "advance");
        const seconds: number[] = [];
        w.on("second", (t) => seconds.push(t - T0));
        // Mock timers set Date to the end of a tick before firing, so tick a millisecond at a time.
        const run = (ms: number) => {
          for (let i = 0; i < ms; i++) mock.timers.tick(1);
        };
        w.start();
        run(5000);
        w.stop();
        run(3000);
        assert.deepEqual(seconds, [0, 1, 2, 3, 4], `started at +${startMs} ms`);
        assert.ok(advance.mock.callCount() <= 6, `started at +${startMs} ms: ${advance.mock.callCount()} ticks in 5 s`);
      } finally {
        mock.timers.reset();
      }
    }
  });
});

describe("KeyTable", () => {
  const key = (svc: string) => seriesKey("source", "http", PP, { namespace: "default", service: svc });

  test("interns keys and sweeps those not written since a time", () => {
    const t = new KeyTable(10);
    const a = t.id(key("a"), 100);
    const b = t.id(key("b"), 200);
    assert.equal(t.id(key("a"), 100), a, "same key, same id");
    assert.notEqual(a, b);
    assert.equal(t.sweep(150), 1);
    assert.equal(t.size, 1);
    assert.throws(() => t.key(a), /series id \d+ is not in use/);
    assert.equal(t.key(b).dstService, "b");
    assert.equal(t.id(key("c"), 300), a, "a freed id is reused");
    assert.equal(t.key(a).dstService, "c");
    assert.equal(t.sweep(150), 0);
  });

  test("writing a key again keeps it from being swept", () => {
    const t = new KeyTable(10);
    const a = t.id(key("a"), 100);
    t.id(key("a"), 500);
    assert.equal(t.sweep(400), 0);
    assert.equal(t.key(a).dstService, "a");
  });
});
