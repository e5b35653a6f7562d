import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild } from "./children";
import type { FixedRateOptions, FixedRateResult } from "./fixed-rate";
import { runH2load } from "./h2load";
import type { H2loadResult } from "./h2load";
import type { Options, TargetId } from "./options";
import { busyPct, cpuSecondsOf, loadAverage1m, machineTicks, peakRssMb, rssMb } from "./proc";
import { runWrk } from "./wrk";
import { mergeFixed, mergeH2load, mergeWrk } from "./rounds";
import type { LatencySummary } from "./stats";
import type { WrkResult } from "./wrk";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixed-rate-worker.ts");

/** A process (or nginx's master + worker) whose CPU and memory are reported. */
export interface ProcessGroup {
  name: string;
  pids: number[];
}

/** One way of reaching the app, with the processes it puts on the path. */
export interface Target {
  id: TargetId;
  label: string;
  h1: { port: number; authority: string };
  /** h2c listener, when the target has one. */
  h2: { port: number; authority: string } | undefined;
  /** The proxies under test (none for the app direct). */
  processes: ProcessGroup[];
}

/** CPU seconds per process group over one measured window, and what else the machine did. */
export interface CpuWindow {
  wallS: number;
  /** By ProcessGroup name. */
  cpuS: Record<string, number>;
  appCpuS: number;
  /** Whole machine, % of all CPUs (load tool, app, proxies and anything else running). */
  machineBusyPct: number;
  /** Whole machine, CPU seconds busy (all CPUs together). */
  machineBusyCpuS: number;
}

export interface TargetResult {
  id: TargetId;
  label: string;
  /** Each undefined when its phase was not asked for (or, for h2, the target has no h2c listener). */
  fixed: (FixedRateResult & { window: CpuWindow }) | undefined;
  h1: (WrkResult & { window: CpuWindow }) | undefined;
  h2: (H2loadResult & { window: CpuWindow }) | undefined;
  /** Each round's own figures: the fixed rate's latencies, wrk's and h2load's req/s (the merged ones above are their medians). */
  rounds: { fixed: LatencySummary[]; h1: number[]; h2: number[] };
  /** VmRSS right before the load, MB, by process group. */
  rssBeforeMb: Record<string, number>;
  /** VmHWM after every run on this target, MB, by process group. */
  peakRssMb: Record<string, number>;
  /** 1-minute load average when all rounds had ended. */
  loadAverageAfter: number;
}

/** Reads CPU of `groups` and the app when opened and when closed. */
class Window {
  private readonly t0 = performance.now();
  private readonly m0 = machineTicks();
  private readonly c0: number[];
  private readonly a0: number;

  constructor(
    private readonly groups: ProcessGroup[],
    private readonly appPids: number[],
  ) {
    this.c0 = groups.map((g) => cpuSecondsOf(g.pids));
    this.a0 = cpuSecondsOf(appPids);
  }

  close(): CpuWindow {
    const cpuS: Record<string, number> = {};
    this.groups.forEach((g, i) => (cpuS[g.name] = cpuSecondsOf(g.pids) - this.c0[i]!));
    const m1 = machineTicks();
    return { wallS: (performance.now() - this.t0) / 1000, cpuS, appCpuS: cpuSecondsOf(this.appPids) - this.a0, machineBusyPct: busyPct(this.m0, m1), machineBusyCpuS: (m1.busy - this.m0.busy) / 100 };
  }
}

export async function windowed<T>(groups: ProcessGroup[], appPids: number[], run: () => Promise<T>): Promise<T & { window: CpuWindow }> {
  const w = new Window(groups, appPids);
  const r = await run();
  return { ...r, window: w.close() };
}

/** The fixed-rate generator as a child process; the window is the one it announces. */
export function fixedRate(opts: FixedRateOptions, groups: ProcessGroup[], appPids: number[], timeoutMs: number): Promise<FixedRateResult & { window: CpuWindow }> {
  const c = spawnChild("fixed-rate generator", process.execPath, ["--import", "tsx", WORKER, JSON.stringify(opts)], { stdout: "pipe" });
  return new Promise((resolve, reject) => {
    let w: Window | undefined;
    let window: CpuWindow | undefined;
    let out = "";
    const timer = setTimeout(() => (c.child.kill("SIGKILL"), reject(new Error(`the fixed-rate generator did not finish within ${timeoutMs} ms; stderr:\n${c.stderr()}`))), timeoutMs);
    c.child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        const msg = JSON.parse(out.slice(0, nl)) as { event: string } & FixedRateResult;
        out = out.slice(nl + 1);
        if (msg.event === "start") w = new Window(groups, appPids);
        else if (msg.event === "end") window = w?.close();
        else if (msg.event === "result" && window) {
          clearTimeout(timer);
          const { event: _, ...result } = msg;
          resolve({ ...result, window });
        }
      }
    });
    c.child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`the fixed-rate generator exited with ${code}; stderr:\n${c.stderr()}`));
    });
  });
}

/** One round of runs against one target (each undefined when its phase was not asked for). */
export interface TargetRound {
  fixed: (FixedRateResult & { window: CpuWindow }) | undefined;
  h1: (WrkResult & { window: CpuWindow }) | undefined;
  h2: (H2loadResult & { window: CpuWindow }) | undefined;
}

/** What a target's processes use before any load: VmRSS by process group, MB. */
export function rssBefore(t: Target): Record<string, number> {
  return Object.fromEntries(t.processes.map((g) => [g.name, g.pids.reduce((s, p) => s + (rssMb(p) ?? 0), 0)]));
}

/** A wrk run at saturation before anything is measured (JIT, pools, buffers). */
export async function warmUp(t: Target, o: Options): Promise<void> {
  if (o.warmupS > 0) await runWrk(t.h1.port, t.h1.authority, o.connections, o.warmupS);
}

/**
 * One round against one target, in this order: the fixed rate (after its own warm-up at that
 * rate: `--warmup-s` in the first round, 1 s in later ones), saturation over HTTP/1.1 with
 * wrk, then over HTTP/2 with h2load. Runs one after the other: the two cores are shared by
 * the load tool, the app and the proxies under test.
 */
export async function measureRound(t: Target, o: Options, appPids: number[], bodyBytes: number, round: number, log: (s: string) => void): Promise<TargetRound> {
  const tag = o.rounds > 1 ? ` (round ${round + 1}/${o.rounds})` : "";
  let fixed: TargetRound["fixed"];
  if (o.phases.includes("fixed")) {
    const warmupS = round === 0 ? o.warmupS : Math.min(o.warmupS, 1);
    const opts = { host: "127.0.0.1", port: t.h1.port, authority: t.h1.authority, path: "/", rate: o.rate, durationS: o.fixedS, warmupS, connections: o.fixedConnections, maxConnections: 256, expectBodyBytes: bodyBytes };
    fixed = await fixedRate(opts, t.processes, appPids, (o.fixedS + warmupS + 60) * 1000);
    log(`  ${t.id}${tag}: ${o.rate} rps fixed: p50 ${fixed.service.p50.toFixed(3)} p90 ${fixed.service.p90.toFixed(3)} p99 ${fixed.service.p99.toFixed(3)} ms, ${fixed.errors} errors`);
  }
  let h1: TargetRound["h1"];
  if (o.phases.includes("h1")) {
    h1 = await windowed(t.processes, appPids, () => runWrk(t.h1.port, t.h1.authority, o.connections, o.saturationS));
    log(`  ${t.id}${tag}: wrk ${h1.rps.toFixed(0)} req/s, ${h1.errors} errors`);
  }
  let h2: TargetRound["h2"];
  if (o.phases.includes("h2") && t.h2) {
    const { port, authority } = t.h2;
    h2 = await windowed(t.processes, appPids, () => runH2load(port, authority, o.h2Connections, o.h2Streams, o.saturationS));
    log(`  ${t.id}${tag}: h2load ${h2.rps.toFixed(0)} req/s, ${h2.errors} errors`);
  }
  return { fixed, h1, h2 };
}

/** A target's rounds merged (rounds.ts: medians of rates and percentiles, sums of counts and CPU), with its peak RSS now. */
export function targetResult(t: Target, rounds: readonly TargetRound[], rssBeforeMb: Record<string, number>): TargetResult {
  const some = <T>(xs: Array<T | undefined>): T[] | undefined => (xs.every((x) => x !== undefined) && xs.length > 0 ? (xs as T[]) : undefined);
  const fixed = some(rounds.map((r) => r.fixed));
  const h1 = some(rounds.map((r) => r.h1));
  const h2 = some(rounds.map((r) => r.h2));
  const peak = Object.fromEntries(t.processes.map((g) => [g.name, g.pids.reduce((s, p) => s + (peakRssMb(p) ?? Number.NaN), 0)]));
  return {
    id: t.id,
    label: t.label,
    fixed: fixed && mergeFixed(fixed),
    h1: h1 && mergeWrk(h1),
    h2: h2 && mergeH2load(h2),
    rounds: { fixed: fixed?.map((r) => r.service) ?? [], h1: h1?.map((r) => r.rps) ?? [], h2: h2?.map((r) => r.rps) ?? [] },
    rssBeforeMb,
    peakRssMb: peak,
    loadAverageAfter: loadAverage1m(),
  };
}
