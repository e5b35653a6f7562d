import { cpus } from "node:os";
import { percentile } from "../config-propagation/stats";
import type { ProfileSummary } from "../proxy/profile-summary";
import type { GetTiming, WatchTiming } from "./graph-phase";
import type { Block, IngestResult } from "./ingest-phase";
import type { SendStats } from "./load-protocol";
import type { Options } from "./options";
import type { MemoryProjection } from "./window-memory";

export const TARGETS = {
  graphP95Ms: 100,
  /** The load generator's own check: sends this late would make the ingest rate not what it says. */
  lateP99Ms: 100,
} as const;

type Verdict = "PASS" | "FAIL" | "n/a";

export interface LiveStatsEnd {
  deltasAccepted: number;
  deltasRejected: number;
  rejectedBy: Record<string, number>;
  rowsAccepted: number;
  series: number;
  foldedRows: number;
  bytes: number;
  memoryBytes: number;
  evictedForMemory: number;
}

export interface RunResult {
  mesh: { edges: number; snapshotsAtConnect: number; connectMs: number; prepareMs: number };
  ingest: IngestResult;
  /** Control-plane CPU s/s with telemetry on and nothing else asked of it, after the blocks (uninterrupted, the window filling). */
  fill: { seconds: number; cpuPerS: number; loadCpuPerS: number; pgCpuPerS: number };
  graph: { timings: GetTiming[]; heldS: Record<number, number>; cpuPerS: number };
  watch: WatchTiming & { cpuPerS: number };
  /** Every send of the run (blocks, fill, graph phases). */
  totals: SendStats;
  live: LiveStatsEnd;
  rssEndMb: number;
  rssPeakMb: number;
  /** Peak RSS per phase, MB. */
  rssPeaks: Record<string, number>;
  memory: MemoryProjection;
  profiles: Record<string, ProfileSummary>;
  stderrTail: string[];
}

const median = (xs: readonly number[]) => percentile(xs, 50);
const min = (xs: readonly number[]) => (xs.length ? Math.min(...xs) : Number.NaN);
const q = (xs: readonly number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: percentile(xs, 100), n: xs.length });

/** Each block without telemetry and the block with telemetry after it. */
function pairsOf(blocks: readonly Block[]) {
  const out: { off: Block; on: Block; addedCpuPerS: number; deltasPerS: number; usPerDelta: number; usPerRow: number }[] = [];
  for (let i = 0; i + 1 < blocks.length; i += 2) {
    const off = blocks[i]!;
    const on = blocks[i + 1]!;
    const addedCpuPerS = on.cpuS / on.wallS - off.cpuS / off.wallS;
    const deltasPerS = on.accepted / on.wallS;
    out.push({ off, on, addedCpuPerS, deltasPerS, usPerDelta: (addedCpuPerS / deltasPerS) * 1e6, usPerRow: (addedCpuPerS / (on.rows / on.wallS)) * 1e6 });
  }
  return out;
}

export function buildReport(o: Options, r: RunResult) {
  const pairs = pairsOf(r.ingest.blocks);
  const on = r.ingest.blocks.filter((b) => b.telemetry);
  const off = r.ingest.blocks.filter((b) => !b.telemetry);
  const perS = (bs: Block[], f: (b: Block) => number) => bs.map((b) => f(b) / b.wallS);
  const fullSize = o.proxies >= 1000 && o.services >= 1000 && o.seconds >= 30 && o.calls >= 50;
  const expectedSent = on.reduce((n, b) => n + Math.round(b.wallS) * o.proxies, 0);
  const sentInBlocks = on.reduce((n, b) => n + b.sent, 0);
  const late = q(r.totals.lateMs);
  const lost = r.totals.sent - r.live.deltasAccepted - r.live.deltasRejected - r.totals.rejected;
  const graph = r.graph.timings.map((t) => ({ kind: t.kind, windowSec: t.windowSec, heldS: r.graph.heldS[t.windowSec] ?? Number.NaN, ms: q(t.ms), buildMs: q(t.buildMs), ageMs: q(t.ageMs), nodes: t.nodes, edges: t.edges, kb: t.bytes / 1024 }));
  const intervals = r.watch.arrivals.slice(1).map((t, i) => t - r.watch.arrivals[i]!);
  const verdict = (ok: boolean): Verdict => (!fullSize ? "n/a" : ok ? "PASS" : "FAIL");
  return {
    options: { proxies: o.proxies, services: o.services, seconds: o.seconds, blockS: o.blockS, fillS: o.fillS, calls: o.calls, database: o.database, loadProcs: o.loadProcs, cpRuntime: o.cpRuntime, cpNodeArgs: o.cpNodeArgs, memoryMb: o.memoryMb, quick: o.quick },
    machine: { cpus: cpus().length, node: process.version },
    mesh: r.mesh,
    ingest: {
      cpuPerS: { on: { median: median(perS(on, (b) => b.cpuS)), best: min(perS(on, (b) => b.cpuS)) }, off: { median: median(perS(off, (b) => b.cpuS)), best: min(perS(off, (b) => b.cpuS)) } },
      addedCpuPerS: { median: median(pairs.map((p) => p.addedCpuPerS)), best: min(pairs.map((p) => p.addedCpuPerS)) },
      usPerDelta: { median: median(pairs.map((p) => p.usPerDelta)), best: min(pairs.map((p) => p.usPerDelta)) },
      usPerRow: { median: median(pairs.map((p) => p.usPerRow)), best: min(pairs.map((p) => p.usPerRow)) },
      pgCpuPerS: { on: median(perS(on, (b) => b.pgCpuS)), off: median(perS(off, (b) => b.pgCpuS)) },
      loadCpuPerS: { on: median(perS(on, (b) => b.loadCpuS)), off: median(perS(off, (b) => b.loadCpuS)) },
      deltasPerS: median(perS(on, (b) => b.accepted)),
      rowsPerDelta: r.live.rowsAccepted / Math.max(1, r.live.deltasAccepted),
      bytesPerDelta: r.totals.bytes / Math.max(1, r.totals.sent),
      busyPct: { on: median(on.map((b) => b.busyPct)), off: median(off.map((b) => b.busyPct)) },
      stealPct: median(r.ingest.blocks.map((b) => b.stealPct)),
      pairs: pairs.map((p) => ({ offCpuPerS: p.off.cpuS / p.off.wallS, onCpuPerS: p.on.cpuS / p.on.wallS, addedCpuPerS: p.addedCpuPerS, usPerDelta: p.usPerDelta, busyPct: p.on.busyPct })),
      rssMb: { before: r.ingest.rssBeforeMb, afterBlocks: r.ingest.rssAfterMb, end: r.rssEndMb, peak: r.rssPeakMb, peaks: r.rssPeaks },
      schedule: { expectedSent, sent: sentInBlocks, lateMs: late, backpressured: r.totals.backpressured },
    },
    fill: r.fill,
    deltas: { sent: r.totals.sent, accepted: r.live.deltasAccepted, rejectedByValidation: r.live.deltasRejected, rejectedOnStream: r.totals.rejected, lost, rejectedBy: r.live.rejectedBy, rejectReasons: r.totals.rejectReasons },
    window: { series: r.live.series, foldedRows: r.live.foldedRows, bytes: r.live.bytes, memoryBytes: r.live.memoryBytes, evictedForMemory: r.live.evictedForMemory, projection: r.memory },
    graph,
    graphCpuPerS: r.graph.cpuPerS,
    watch: { intervalMs: q(intervals), lagMs: q(r.watch.lagMs), buildMs: q(r.watch.buildMs), kb: r.watch.bytes / 1024, cpuPerS: r.watch.cpuPerS },
    profiles: r.profiles,
    stderrTail: r.stderrTail,
    targets: [
      ...graph.map((g) => ({ target: `graph.get ${g.kind}, ${label(g.windowSec)} window: p95 < ${TARGETS.graphP95Ms} ms`, verdict: verdict(g.ms.p95 < TARGETS.graphP95Ms), measured: `p95 ${fmt(g.ms.p95)} ms (p50 ${fmt(g.ms.p50)}, p99 ${fmt(g.ms.p99)}; buildMs p95 ${fmt(g.buildMs.p95)})` })),
      { target: "every delta accepted: none lost, none rejected", verdict: verdict(lost === 0 && r.live.deltasRejected === 0 && r.totals.rejected === 0), measured: `${r.totals.sent} sent, ${r.live.deltasAccepted} accepted, ${r.live.deltasRejected + r.totals.rejected} rejected, ${lost} lost` },
      { target: `load generator kept its schedule (all sends, p99 lateness < ${TARGETS.lateP99Ms} ms)`, verdict: verdict(sentInBlocks >= expectedSent && late.p99 < TARGETS.lateP99Ms), measured: `${sentInBlocks}/${expectedSent} deltas sent in the blocks; all ${late.n} sends late p50 ${fmt(late.p50, 1)} / p99 ${fmt(late.p99, 1)} / max ${fmt(late.max, 1)} ms` },
    ],
  };
}
export type Report = ReturnType<typeof buildReport>;

const fmt = (x: number | undefined, digits = 0): string => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
const mb = (bytes: number) => bytes / 2 ** 20;
const label = (windowSec: number) => (windowSec >= 60 && windowSec % 60 === 0 ? (windowSec >= 3600 ? `${windowSec / 3600} h` : `${windowSec / 60} min`) : `${windowSec} s`);

function table(head: string[], rows: (string | number)[][]): string[] {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c, Math.abs(c) < 10 ? 3 : Math.abs(c) < 100 ? 1 : 0) : c)));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...cells.map(line)];
}

export function renderReport(r: Report): string {
  const o = r.options;
  const i = r.ingest;
  const p = r.window.projection;
  const lines: (string | undefined)[] = [
    `Telemetry ingest and graph API — ${o.proxies} proxies × 1 delta/s, ${o.services} services (${r.mesh.edges} service edges), ${o.database}${o.quick ? " (quick: targets not judged)" : ""}`,
    `Machine: ${r.machine.cpus} CPUs shared by the control plane, the load generator (${o.loadProcs} process${o.loadProcs > 1 ? "es" : ""})${o.database === "postgres" ? ", PostgreSQL" : ""}, this orchestrator and whatever else runs; Node ${r.machine.node}.`,
    `Control plane: ${o.cpRuntime === "bundle" ? "the production bundle (apps/control/dist/main.mjs)" : "TypeScript sources through tsx"}${o.cpNodeArgs.length ? `, node flags ${o.cpNodeArgs.join(" ")}` : ""}${o.memoryMb ? `, TRELLIS_TELEMETRY_MEMORY_MB=${o.memoryMb}` : ""}; ${o.proxies} config streams, each its own HTTP/2 connection.`,
    `Deltas: ${fmt(i.rowsPerDelta, 1)} rows and ${fmt(i.bytesPerDelta)} bytes each on average (outbound rows to 3–8 services, the callers' inbound rows, saturation, TCP now and then).`,
    `Peer: the same control plane with the same streams open, sending no telemetry (Hello/ACK only). ${i.pairs.length} pairs of ${o.blockS} s blocks`,
    `  (without, then with telemetry) alternate; "added" is per pair (with − without), median and best pair. CPU from /proc/<pid>/stat.`,
    "",
    ...table(
      ["ingest", "with telemetry", "peer: without", "added"],
      [
        ["control-plane CPU, s/s (median)", i.cpuPerS.on.median, i.cpuPerS.off.median, i.addedCpuPerS.median],
        ["control-plane CPU, s/s (best)", i.cpuPerS.on.best, i.cpuPerS.off.best, i.addedCpuPerS.best],
        ["CPU per delta, µs (median / best)", "", "", `${fmt(i.usPerDelta.median)} / ${fmt(i.usPerDelta.best)}`],
        ["CPU per row, µs (median / best)", "", "", `${fmt(i.usPerRow.median, 1)} / ${fmt(i.usPerRow.best, 1)}`],
        ["deltas accepted per s", i.deltasPerS, 0, i.deltasPerS],
        ...(o.database === "postgres" ? [["PostgreSQL backends CPU, s/s", i.pgCpuPerS.on, i.pgCpuPerS.off, i.pgCpuPerS.on - i.pgCpuPerS.off] as (string | number)[]] : []),
        ["RSS, MB", `${fmt(i.rssMb.afterBlocks)} after blocks`, `${fmt(i.rssMb.before)} before`, i.rssMb.afterBlocks - i.rssMb.before],
        ["load generator CPU, s/s", i.loadCpuPerS.on, i.loadCpuPerS.off, i.loadCpuPerS.on - i.loadCpuPerS.off],
        ["machine busy, %", i.busyPct.on, i.busyPct.off, ""],
      ],
    ),
    `Per pair (without → with, added, µs/delta, machine busy): ${i.pairs.map((x) => `${fmt(x.offCpuPerS, 3)}→${fmt(x.onCpuPerS, 3)} (+${fmt(x.addedCpuPerS, 3)}, ${fmt(x.usPerDelta)} µs, ${fmt(x.busyPct)}%)`).join("; ")}.`,
    `Uninterrupted telemetry afterwards (${fmt(r.fill.seconds)} s, window filling, no API calls): control plane ${fmt(r.fill.cpuPerS, 3)} CPU s/s${o.database === "postgres" ? `, PostgreSQL backends ${fmt(r.fill.pgCpuPerS, 3)}` : ""}, load generator ${fmt(r.fill.loadCpuPerS, 3)}.`,
    `RSS: ${fmt(i.rssMb.before)} MB with streams and no telemetry; ${fmt(i.rssMb.afterBlocks)} MB after the blocks; ${fmt(i.rssMb.end)} MB at the end (window ${fmt(mb(r.window.bytes))} MB); peak ${fmt(i.rssMb.peak)} MB (by phase: ${Object.entries(i.rssMb.peaks).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}).`,
    `Deltas: ${r.deltas.sent} sent, ${r.deltas.accepted} accepted, ${r.deltas.rejectedByValidation} refused by validation, ${r.deltas.rejectedOnStream} TelemetryRejected received, ${r.deltas.lost} lost.${r.deltas.rejectReasons.length ? ` E.g. ${r.deltas.rejectReasons.join("; ")}` : ""}`,
    `Load generator: ${i.schedule.sent}/${i.schedule.expectedSent} scheduled deltas sent in the blocks; lateness of all ${i.schedule.lateMs.n} sends of the run against schedule p50 ${fmt(i.schedule.lateMs.p50, 1)} ms, p99 ${fmt(i.schedule.lateMs.p99, 1)} ms, max ${fmt(i.schedule.lateMs.max, 1)} ms; ${i.schedule.backpressured} writes met a full stream buffer.`,
    `Live window: ${r.window.series} series, ${r.window.foldedRows} rows folded at the series cap, ${fmt(mb(r.window.bytes))} MB of ${fmt(mb(r.window.memoryBytes))} MB budget, ${r.window.evictedForMemory} slots evicted for memory${Number.isNaN(p.evictingAfterS) ? "" : ` (from ${fmt(p.evictingAfterS)} s of telemetry on)`}.`,
    `  Projection at this rate: a 1 s slot ${fmt(p.secondSlotBytes / 1024)} KB, a 1 min slot ${fmt(p.minuteSlotBytes / 1024)} KB${p.minuteCoveredS < 60 ? ` (measured on a minute with ${fmt(p.minuteCoveredS)} s of telemetry: a little low)` : ""}, series table ≈ ${fmt(mb(p.seriesBytes), 1)} MB:`,
    `  30 min of seconds + 24 h of minutes = ${fmt(mb(p.projectedBytes))} MB; the ${fmt(mb(p.budgetBytes))} MB budget keeps ${fmt(p.budgetKeeps.secondsS / 60, 1)} min of 1 s slots and ${fmt(p.budgetKeeps.minutes / 60, 1)} h of 1 min slots.`,
    "",
    `Graph API (HTTP GET /trpc/graph.get, ${r.graph.length ? r.graph[0]!.ms.n : 0} calls per row, round-robin over the rows, telemetry running; ms from request to last byte):`,
    ...table(
      ["query", "data held", "p50", "p95", "p99", "max", "buildMs p50", "buildMs p95", "data age p50", "data age max", "nodes", "edges", "KB"],
      r.graph.map((g) => [`${g.kind}, ${label(g.windowSec)}`, `${fmt(g.heldS)} s`, g.ms.p50, g.ms.p95, g.ms.p99, g.ms.max, g.buildMs.p50, g.buildMs.p95, g.ageMs.p50, g.ageMs.max, String(g.nodes), String(g.edges), fmt(g.kb)]),
    ),
    `Control plane during the graph.get calls: ${fmt(r.graphCpuPerS, 3)} CPU s/s (ingest included).`,
    `graph.watch (service, 60 s, SSE), ${r.watch.intervalMs.n + 1} pushes: interval p50 ${fmt(r.watch.intervalMs.p50)} / p95 ${fmt(r.watch.intervalMs.p95)} / p99 ${fmt(r.watch.intervalMs.p99)} ms; arrival after the second closed p50 ${fmt(r.watch.lagMs.p50)} / p95 ${fmt(r.watch.lagMs.p95)} / p99 ${fmt(r.watch.lagMs.p99)} ms;`,
    `  buildMs p50 ${fmt(r.watch.buildMs.p50)} / p95 ${fmt(r.watch.buildMs.p95)}; ${fmt(r.watch.kb)} KB a push; control plane ${fmt(r.watch.cpuPerS, 3)} CPU s/s while one watcher is open (ingest included).`,
    ...Object.entries(r.profiles).flatMap(([name, s]) => [
      "",
      `CPU profile, ${name}: ${fmt(s.busyMs)} ms of non-idle samples (main thread, wall time: inflated while the machine is contended); by file: ${s.byFile.slice(0, 6).map((h) => `${h.name} ${fmt(h.pct)}%`).join(", ")}`,
      ...s.byFunction.slice(0, 10).map((h) => `  ${fmt(h.pct, 1).padStart(5)}%  ${h.name}`),
    ]),
    r.stderrTail.length ? `\nControl plane stderr (last lines):\n  ${r.stderrTail.join("\n  ")}` : undefined,
    "",
    "Summary:",
    ...table(
      ["target", "verdict", "measured"],
      r.targets.map((t) => [t.target, t.verdict, t.measured]),
    ),
  ];
  return lines.filter((l) => l !== undefined).join("\n");
}
