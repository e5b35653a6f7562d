import { cpus } from "node:os";
import { JEMALLOC_CONF } from "../../apps/control/src/allocator";
import { CONTROL_PLANE_NODE_FLAGS, DEFAULT_HEAP_GROWTH_PERCENT } from "../../apps/control/src/heap";
import type { FloorResult } from "./floor-phase";
import type { Options } from "./options";
import { ratio, summary } from "./stats";
import type { TrellisResult } from "./trellis-phase";

export const TARGETS = {
  latency: { proxies: 1000, p99Ms: 500, text: "1000 proxies p99 < 500 ms" },
  rss: { services: 1000, proxies: 2000, mb: 300, text: "control plane ≤ 300 MB RSS at 1000 services / 2000 proxies" },
} as const;

type Verdict = "PASS" | "FAIL" | "n/a";

/** Every figure the run produced, without raw samples (that is the --json output). */
export function buildReport(o: Options, t: TrellisResult, f: FloorResult | undefined) {
  const tw = { lastAck: summary(t.writes.lastAckMs), first: summary(t.writes.firstMs), perProxy: summary(t.writes.perProxyMs), api: summary(t.apiMs), missing: t.writes.missing, snapshotsPerWrite: t.writes.snapshotsPerChange };
  const fw = f && { lastAck: summary(f.writes.lastAckMs), first: summary(f.writes.firstMs), perProxy: summary(f.writes.perProxyMs), missing: f.writes.missing, snapshotsPerWrite: f.writes.snapshotsPerChange };
  const failedWrites = t.writes.lastAckMs.filter((x) => Number.isNaN(x)).length;
  const p99 = failedWrites > 0 ? Number.POSITIVE_INFINITY : tw.lastAck.p99;
  const latencyVerdict: Verdict = o.proxies !== TARGETS.latency.proxies ? "n/a" : p99 < TARGETS.latency.p99Ms ? "PASS" : "FAIL";
  const rssVerdict: Verdict = o.proxies !== TARGETS.rss.proxies || o.services !== TARGETS.rss.services ? "n/a" : t.rssPeakMb <= TARGETS.rss.mb ? "PASS" : "FAIL";
  return {
    options: { proxies: o.proxies, services: o.services, writes: o.writes, database: o.database, fleetProcs: o.fleetProcs, pauseMs: o.pauseMs, cpRuntime: o.cpRuntime, cpNodeArgs: o.cpNodeArgs, malloc: o.malloc },
    machine: { cpus: cpus().length, node: process.version },
    trellis: {
      seedMs: t.seedMs,
      firstSyncMs: t.connect.firstSyncMs,
      settledMs: t.connect.settledMs,
      connectSnapshots: t.connect.snapshots,
      snapshotBytes: { min: t.connect.state.bytesMin, mean: Math.round(t.connect.state.bytesSum / Math.max(1, t.connect.state.total)), max: t.connect.state.bytesMax },
      writes: tw,
      failedWrites,
      narrow: t.narrow && { service: t.narrow.service, proxies: t.narrow.expectedPerChange, lastAck: summary(t.narrow.lastAckMs), unexpected: t.narrow.unexpected, missing: t.narrow.missing },
      status: { synced: t.synced, total: t.statusTotal },
      rssMb: { idleAfterSeed: t.rssIdleMb, peak: t.rssPeakMb, settled: t.rssSettledMb },
      cpuPerWriteS: t.cpuPerWriteS,
      fleetCpuPerWriteS: t.fleetCpuPerWriteS,
      machineDuringWrites: t.load,
      stderrTail: t.stderrTail,
    },
    floor: f && { snapshotBytes: f.bytes, firstSyncMs: f.connect.firstSyncMs, writes: fw, rssMb: { peak: f.rssPeakMb, settled: f.rssSettledMb }, cpuPerWriteS: f.cpuPerWriteS, fleetCpuPerWriteS: f.fleetCpuPerWriteS, machineDuringWrites: f.load },
    ratios: fw && {
      lastAckP50: ratio(tw.lastAck.p50, fw.lastAck.p50),
      lastAckP99: ratio(tw.lastAck.p99, fw.lastAck.p99),
      perProxyP50: ratio(tw.perProxy.p50, fw.perProxy.p50),
      perProxyP99: ratio(tw.perProxy.p99, fw.perProxy.p99),
      rssPeak: ratio(t.rssPeakMb, f.rssPeakMb),
      rssSettled: ratio(t.rssSettledMb, f.rssSettledMb),
    },
    targets: [
      { target: TARGETS.latency.text, verdict: latencyVerdict, measured: `p99 over ${o.writes} writes of the time until the last of ${o.proxies} proxies had the edit: ${fmt(p99)} ms` },
      { target: TARGETS.rss.text, verdict: rssVerdict, measured: `peak ${fmt(t.rssPeakMb)} MB, ${fmt(t.rssSettledMb)} MB after settling, at ${o.services} services / ${o.proxies} proxies` },
    ],
  };
}
export type Report = ReturnType<typeof buildReport>;

const fmt = (x: number | undefined, digits = 0): string => (x === undefined || Number.isNaN(x) ? "–" : x === Number.POSITIVE_INFINITY ? "∞" : x.toFixed(digits));

/** The human-readable report. */
export function renderReport(r: Report): string {
  const t = r.trellis;
  const f = r.floor;
  const rows: [string, number | undefined, number | undefined, number | undefined][] = [
    ["connect + first sync (ms)", t.firstSyncMs, f?.firstSyncMs, f && ratio(t.firstSyncMs, f.firstSyncMs)],
    ["snapshot body (bytes, mean)", t.snapshotBytes.mean, f?.snapshotBytes, undefined],
    ["API write call p50 (ms)", t.writes.api.p50, undefined, undefined],
    ["first proxy has it, p50 (ms)", t.writes.first.p50, f?.writes?.first.p50, f?.writes && ratio(t.writes.first.p50, f.writes.first.p50)],
    ["last ACK per write p50 (ms)", t.writes.lastAck.p50, f?.writes?.lastAck.p50, r.ratios?.lastAckP50],
    ["last ACK per write p99 (ms)", t.writes.lastAck.p99, f?.writes?.lastAck.p99, r.ratios?.lastAckP99],
    ["last ACK per write max (ms)", t.writes.lastAck.max, f?.writes?.lastAck.max, f?.writes && ratio(t.writes.lastAck.max, f.writes.lastAck.max)],
    ["per-proxy latency p50 (ms)", t.writes.perProxy.p50, f?.writes?.perProxy.p50, r.ratios?.perProxyP50],
    ["per-proxy latency p99 (ms)", t.writes.perProxy.p99, f?.writes?.perProxy.p99, r.ratios?.perProxyP99],
    ["server RSS peak (MB)", t.rssMb.peak, f?.rssMb.peak, r.ratios?.rssPeak],
    ["server RSS after settling (MB)", t.rssMb.settled, f?.rssMb.settled, r.ratios?.rssSettled],
    ["server CPU per write (ms)", t.cpuPerWriteS * 1000, f && f.cpuPerWriteS * 1000, f && ratio(t.cpuPerWriteS, f.cpuPerWriteS)],
    ["snapshots received per write", t.writes.snapshotsPerWrite, f?.writes?.snapshotsPerWrite, undefined],
    ["fleet CPU per write (ms)", t.fleetCpuPerWriteS * 1000, f && f.fleetCpuPerWriteS * 1000, undefined],
    ["machine CPU busy, writes (%)", t.machineDuringWrites.busyPct, f?.machineDuringWrites.busyPct, undefined],
    ["hypervisor steal, writes (%)", t.machineDuringWrites.stealPct, f?.machineDuringWrites.stealPct, undefined],
  ];
  const o = r.options;
  const lines = [
    `Config propagation — ${o.proxies} proxies, ${o.services} services (${o.services * 3} resources), ${o.writes} writes, ${o.database}`,
    `Machine: ${r.machine.cpus} CPUs shared by the server under test, the fake-proxy fleet (${o.fleetProcs} process${o.fleetProcs > 1 ? "es" : ""})${o.database === "postgres" ? ", PostgreSQL" : ""} and this orchestrator; Node ${r.machine.node}.`,
    `Control plane: ${o.cpRuntime === "bundle" ? "the production bundle (apps/control/dist/main.mjs)" : "TypeScript sources through tsx"}, node flags ${[...CONTROL_PLANE_NODE_FLAGS, ...o.cpNodeArgs].join(" ")} (production's${o.cpNodeArgs.length ? " + this run's" : ""}), heap growth ${process.env.TRELLIS_HEAP_GROWTH_PERCENT ?? DEFAULT_HEAP_GROWTH_PERCENT} % (TRELLIS_HEAP_GROWTH_PERCENT),`,
    `  malloc ${o.malloc === "jemalloc" ? `jemalloc, MALLOC_CONF=${JEMALLOC_CONF} (production's, allocator.ts)` : "the system's (glibc; --malloc system)"}; the floor runs on the same.`,
    `Peer "floor": NOT Istio (it cannot run here). A bare grpc-js server (floor-server.ts) with the same ConfigDiscovery proto, stream and client, that`,
    `  pushes one precomputed snapshot of Trellis's mean body size to every stream on POST /push: no database, validation, compilation or status`,
    `  tracking; the control plane's heap settings. Trellis/floor = what Trellis's work costs on top of gRPC on Node. Both measured in this run with the same fleet.`,
    `Latency: from just before the API write (floor: the POST) until a proxy received the new version (it ACKs at once). Edit: svc-0's route`,
    `  weights 90/10 <-> 10/90, which every proxy's egress includes; ${o.pauseMs} ms pause between writes. CPU per write: CPU time of the write`,
    `  phase (pauses included) divided by the number of writes. With fewer than 100 writes, p99 over writes is the slowest write.`,
    "",
    `| ${"metric".padEnd(31)} | ${"Trellis".padStart(8)} | ${"floor".padStart(8)} | ${"Trellis/floor".padStart(13)} |`,
    `|${"-".repeat(33)}|${"-".repeat(10)}|${"-".repeat(10)}|${"-".repeat(15)}|`,
    ...rows.map(([name, a, b, q]) => `| ${name.padEnd(31)} | ${fmt(a).padStart(8)} | ${fmt(b).padStart(8)} | ${(q === undefined ? "" : `${fmt(q, 2)}x`).padStart(13)} |`),
    "",
    `Trellis: seed ${fmt(t.seedMs)} ms; connect storm settled after ${fmt(t.settledMs)} ms (${t.connectSnapshots} snapshots); snapshot body ${t.snapshotBytes.min}–${t.snapshotBytes.max} bytes;`,
    `  RSS after seeding, before proxies: ${fmt(t.rssMb.idleAfterSeed)} MB; proxies.status: ${t.status.synced}/${t.status.total} SYNCED (expected ${o.proxies}).`,
    t.narrow
      ? `Narrow edit (${t.narrow.service}'s route, reaches ${t.narrow.proxies} proxies): last ACK p50 ${fmt(t.narrow.lastAck.p50)} ms, max ${fmt(t.narrow.lastAck.max)} ms over ${t.narrow.lastAck.n} writes; ${t.narrow.unexpected} pushes to proxies it should not reach.`
      : "Narrow edit: skipped (no proxy would receive it at this size).",
    t.writes.missing || t.failedWrites ? `WARNING: ${t.writes.missing} expected receipts never arrived (${t.failedWrites} writes incomplete within 30 s).` : undefined,
    t.status.synced !== o.proxies ? `WARNING: proxies.status reports ${t.status.synced} SYNCED of ${t.status.total}, expected ${o.proxies}.` : undefined,
    t.stderrTail.length ? `Control plane stderr (last lines):\n  ${t.stderrTail.join("\n  ")}` : undefined,
    "",
    "Targets:",
    ...r.targets.map((x) => `  ${x.verdict.padEnd(4)}  ${x.target}  (${x.measured})`),
  ];
  return lines.filter((l) => l !== undefined).join("\n");
}
