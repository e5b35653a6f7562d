import assert from "node:assert/strict";
import { test } from "node:test";
import type { CpuWindow } from "./measure";
import { median, mergeFixed, mergeWindows, mergeWrk } from "./rounds";
import { summarize } from "./stats";

const win = (wallS: number, cpu: number, busyPct: number): CpuWindow => ({ wallS, cpuS: { proxy: cpu }, appCpuS: cpu / 2, machineBusyPct: busyPct, machineBusyCpuS: (busyPct / 100) * 2 * wallS });

test("median: odd, even, NaN left out, empty is NaN", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([Number.NaN, 5, 1]), 3);
  assert.ok(Number.isNaN(median([])));
});

test("windows merge: wall, CPU and busy time summed, busy % weighted by wall time", () => {
  const w = mergeWindows([win(10, 2, 50), win(5, 1, 20)]);
  assert.deepEqual(w.cpuS, { proxy: 3 });
  assert.equal(w.wallS, 15);
  assert.equal(w.appCpuS, 1.5);
  assert.equal(w.machineBusyPct, 40);
});

test("saturation rounds: the median rate, requests and CPU summed (so CPU per request spans every round)", () => {
  const round = (rps: number, p99: number, cpu: number) => ({ requests: rps * 5, durationS: 5, rps, latencyMs: { p50: 1, p90: 2, p99 }, errors: rps === 9000 ? 2 : 0, loadToolCpuS: 1, window: win(5, cpu, 60) });
  const m = mergeWrk([round(12_000, 9, 5), round(9000, 30, 4.5), round(15_000, 7, 5.5)]);
  assert.equal(m.rps, 12_000);
  assert.equal(m.requests, 180_000);
  assert.equal(m.errors, 2);
  assert.equal(m.latencyMs.p99, 9);
  assert.equal(m.window.cpuS["proxy"], 15);
  assert.equal(m.window.wallS, 15);
});

test("fixed-rate rounds: each percentile the rounds' median, counts summed, the slowest max kept", () => {
  const round = (lat: number[], sent: number) => {
    const s = summarize(lat);
    return { rate: 1000, sent, completed: sent, errors: 0, wallS: sent / 1000, service: s, scheduled: s, connectionsUsed: 8, lateSends: 1, sendLag: summarize([0.1]), loadToolCpuS: 0.5, window: win(sent / 1000, 1, 30) };
  };
  const m = mergeFixed([round([0.5, 0.6, 9], 6000), round([0.4, 0.5, 0.7], 6000), round([0.6, 0.8, 3], 6000)]);
  assert.equal(m.service.p50, 0.6);
  assert.equal(m.service.max, 9);
  assert.equal(m.service.p99, 3, "one bad round does not make the p99");
  assert.equal(m.sent, 18_000);
  assert.equal(m.lateSends, 3);
  assert.equal(m.window.cpuS["proxy"], 3);
  assert.throws(() => mergeFixed([]), /no rounds/);
});
