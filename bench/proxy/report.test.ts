import assert from "node:assert/strict";
import { test } from "node:test";
import type { CpuWindow, TargetResult } from "./measure";
import { parseOptions } from "./options";
import type { TargetId } from "./options";
import { buildReport, renderReport, table } from "./report";
import type { RunInfo } from "./report";
import { summarize } from "./stats";

const INFO: RunInfo = { cpus: 2, node: "v20", nginx: "nginx/1.22.1", httpProxy: "1.18.1", app: "nginx", bodyBytes: 1024, proxyRuntime: "bundle", commit: "abc", uncommitted: [], uptimeBefore: "load average: 0.1", uptimeAfter: "load average: 1.9", startedAt: "", durationS: 200 };

const win = (wallS: number, cpuS: Record<string, number>, machineBusyCpuS: number): CpuWindow => ({ wallS, cpuS, appCpuS: 0, machineBusyPct: 0, machineBusyCpuS });

/** A target measured for 10 s at 1000 rps (latencies `lat` ms) and at `rps` under wrk, using `cpu` CPU seconds per process in each run. */
function result(id: TargetId, lat: number[], rps: number, cpu: Record<string, number>, rssMb: number, h2rps?: number): TargetResult {
  const samples = Array.from({ length: 10_000 }, (_, i) => lat[i % lat.length]!);
  const busy = Object.values(cpu).reduce((a, b) => a + b, 0);
  return {
    id,
    label: id,
    fixed: { rate: 1000, sent: 10_000, completed: 10_000, errors: 0, wallS: 10, service: summarize(samples), scheduled: summarize(samples), connectionsUsed: 8, lateSends: 0, sendLag: summarize([0.1]), loadToolCpuS: 0.5, window: win(10, cpu, busy + 0.5) },
    h1: { requests: rps * 10, durationS: 10, rps, latencyMs: { p50: 1, p90: 2, p99: 3 }, errors: 0, loadToolCpuS: 2, window: win(10, Object.fromEntries(Object.keys(cpu).map((k) => [k, 10])), Object.keys(cpu).length * 10 + 2 + 4) },
    h2: h2rps === undefined ? undefined : { requests: h2rps * 10, durationS: 10, rps: h2rps, errors: 0, loadToolCpuS: 2, window: win(10, cpu, busy + 2) },
    rounds: { fixed: [summarize(samples)], h1: [rps], h2: h2rps === undefined ? [] : [h2rps] },
    rssBeforeMb: Object.fromEntries(Object.keys(cpu).map((k) => [k, 40])),
    peakRssMb: Object.fromEntries(Object.keys(cpu).map((k) => [k, rssMb])),
    loadAverageAfter: 1,
  };
}

const RESULTS = [
  result("direct", [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5], 60_000, {}, 0, 50_000),
  result("single", [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 1], 13_000, { "trellis-proxy": 2 }, 70, 10_000),
  result("pair", [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.7, 2.5], 5_000, { "client sidecar": 3, "server sidecar": 2 }, 90, 4_000),
  result("nginx", [0.2], 30_000, { nginx: 0.3 }, 14, 30_000),
  result("node", [0.3], 10_000, { "http-proxy": 1.5 }, 80),
];

test("ratios, the pair's added latency and verdicts per target", () => {
  const r = buildReport(parseOptions([]), INFO, RESULTS, {});
  assert.equal(r.ratios.singleVsNodeH1, 1.3);
  assert.equal(r.ratios.singleVsNginxH1, 13_000 / 30_000);
  assert.equal(r.ratios.singleVsNginxH2, 1 / 3);
  assert.ok(Math.abs(r.addedVsDirect["pair"]!.p90 - 0.5) < 1e-9, "pair p90 0.7 − direct p90 0.2");
  assert.ok(Math.abs(r.addedVsDirect["pair"]!.p99 - 2.0) < 1e-9);
  const verdicts = Object.fromEntries(r.targets.map((t) => [t.target, t.verdict]));
  assert.equal(verdicts["sidecar pair adds ≤ 0.5 ms p90 at 1000 rps"], "PASS");
  assert.equal(verdicts["sidecar pair adds ≤ 1.5 ms p99 at 1000 rps"], "FAIL");
  assert.equal(verdicts["one proxy's saturation throughput ≥ 1.3× the Node peer (HTTP/1.1, wrk)"], "PASS");
  assert.equal(verdicts["one proxy's saturation throughput ≥ 40% of nginx (HTTP/1.1, wrk)"], "PASS");
  assert.equal(verdicts["one proxy's saturation throughput ≥ 40% of nginx (HTTP/2, h2load)"], "FAIL");
  // 3 CPU seconds over 10 s at 1000 rps: 0.3 vCPU per 1000 rps.
  assert.equal(verdicts["≤ 0.25 vCPU per 1000 rps: client sidecar"], "FAIL");
  assert.equal(verdicts["≤ 0.25 vCPU per 1000 rps: trellis-proxy"], "PASS");
  assert.equal(verdicts["≤ 80 MB RSS under load: server sidecar"], "FAIL");
  assert.equal(r.processes.find((p) => p.process === "client sidecar")?.vcpuPer1000Rps, 0.3);
  // wrk: 10 CPU s over 130 000 requests.
  assert.ok(Math.abs(r.processes.find((p) => p.process === "trellis-proxy")!.h1CpuPer1000Req - 10 / 130) < 1e-9);
  // The machine was busier than the measured processes by 4 CPU-seconds over 10 s of wrk.
  assert.ok(Math.abs(r.otherLoad["single"]!.h1 - 0.4) < 1e-9);
  assert.ok(r.warnings.some((w) => w.startsWith("single: other processes used 0.40 cores during the wrk run")));
});

test("a quick run or another rate judges nothing, and missing peers make ratios n/a", () => {
  const quick = buildReport(parseOptions(["--quick"]), INFO, RESULTS, {});
  assert.ok(quick.targets.every((t) => t.verdict === "n/a"));
  const onlyTrellis = buildReport(parseOptions([]), INFO, RESULTS.filter((x) => x.id === "single"), {});
  assert.ok(Number.isNaN(onlyTrellis.ratios.singleVsNodeH1));
  assert.equal(onlyTrellis.targets.find((t) => t.target.includes("Node peer"))?.verdict, "n/a");
  assert.equal(onlyTrellis.targets.find((t) => t.target.includes("0.5 ms p90"))?.verdict, "n/a");
});

test("the rendered report has one row per target and per process, and every target line", () => {
  const text = renderReport(buildReport(parseOptions([]), INFO, RESULTS, {}));
  assert.match(text, /\| single +\| +13000 \| +10000 \| +0\.300 \| +0\.500 \| +1\.000 \|/);
  assert.match(text, /\| pair: client sidecar +\| +0\.300 \| +0\.300 \|/);
  assert.match(text, /\| node +\| +10000 \| +n\/a \|/);
  assert.match(text, /one proxy \/ http-proxy {2}HTTP\/1\.1 {2}1\.30×/);
  assert.match(text, /FAIL {2}sidecar pair adds ≤ 1\.5 ms p99 at 1000 rps {2}\(\+2\.000 ms/);
  assert.equal(text.split("\n").filter((l) => /^ {2}(PASS|FAIL|n\/a) /.test(l)).length, 11);
});

test("the Node floor is judged against each target beside trellis-proxy, process by process", () => {
  const floorRuns = [
    result("floor", [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.6], 15_000, { "Node floor": 1.5 }, 75, 11_000),
    // p90 0.6, p99 1.2 against the direct 0.2 / 0.5: +0.4 and +0.7 ms, within both latency targets.
    result("floor-pair", [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.6, 1.2], 6_000, { "floor client": 2, "floor server": 3 }, 120),
    result("relay", [0.15], 25_000, { relay: 1 }, 50, 20_000),
  ];
  const r = buildReport(parseOptions([]), INFO, [...RESULTS, ...floorRuns], {});
  const t = (text: string) => r.targets.find((x) => x.target === text);
  assert.deepEqual(t("sidecar pair adds ≤ 0.5 ms p90 at 1000 rps")?.floor, { verdict: "PASS", measured: "floor pair +0.400 ms" });
  assert.equal(t("sidecar pair adds ≤ 1.5 ms p99 at 1000 rps")?.floor?.verdict, "PASS");
  // One Node process: 15 000 of nginx's 30 000 req/s over HTTP/1.1, 11 000 of 30 000 over HTTP/2.
  assert.equal(t("one proxy's saturation throughput ≥ 40% of nginx (HTTP/1.1, wrk)")?.floor?.verdict, "PASS");
  assert.deepEqual(t("one proxy's saturation throughput ≥ 40% of nginx (HTTP/2, h2load)")?.floor, { verdict: "FAIL", measured: "one Node process 37% of nginx, a bare socket relay 67%" });
  // Each sidecar against its own floor process: client 2 s and server 3 s over 10 s at 1000 rps.
  assert.deepEqual(t("≤ 0.25 vCPU per 1000 rps: client sidecar")?.floor, { verdict: "PASS", measured: "floor client 0.200 vCPU" });
  assert.deepEqual(t("≤ 0.25 vCPU per 1000 rps: server sidecar")?.floor, { verdict: "FAIL", measured: "floor server 0.300 vCPU" });
  assert.equal(t("≤ 80 MB RSS under load: trellis-proxy")?.floor?.verdict, "PASS");
  assert.equal(t("≤ 80 MB RSS under load: server sidecar")?.floor?.verdict, "FAIL");
  assert.equal(t("one proxy's saturation throughput ≥ 1.3× the Node peer (HTTP/1.1, wrk)")?.floor, undefined);
  assert.ok(Math.abs(r.ratios.singleVsFloorH1 - 13 / 15) < 1e-9);
  const text = renderReport(r);
  assert.match(text, /PASS {2}≤ 0\.25 vCPU per 1000 rps: server sidecar {2}\(0\.200 vCPU at 1000 rps\)\n {10}Node floor FAIL: floor server 0\.300 vCPU/);
  assert.match(text, /Node floor \/ nginx {6}HTTP\/1\.1 {2}0\.50 {3}HTTP\/2 0\.37/);
  // Without the floor targets nothing is said of it.
  assert.ok(buildReport(parseOptions([]), INFO, RESULTS, {}).targets.every((x) => x.floor === undefined));
});

test("added latency is the median over rounds of each round's difference to the app direct", () => {
  const withRounds = (r: ReturnType<typeof result>, lats: number[][]) => ({ ...r, rounds: { ...r.rounds, fixed: lats.map((l) => summarize(Array.from({ length: 100 }, (_, i) => l[i % l.length]!))) } });
  const direct = withRounds(RESULTS[0]!, [[0.1], [1.0], [0.1]]);
  // Round 2 was slow for everything (the direct's 1.0 too): per round the pair adds 0.4, 0.2 and 0.5.
  const pair = withRounds(RESULTS[2]!, [[0.5], [1.2], [0.6]]);
  const r = buildReport(parseOptions([]), INFO, [direct, RESULTS[1]!, pair], {});
  assert.ok(Math.abs(r.addedVsDirect["pair"]!.p90 - 0.4) < 1e-9, `p90 added ${r.addedVsDirect["pair"]!.p90}`);
});

test("table pads the first column left and the figures right", () => {
  assert.deepEqual(table(["name", "n"], [["a", "10"], ["bb", "2"]]), ["| name |  n |", "|------|---:|", "| a    | 10 |", "| bb   |  2 |"]);
});

test("tracing cost: medians per sampling rate over its rounds, added against the lowest rate, spans summed and warned about", () => {
  const run = (percent: number, cpuUsPerReq: number, p99: number, spans: { exported: number; dropped?: number; failed?: number }) => {
    const fixed = result("pair", [1, p99], 0, { client: 0, server: 0 }, 100).fixed!;
    return { percent, fixed: { ...fixed, service: { ...fixed.service, p99 } }, spans: { exported: spans.exported, dropped: spans.dropped ?? 0, failed: spans.failed ?? 0 }, proxyCpuUsPerRequest: cpuUsPerReq, controlPlaneCores: 0.1 };
  };
  const runs = [run(0, 1000, 2, { exported: 0 }), run(100, 1200, 4, { exported: 20_000 }), run(0, 900, 3, { exported: 0 }), run(100, 1100, 5, { exported: 20_000, dropped: 7 }), run(0, 1300, 2.5, { exported: 0 }), run(100, 1150, 6, { exported: 20_000 })];
  const o = parseOptions(["--tracing", "0,100", "--tracing-rounds", "3"]);
  const report = buildReport(o, INFO, RESULTS, {}, runs);
  const [off, all] = report.tracing;
  assert.deepEqual([off!.percent, off!.rounds, off!.proxyCpuUsPerRequest, off!.p99], [0, 3, 1000, 2.5]);
  assert.deepEqual([all!.percent, all!.proxyCpuUsPerRequest, all!.p99, all!.spans.exported, all!.spans.dropped], [100, 1150, 5, 60_000, 7]);
  assert.equal(all!.addedCpuUs, 150);
  assert.equal(all!.addedP99, 2.5);
  assert.ok(report.warnings.some((w) => /tracing 100 %: 7 spans dropped/.test(w)));
  const text = renderReport(report);
  assert.match(text, /Tracing cost, sidecar pair/);
  assert.match(text, /\| 100 % .*\| 1200\/1100\/1150 \|/);
  assert.throws(() => parseOptions(["--tracing", "0,150"]), /not a sampling rate/);
  assert.throws(() => parseOptions(["--tracing", "1", "--targets", "single"]), /must include pair/);
});
