import type { FixedRateResult } from "./fixed-rate";
import type { H2loadResult } from "./h2load";
import type { CpuWindow } from "./measure";
import type { LatencySummary } from "./stats";
import type { WrkResult } from "./wrk";

/**
 * Several rounds of one run against one target, merged into the figures of one run: rates and
 * percentiles are the rounds' medians (the machine's speed drifts by ±20 % from minute to
 * minute here, so a single run decides a verdict by luck near the line), counts and CPU are
 * sums, so CPU per request is over every request of every round. Pure; unit-tested.
 */

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The windows of several rounds as one: wall, CPU and busy time summed, busy % averaged over the wall time. */
export function mergeWindows(ws: readonly CpuWindow[]): CpuWindow {
  const cpuS: Record<string, number> = {};
  for (const w of ws) for (const [k, v] of Object.entries(w.cpuS)) cpuS[k] = (cpuS[k] ?? 0) + v;
  const wallS = ws.reduce((s, w) => s + w.wallS, 0);
  return {
    wallS,
    cpuS,
    appCpuS: ws.reduce((s, w) => s + w.appCpuS, 0),
    machineBusyCpuS: ws.reduce((s, w) => s + w.machineBusyCpuS, 0),
    machineBusyPct: wallS > 0 ? ws.reduce((s, w) => s + w.machineBusyPct * w.wallS, 0) / wallS : Number.NaN,
  };
}

function medianSummary(xs: readonly LatencySummary[]): LatencySummary {
  const m = (k: keyof LatencySummary) => median(xs.map((x) => x[k]));
  return { n: xs.reduce((s, x) => s + x.n, 0), mean: m("mean"), p50: m("p50"), p90: m("p90"), p99: m("p99"), p999: m("p999"), max: Math.max(...xs.map((x) => x.max)) };
}

type Windowed<T> = T & { window: CpuWindow };

export function mergeFixed(rounds: ReadonlyArray<Windowed<FixedRateResult>>): Windowed<FixedRateResult> {
  if (rounds.length === 0) throw new Error("no rounds to merge");
  const sum = (k: "sent" | "completed" | "errors" | "wallS" | "lateSends" | "loadToolCpuS") => rounds.reduce((s, r) => s + r[k], 0);
  return {
    rate: rounds[0]!.rate,
    sent: sum("sent"),
    completed: sum("completed"),
    errors: sum("errors"),
    wallS: sum("wallS"),
    service: medianSummary(rounds.map((r) => r.service)),
    scheduled: medianSummary(rounds.map((r) => r.scheduled)),
    connectionsUsed: Math.max(...rounds.map((r) => r.connectionsUsed)),
    lateSends: sum("lateSends"),
    sendLag: medianSummary(rounds.map((r) => r.sendLag)),
    loadToolCpuS: sum("loadToolCpuS"),
    window: mergeWindows(rounds.map((r) => r.window)),
  };
}

export function mergeWrk(rounds: ReadonlyArray<Windowed<WrkResult>>): Windowed<WrkResult> {
  if (rounds.length === 0) throw new Error("no rounds to merge");
  const m = (k: "p50" | "p90" | "p99") => median(rounds.map((r) => r.latencyMs[k]));
  return { ...mergeSaturation(rounds), latencyMs: { p50: m("p50"), p90: m("p90"), p99: m("p99") } };
}

export function mergeH2load(rounds: ReadonlyArray<Windowed<H2loadResult>>): Windowed<H2loadResult> {
  if (rounds.length === 0) throw new Error("no rounds to merge");
  return mergeSaturation(rounds);
}

function mergeSaturation(rounds: ReadonlyArray<Windowed<H2loadResult>>): Windowed<H2loadResult> {
  const sum = (k: "requests" | "durationS" | "errors" | "loadToolCpuS") => rounds.reduce((s, r) => s + r[k], 0);
  return { requests: sum("requests"), durationS: sum("durationS"), rps: median(rounds.map((r) => r.rps)), errors: sum("errors"), loadToolCpuS: sum("loadToolCpuS"), window: mergeWindows(rounds.map((r) => r.window)) };
}
