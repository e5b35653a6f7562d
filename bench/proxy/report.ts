import type { CpuWindow, TargetResult } from "./measure";
import type { TracingRun } from "./tracing-phase";
import { mtlsSummary } from "./mtls-phase";
import type { MtlsCost } from "./mtls-phase";
import type { Options, TargetId } from "./options";
import type { ProfileSummary } from "./profile-summary";
import { median } from "./rounds";
import { added, cpuPer1000Requests, otherCores, ratio, vcpuPer1000Rps } from "./stats";
import { judgeTargets } from "./targets";

/** Facts about the run that are not measurements of a target. */
export interface RunInfo {
  cpus: number;
  node: string;
  nginx: string;
  httpProxy: string;
  app: string;
  bodyBytes: number;
  proxyRuntime: Options["proxyRuntime"];
  /** HEAD when the run started, and the proxy's sources that differed from it (the bundle is built from the work tree). */
  commit: string;
  uncommitted: string[];
  uptimeBefore: string;
  uptimeAfter: string;
  startedAt: string;
  durationS: number;
}

/** Resource figures of one process under test. */
export interface ProcessFigures {
  target: TargetId;
  process: string;
  fixedCpuPer1000Req: number;
  vcpuPer1000Rps: number;
  h1CpuPer1000Req: number;
  h2CpuPer1000Req: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

function processFigures(r: TargetResult): ProcessFigures[] {
  const { fixed, h1, h2 } = r;
  return Object.keys(r.peakRssMb).map((name) => ({
    target: r.id,
    process: name,
    fixedCpuPer1000Req: fixed ? cpuPer1000Requests(fixed.window.cpuS[name] ?? Number.NaN, fixed.sent) : Number.NaN,
    vcpuPer1000Rps: fixed ? vcpuPer1000Rps(fixed.window.cpuS[name] ?? Number.NaN, fixed.window.wallS, fixed.sent) : Number.NaN,
    h1CpuPer1000Req: h1 ? cpuPer1000Requests(h1.window.cpuS[name] ?? Number.NaN, h1.requests) : Number.NaN,
    h2CpuPer1000Req: h2 ? cpuPer1000Requests(h2.window.cpuS[name] ?? Number.NaN, h2.requests) : Number.NaN,
    rssBeforeMb: r.rssBeforeMb[name] ?? Number.NaN,
    peakRssMb: r.peakRssMb[name] ?? Number.NaN,
  }));
}

/** Cores used by everything but the measured processes during one window. */
function others(run: { window: CpuWindow; loadToolCpuS: number } | undefined): number {
  if (!run) return Number.NaN;
  const w = run.window;
  const measured = Object.values(w.cpuS).reduce((a, b) => a + b, 0) + w.appCpuS + run.loadToolCpuS;
  return otherCores(w.machineBusyCpuS, measured, w.wallS);
}

/**
 * What a target adds to the app direct at each percentile: the median over rounds of that
 * round's difference (both were measured minutes apart at most, in the same round), or the
 * difference of the medians when the rounds do not pair up.
 */
function addedByRound(r: TargetResult, direct: TargetResult): { p50: number; p90: number; p99: number } {
  const a = r.rounds.fixed;
  const d = direct.rounds.fixed;
  if (a.length === 0 || a.length !== d.length) return added(r.fixed!.service, direct.fixed!.service);
  const per = a.map((x, i) => added(x, d[i]!));
  return { p50: median(per.map((x) => x.p50)), p90: median(per.map((x) => x.p90)), p99: median(per.map((x) => x.p99)) };
}

/** Saturation ratios between targets (NaN where one of the two was not measured). */
export type Ratios = Record<
  | "singleVsNodeH1" | "singleVsNginxH1" | "singleVsNginxH2" | "pairVsNginxH1" | "pairVsSingleH1" | "singleVsDirectH1" | "nginxVsDirectH1" | "nodeVsDirectH1"
  | "singleVsFloorH1" | "singleVsFloorH2" | "pairVsFloorPairH1" | "floorVsNginxH1" | "floorVsNginxH2" | "relayVsNginxH1" | "relayVsNginxH2"
  | "cpuSingleVsNginxH1" | "cpuSingleVsNodeH1",
  number
>;

/** Every figure of the run (the JSON report); renderReport prints it for people. */
export function buildReport(o: Options, info: RunInfo, results: TargetResult[], profiles: Record<string, ProfileSummary>, tracingRuns: TracingRun[] = [], mtlsCost?: MtlsCost) {
  const by = (id: TargetId) => results.find((r) => r.id === id);
  const direct = by("direct");
  const single = by("single");
  const pair = by("pair");
  const nginx = by("nginx");
  const node = by("node");
  const floor = by("floor");
  const floorPair = by("floor-pair");
  const relay = by("relay");
  const addedVsDirect: Record<string, ReturnType<typeof added>> = {};
  for (const r of results) if (r.id !== "direct" && r.fixed && direct?.fixed) addedVsDirect[r.id] = addedByRound(r, direct);
  const ratios: Ratios = {
    singleVsNodeH1: ratio(single?.h1?.rps, node?.h1?.rps),
    singleVsNginxH1: ratio(single?.h1?.rps, nginx?.h1?.rps),
    singleVsNginxH2: ratio(single?.h2?.rps, nginx?.h2?.rps),
    pairVsNginxH1: ratio(pair?.h1?.rps, nginx?.h1?.rps),
    pairVsSingleH1: ratio(pair?.h1?.rps, single?.h1?.rps),
    singleVsDirectH1: ratio(single?.h1?.rps, direct?.h1?.rps),
    nginxVsDirectH1: ratio(nginx?.h1?.rps, direct?.h1?.rps),
    nodeVsDirectH1: ratio(node?.h1?.rps, direct?.h1?.rps),
    /** One proxy against the Node floor: how much of what Node's HTTP modules reach here trellis-proxy keeps. */
    singleVsFloorH1: ratio(single?.h1?.rps, floor?.h1?.rps),
    singleVsFloorH2: ratio(single?.h2?.rps, floor?.h2?.rps),
    pairVsFloorPairH1: ratio(pair?.h1?.rps, floorPair?.h1?.rps),
    floorVsNginxH1: ratio(floor?.h1?.rps, nginx?.h1?.rps),
    floorVsNginxH2: ratio(floor?.h2?.rps, nginx?.h2?.rps),
    relayVsNginxH1: ratio(relay?.h1?.rps, nginx?.h1?.rps),
    relayVsNginxH2: ratio(relay?.h2?.rps, nginx?.h2?.rps),
    /** CPU per request at saturation, one proxy against each peer (lower is better for Trellis). */
    cpuSingleVsNginxH1: Number.NaN,
    cpuSingleVsNodeH1: Number.NaN,
  };
  const processes = results.flatMap(processFigures);
  const cpuOf = (id: TargetId) => processes.filter((p) => p.target === id).reduce((s, p) => s + p.h1CpuPer1000Req, 0);
  ratios.cpuSingleVsNginxH1 = ratio(cpuOf("single"), cpuOf("nginx"));
  ratios.cpuSingleVsNodeH1 = ratio(cpuOf("single"), cpuOf("node"));
  const targets = judgeTargets(o, results, processes, ratios, addedVsDirect);
  const otherLoad = Object.fromEntries(results.map((r) => [r.id, { fixed: others(r.fixed), h1: others(r.h1), h2: others(r.h2) }]));
  const phaseName = { fixed: "fixed-rate", h1: "wrk", h2: "h2load" } as const;
  const warnings = results.flatMap((r) => [
    ...Object.entries(otherLoad[r.id]!)
      .filter(([, cores]) => cores > 0.25)
      .map(([phase, cores]) => `${r.id}: other processes used ${cores.toFixed(2)} cores during the ${phaseName[phase as keyof typeof phaseName]} run: figures disturbed`),
    ...(r.fixed?.errors ? [`${r.id}: ${r.fixed.errors} failed requests at the fixed rate`] : []),
    ...(r.h1?.errors ? [`${r.id}: ${r.h1.errors} errors under wrk`] : []),
    ...(r.h2?.errors ? [`${r.id}: ${r.h2.errors} errors under h2load`] : []),
    ...(r.fixed && r.fixed.sendLag.p99 > 2 ? [`${r.id}: 1% of fixed-rate requests left more than ${r.fixed.sendLag.p99.toFixed(1)} ms late (generator starved of CPU, or no free connection): see sched. p99`] : []),
  ]);
  const tracing = tracingCost(tracingRuns);
  for (const t of tracing) {
    if (t.spans.dropped > 0 || t.spans.failed > 0) warnings.push(`tracing ${t.percent} %: ${t.spans.dropped} spans dropped, ${t.spans.failed} failed to export`);
    if (t.errors > 0) warnings.push(`tracing ${t.percent} %: ${t.errors} failed requests at the fixed rate`);
  }
  const mtls = mtlsCost ? mtlsSummary(mtlsCost) : undefined;
  if (mtls && (mtls.plaintext.errors > 0 || mtls.mtls.errors > 0)) warnings.push(`mTLS rounds: ${mtls.plaintext.errors} failed requests plaintext, ${mtls.mtls.errors} with mTLS`);
  if (mtls?.handshakes && mtls.handshakes.errors > 0) warnings.push(`handshakes: ${mtls.handshakes.errors} failed (first: ${mtls.handshakes.firstError})`);
  return { options: o, info, results, addedVsDirect, ratios, processes, otherLoad, targets, warnings, profiles, tracing, mtls };
}

/**
 * Per sampling rate (over its rounds): median proxy CPU per request and latencies, spans
 * summed; and what it adds to the lowest rate measured (the baseline: 0 % = tracing off).
 */
export function tracingCost(runs: TracingRun[]) {
  const rates = [...new Set(runs.map((r) => r.percent))].sort((a, b) => a - b);
  const rows = rates.map((percent) => {
    const mine = runs.filter((r) => r.percent === percent);
    return {
      percent,
      rounds: mine.length,
      completed: mine.reduce((n, r) => n + r.fixed.completed, 0),
      errors: mine.reduce((n, r) => n + r.fixed.errors, 0),
      proxyCpuUsPerRequest: median(mine.map((r) => r.proxyCpuUsPerRequest)),
      /** Each round's CPU µs per request, to show the spread. */
      cpuRounds: mine.map((r) => r.proxyCpuUsPerRequest),
      p50: median(mine.map((r) => r.fixed.service.p50)),
      p99: median(mine.map((r) => r.fixed.service.p99)),
      controlPlaneCores: median(mine.map((r) => r.controlPlaneCores)),
      spans: { exported: mine.reduce((n, r) => n + r.spans.exported, 0), dropped: mine.reduce((n, r) => n + r.spans.dropped, 0), failed: mine.reduce((n, r) => n + r.spans.failed, 0) },
    };
  });
  const base = rows[0];
  return rows.map((r) => ({ ...r, baseline: base?.percent, addedCpuUs: r.proxyCpuUsPerRequest - (base?.proxyCpuUsPerRequest ?? Number.NaN), addedP50: r.p50 - (base?.p50 ?? Number.NaN), addedP99: r.p99 - (base?.p99 ?? Number.NaN) }));
}

export type Report = ReturnType<typeof buildReport>;

const f = (x: number | undefined, digits = 2): string => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
const signed = (x: number | undefined, digits = 3): string => (x === undefined || Number.isNaN(x) ? "–" : `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`);

/** A Markdown-style table with right-aligned figures. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(line)];
}

/** The human-readable report. */
export function renderReport(r: Report): string {
  const o = r.options;
  const i = r.info;
  const cores = (run: { loadToolCpuS: number; window: CpuWindow } | undefined) => (run ? f(run.loadToolCpuS / run.window.wallS) : "–");
  const loadTool = r.results.map((x) => `${x.id} ${cores(x.h1)}/${cores(x.h2)}/${cores(x.fixed)}`).join(", ");
  const lines: Array<string | undefined> = [
    `Proxy benchmark — ${i.bodyBytes}-byte responses, HTTP/1.1 keep-alive (HTTP/2 h2c for h2load)${o.quick ? " — QUICK smoke run, targets not judged" : ""}`,
    `Machine: ${i.cpus} CPUs shared by the load tool, the app, the proxy under test and anything else running (other engineers' tests); Node ${i.node}.`,
    `  uptime before: ${i.uptimeBefore}`,
    `  uptime after:  ${i.uptimeAfter}`,
    `App: ${i.app}. trellis-proxy: ${i.proxyRuntime === "bundle" ? "production bundle apps/proxy/dist/main.mjs" : "TypeScript sources through tsx"}${o.proxyNodeArgs.length ? ` with node ${o.proxyNodeArgs.join(" ")}` : ""}, --log-level warn, JSON access log on stdout → /dev/null.`,
    `Code: ${i.commit.slice(0, 12)}${i.uncommitted.length ? ` + uncommitted changes in ${i.uncommitted.join(", ")}` : ", clean work tree (proxy, config, proto)"}.`,
    `Peers: ${i.nginx} (worker_processes 1, upstream keepalive, access log buffered to /dev/null); http-proxy ${i.httpProxy} (one Node process, keep-alive agent, no log).`,
    `Node floor (node-floor.mjs, same node flags as trellis-proxy): node:http + node:http2 → undici in one process; the same as a pair (HTTP/2 between); a socket relay with no HTTP.`,
    `Rounds: ${o.rounds}, every target in turn within each round; rates and percentiles are the rounds' medians, CPU and counts their sums.`,
    `Saturation: wrk -t1 -c${o.connections}, h2load -t1 -c${o.h2Connections} -m${o.h2Streams}, ${o.saturationS} s each per round after a ${o.warmupS} s wrk warm-up. Latency: open-loop ${o.rate} rps for ${o.fixedS} s`,
    `  per round (after ${o.warmupS} s at the same rate, 1 s in later rounds), from each request's write to its last byte; added latency is the median over rounds of the target's percentile minus the app direct's.`,
    "",
    ...table(
      ["target", "wrk req/s", "h2load req/s", `p50 ms`, "p90 ms", "p99 ms", "p99.9 ms", "+p50", "+p90", "+p99", "sched. p99"],
      r.results.map((x) => {
        const a = r.addedVsDirect[x.id];
        const l = x.fixed?.service;
        return [x.label, f(x.h1?.rps, 0), x.h2 ? f(x.h2.rps, 0) : "n/a", f(l?.p50, 3), f(l?.p90, 3), f(l?.p99, 3), f(l?.p999, 3), signed(a?.p50), signed(a?.p90), signed(a?.p99), f(x.fixed?.scheduled.p99, 3)];
      }),
    ),
    `(+pNN: added to the app direct at ${o.rate} rps. sched. p99: from when the request was due, generator lag included.)`,
    ...(o.rounds > 1
      ? [
          "",
          `Each round (req/s; p90 / p99 ms at ${o.rate} rps):`,
          ...table(
            ["target", "wrk", "h2load", "p90", "p99"],
            r.results.map((x) => [x.label, x.rounds.h1.map((v) => v.toFixed(0)).join(" / "), x.rounds.h2.map((v) => v.toFixed(0)).join(" / "), x.rounds.fixed.map((l) => l.p90.toFixed(2)).join(" / "), x.rounds.fixed.map((l) => l.p99.toFixed(2)).join(" / ")]),
          ),
        ]
      : []),
    "",
    ...table(
      ["process", `CPU s/1k req @${o.rate}rps`, `vCPU per 1k rps`, "CPU s/1k req wrk", "CPU s/1k req h2load", "RSS before MB", "peak RSS MB"],
      r.processes.map((p) => [`${p.target}: ${p.process}`, f(p.fixedCpuPer1000Req, 3), f(p.vcpuPer1000Rps, 3), f(p.h1CpuPer1000Req, 3), f(p.h2CpuPer1000Req, 3), f(p.rssBeforeMb, 1), f(p.peakRssMb, 1)]),
    ),
    `(CPU from /proc/<pid>/stat, 10 ms ticks; peak RSS is VmHWM; nginx = master + worker.)`,
    `Load tool CPU, cores (wrk / h2load / fixed-rate generator): ${loadTool}.`,
    `Other load on the machine (cores used by everything not measured; fixed / wrk / h2load): ${Object.entries(r.otherLoad).map(([id, l]) => `${id} ${f(l.fixed)}/${f(l.h1)}/${f(l.h2)}`).join(", ")}.`,
    "",
    "Ratios (saturation req/s):",
    `  one proxy / http-proxy  HTTP/1.1  ${f(r.ratios.singleVsNodeH1)}×`,
    `  one proxy / nginx       HTTP/1.1  ${f(r.ratios.singleVsNginxH1)}   HTTP/2 ${f(r.ratios.singleVsNginxH2)}`,
    `  CPU per request at saturation (HTTP/1.1): one proxy / nginx ${f(r.ratios.cpuSingleVsNginxH1, 1)}×, one proxy / http-proxy ${f(r.ratios.cpuSingleVsNodeH1, 1)}×`,
    `  pair / nginx            HTTP/1.1  ${f(r.ratios.pairVsNginxH1)}`,
    `  pair / one proxy        HTTP/1.1  ${f(r.ratios.pairVsSingleH1)}`,
    `  vs the app direct       HTTP/1.1  one proxy ${f(r.ratios.singleVsDirectH1)}, nginx ${f(r.ratios.nginxVsDirectH1)}, http-proxy ${f(r.ratios.nodeVsDirectH1)}`,
    `  one proxy / Node floor  HTTP/1.1  ${f(r.ratios.singleVsFloorH1)}   HTTP/2 ${f(r.ratios.singleVsFloorH2)};  pair / floor pair HTTP/1.1 ${f(r.ratios.pairVsFloorPairH1)}`,
    `  Node floor / nginx      HTTP/1.1  ${f(r.ratios.floorVsNginxH1)}   HTTP/2 ${f(r.ratios.floorVsNginxH2)};  socket relay / nginx HTTP/1.1 ${f(r.ratios.relayVsNginxH1)}   HTTP/2 ${f(r.ratios.relayVsNginxH2)}`,
    ...(r.tracing.length
      ? [
          "",
          `Tracing cost, sidecar pair at ${o.rate} rps (both Services' traceSampling; spans from both sidecars exported over OTLP to ${o.otlp === "sink" ? "a null receiver (--otlp sink)" : "the control plane, which stores them on the same CPUs (--otlp control-plane)"};`,
          `  medians over ${o.tracingRounds} round(s) run round-robin; added = against ${r.tracing[0]!.baseline} %):`,
          ...table(
            ["sampled", "p50 ms", "p99 ms", "proxy CPU µs/req", "rounds µs/req", "added CPU µs/req", "added p50", "added p99", "control plane cores", "spans exported", "dropped", "failed"],
            r.tracing.map((t) => [`${t.percent} %`, f(t.p50, 3), f(t.p99, 3), f(t.proxyCpuUsPerRequest, 1), t.cpuRounds.map((c) => c.toFixed(0)).join("/"), signed(t.addedCpuUs, 1), signed(t.addedP50), signed(t.addedP99), f(t.controlPlaneCores), String(t.spans.exported), String(t.spans.dropped), String(t.spans.failed)]),
          ),
        ]
      : []),
    ...(r.mtls
      ? [
          "",
          `mTLS cost, sidecar pair at ${o.rate} rps (plaintext pair vs a pair joined to the mesh CA, server STRICT; medians over ${o.mtlsRounds} alternating round(s)):`,
          ...table(
            ["pair", "p50 ms", "p90 ms", "p99 ms", "proxy CPU µs/req", "rounds µs/req", "errors"],
            [
              ["plaintext", f(r.mtls.plaintext.p50, 3), f(r.mtls.plaintext.p90, 3), f(r.mtls.plaintext.p99, 3), f(r.mtls.plaintext.proxyCpuUsPerRequest, 1), r.mtls.plaintext.cpuRounds.map((c) => c.toFixed(0)).join("/"), String(r.mtls.plaintext.errors)],
              ["mTLS", f(r.mtls.mtls.p50, 3), f(r.mtls.mtls.p90, 3), f(r.mtls.mtls.p99, 3), f(r.mtls.mtls.proxyCpuUsPerRequest, 1), r.mtls.mtls.cpuRounds.map((c) => c.toFixed(0)).join("/"), String(r.mtls.mtls.errors)],
              ["added by mTLS", signed(r.mtls.added.p50), signed(r.mtls.added.p90), signed(r.mtls.added.p99), signed(r.mtls.added.cpuUsPerRequest, 1), "", ""],
            ],
          ),
          r.mtls.handshakes
            ? `Handshakes at the mTLS server sidecar (${r.mtls.handshakes.concurrency} in flight, ${f(r.mtls.handshakes.wallS, 1)} s, no resumption): ${f(r.mtls.handshakes.perSecond, 0)}/s, p50 ${f(r.mtls.handshakes.latencyMs.p50, 2)} p99 ${f(r.mtls.handshakes.latencyMs.p99, 2)} ms, ${f(r.mtls.handshakes.serverCpuUsPerHandshake, 0)} µs server CPU each (${f(r.mtls.handshakes.serverCores)} cores), ${r.mtls.handshakes.errors} errors.`
            : undefined,
        ]
      : []),
    ...(r.warnings.length ? ["", "WARNINGS:", ...r.warnings.map((w) => `  ${w}`)] : []),
    ...Object.entries(r.profiles).flatMap(([name, p]) => [
      "",
      `CPU profile of ${name} (${f(p.busyMs / 1000, 1)} s busy), self time:`,
      ...p.byFunction.slice(0, 12).map((h) => `  ${f(h.pct, 1).padStart(5)}%  ${h.name}`),
      "  by file/package:",
      ...p.byFile.slice(0, 10).map((h) => `  ${f(h.pct, 1).padStart(5)}%  ${h.name}`),
    ]),
    "",
    "Targets:",
    ...r.targets.flatMap((t) => [`  ${t.verdict.padEnd(4)}  ${t.target}  (${t.measured})`, ...(t.floor ? [`          Node floor ${t.floor.verdict}: ${t.floor.measured}`] : [])]),
    ...(r.targets.some((t) => t.floor)
      ? ["(Node floor: node-floor.mjs, Node's own http/http2 modules and undici with none of a sidecar's work, same node flags; where it FAILs too, no proxy on Node's HTTP stack meets the target on this machine.)"]
      : []),
  ];
  return lines.filter((l) => l !== undefined).join("\n");
}
