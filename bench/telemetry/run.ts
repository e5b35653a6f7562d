/**
 * Telemetry benchmark: what ingesting every proxy's per-second delta costs the control plane
 * (against the same control plane holding the same streams without telemetry, measured in the
 * same run), and how fast the graph API answers with the live window full.
 * See README.md next to this file; `npm run bench:telemetry -- --help` for options.
 *
 * Orchestration only: control-plane.ts (process, database, Services), load.ts + load-worker.ts
 * (the fake proxies), ingest-phase.ts, graph-phase.ts, window-memory.ts, report.ts. Everything
 * runs on 127.0.0.1; every child process and the database are cleaned up on any exit, and the
 * whole run is bounded by --timeout-s.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Cleanup } from "../config-propagation/cleanup";
import { RssSampler, cpuSeconds, cpuSecondsOf } from "../config-propagation/rss";
import { bundleSections, summarizeProfile } from "../proxy/profile-summary";
import type { CpuProfile, ProfileSummary } from "../proxy/profile-summary";
import { startControlPlane } from "./control-plane";
import { timeGraphGet, timeGraphWatch, WINDOWS } from "./graph-phase";
import { addStats, runIngest } from "./ingest-phase";
import { LoadFleet } from "./load";
import { Mesh } from "./mesh";
import { parseOptions } from "./options";
import { sliceProfile } from "./profile-slice";
import { buildReport, renderReport } from "./report";
import { WindowSampler, projectMemory } from "./window-memory";

const o = parseOptions(process.argv.slice(2));
const cleanup = new Cleanup();
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let exiting = false;
/** The first caller decides the exit code and message; later ones (errors caused by the teardown itself) just wait. */
async function exit(code: number, why?: string): Promise<never> {
  if (exiting) return new Promise<never>(() => {});
  exiting = true;
  if (why) process.stderr.write(`${why}\n`);
  await cleanup.run();
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void exit(130, `interrupted (${signal}); cleaning up`));
const overall = setTimeout(() => void exit(2, `the benchmark did not finish within ${o.timeoutMs / 1000} s (--timeout-s); cleaning up`), o.timeoutMs);

/** Wall-clock spans [from, to) with telemetry on: how much data a graph window held, which window samples count. */
const onSpans: [number, number][] = [];
const onTelemetry = (on: boolean) => (on ? onSpans.push([Date.now(), Infinity]) : (onSpans[onSpans.length - 1]![1] = Date.now()));
/** Seconds of telemetry sent within [fromMs, toMs). */
const telemetryS = (fromMs: number, toMs: number) => onSpans.reduce((s, [a, b]) => s + Math.max(0, Math.min(b, toMs) - Math.max(a, fromMs)) / 1000, 0);

try {
  const mesh = new Mesh(o.services, o.proxies);
  log(`${o.proxies} proxies, ${o.services} services (${mesh.edgeCount} edges), ${o.database}, load generator in ${o.loadProcs} process(es)`);
  const cp = await startControlPlane(o, mesh, cleanup);
  const pid = cp.cp.pid;
  const rss = new RssSampler(pid);
  cleanup.add("stop RSS sampling", () => rss.stop());
  log(`control plane pid ${pid}: api ${cp.cp.api}, grpc 127.0.0.1:${cp.cp.grpcPort}; ${o.services} Services applied`);

  const fleet = LoadFleet.start(o.loadProcs);
  const closeFleet = cleanup.add("close the load generator", () => fleet.close());
  const t0 = performance.now();
  await fleet.connect(`127.0.0.1:${cp.cp.grpcPort}`, o.proxies, o.services);
  const synced = await fleet.waitSynced(120_000);
  const connectMs = performance.now() - t0;
  const prepareMs = await fleet.prepare(o.cycle);
  log(`${o.proxies} streams synced and quiet after ${connectMs.toFixed(0)} ms (${synced.snapshots} snapshots); deltas for ${o.cycle} s encoded in ${prepareMs.toFixed(0)} ms`);

  // The window's size, every second from the first delta until the graph phases (window-memory.ts).
  const sampler = new WindowSampler(() => cp.api.metrics.liveStats.query());
  sampler.start();
  cleanup.add("stop window sampling", () => sampler.stop());
  const ingest = await runIngest(o, cp, fleet, rss, onTelemetry, log);

  /** Peak RSS of one phase: a sampler of its own, stopped when the phase ends. */
  const phasePeak = () => {
    const sampler = new RssSampler(pid);
    return () => (sampler.stop(), sampler.peakMb);
  };

  // Telemetry goes on without pause: fill the 60 s window.
  let peak = phasePeak();
  const fillFrom = performance.now();
  const fillPg = await cp.pgCpu();
  const fillCpu0 = [cpuSeconds(pid) ?? 0, cpuSecondsOf(fleet.pids)] as const;
  // Until the 60 s window is full, and past a minute boundary 7 s into uninterrupted telemetry:
  // window-memory.ts measures the minute slot there, while no graph build blocks the loop.
  const boundary = Math.ceil((ingest.lastOnStartedAt + 7000) / 60_000) * 60_000;
  await sleep(Math.max(5000, ingest.lastOnStartedAt + o.fillS * 1000 - Date.now(), boundary + 7000 - Date.now()));
  sampler.stop();
  const fillS = (performance.now() - fillFrom) / 1000;
  const fill = { seconds: fillS, cpuPerS: ((cpuSeconds(pid) ?? 0) - fillCpu0[0]) / fillS, loadCpuPerS: (cpuSecondsOf(fleet.pids) - fillCpu0[1]) / fillS, pgCpuPerS: fillPg() / fillS };
  const rssPeaks: Record<string, number> = { ingest: ingest.rssPeakMb, fill: peak() };
  log(`uninterrupted telemetry for ${((Date.now() - ingest.lastOnStartedAt) / 1000).toFixed(0)} s: control plane ${fill.cpuPerS.toFixed(3)} CPU s/s; timing graph.get`);

  let c0 = cpuSeconds(pid) ?? 0;
  let w0 = performance.now();
  peak = phasePeak();
  const get = await timeGraphGet(cp.cp.api, o.calls);
  rssPeaks["graph.get"] = peak();
  const graphCpuPerS = ((cpuSeconds(pid) ?? 0) - c0) / ((performance.now() - w0) / 1000);
  const held = Object.fromEntries(WINDOWS.map((w) => [w, telemetryS(Date.now() - w * 1000, Date.now())]));
  log(`graph.get: ${get.timings.map((t) => `${t.kind}/${t.windowSec}s p50 ${[...t.ms].sort((a, b) => a - b)[Math.floor(t.ms.length / 2)]!.toFixed(0)} ms`).join(", ")}; timing graph.watch`);

  c0 = cpuSeconds(pid) ?? 0;
  w0 = performance.now();
  peak = phasePeak();
  const watch = await timeGraphWatch(cp.cp.api, o.calls);
  rssPeaks["graph.watch"] = peak();
  const watchCpuPerS = ((cpuSeconds(pid) ?? 0) - c0) / ((performance.now() - w0) / 1000);

  await fleet.stopTelemetry();
  onTelemetry(false);
  await sleep(2000); // the last deltas land
  const totals = ingest.send;
  addStats(totals, await fleet.stats(true));
  const live = await cp.api.metrics.liveStats.query();
  const rssEndMb = rss.sample();
  const memory = projectMemory(sampler.samples, telemetryS);
  const stderrTail = cp.cp.stderr().trim().split("\n").filter(Boolean).slice(-5);
  await closeFleet();
  await cp.stop();

  const profiles: Record<string, ProfileSummary> = {};
  if (o.cpuProfDir) {
    const file = readdirSync(o.cpuProfDir).find((f) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`).test(f));
    if (file) {
      const profile = JSON.parse(readFileSync(path.join(o.cpuProfDir, file), "utf8")) as CpuProfile;
      const bundle = path.resolve("apps/control/dist/main.mjs");
      const bundles = new Map(o.cpRuntime === "bundle" ? [[pathToFileURL(bundle).href, bundleSections(readFileSync(bundle, "utf8"))]] : []);
      const on = ingest.blocks.filter((b) => b.telemetry).map((b) => [b.fromUs, b.toUs] as const);
      profiles[`ingest blocks with telemetry (${path.join(o.cpuProfDir, file)})`] = summarizeProfile(sliceProfile(profile, on), 15, bundles);
      profiles["graph.get calls"] = summarizeProfile(sliceProfile(profile, [[get.fromUs, get.toUs]]), 15, bundles);
      profiles["graph.watch"] = summarizeProfile(sliceProfile(profile, [[watch.fromUs, watch.toUs]]), 15, bundles);
    } else log(`no CPU profile of pid ${pid} in ${o.cpuProfDir}`);
  }
  await cleanup.run();

  const report = buildReport(o, {
    mesh: { edges: mesh.edgeCount, snapshotsAtConnect: synced.snapshots, connectMs, prepareMs },
    ingest,
    fill,
    graph: { timings: get.timings, heldS: held, cpuPerS: graphCpuPerS },
    watch: { ...watch, cpuPerS: watchCpuPerS },
    totals,
    live,
    rssEndMb,
    rssPeakMb: rss.peakMb,
    rssPeaks,
    memory,
    profiles,
    stderrTail,
  });
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report) + "\n");
  clearTimeout(overall);
  process.exit(report.targets.some((t) => t.verdict === "FAIL") ? 1 : 0);
} catch (err) {
  await exit(1, `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
