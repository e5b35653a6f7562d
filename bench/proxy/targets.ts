import type { TargetResult } from "./measure";
import type { Options, TargetId } from "./options";
import type { ProcessFigures, Ratios } from "./report";
import { verdict } from "./stats";
import type { Verdict } from "./stats";

/** The targets. */
export const TARGETS = {
  pairP90: { ms: 0.5, text: "sidecar pair adds ≤ 0.5 ms p90 at 1000 rps" },
  pairP99: { ms: 1.5, text: "sidecar pair adds ≤ 1.5 ms p99 at 1000 rps" },
  vsNode: { times: 1.3, text: "one proxy's saturation throughput ≥ 1.3× the Node peer" },
  vsNginx: { share: 0.4, text: "one proxy's saturation throughput ≥ 40% of nginx" },
  vcpu: { max: 0.25, text: "≤ 0.25 vCPU per 1000 rps" },
  rss: { mb: 80, text: "≤ 80 MB RSS under load" },
} as const;

/** One target's verdict, and what the Node floor measured against it in the same run (when it ran). */
export interface TargetVerdict {
  target: string;
  verdict: Verdict;
  measured: string;
  floor?: { verdict: Verdict; measured: string } | undefined;
}

/** The Node floor's process standing in for each trellis-proxy process (mTLS ones against the plaintext floor). */
const FLOOR_OF: Record<string, string> = { "trellis-proxy": "Node floor", "client sidecar": "floor client", "server sidecar": "floor server" };

type Added = { p50: number; p90: number; p99: number };

const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));

/**
 * Every target judged on a run's figures, with the Node floor's verdict beside it: a target the
 * floor misses too is out of reach of any proxy on Node's HTTP stack on this machine. Nothing is
 * judged (n/a) for a quick run or another rate than the targets'.
 */
export function judgeTargets(o: Options, results: TargetResult[], processes: ProcessFigures[], ratios: Ratios, addedVsDirect: Record<string, Added>): TargetVerdict[] {
  const by = (id: TargetId) => results.find((r) => r.id === id);
  const direct = by("direct");
  const single = by("single");
  const j = (v: Verdict): Verdict => (!o.quick && o.rate === 1000 ? v : "n/a");
  const addedHow = o.rounds > 1 ? "median over rounds of each round's difference" : "difference";

  const floorAdded = by("floor-pair") ? addedVsDirect["floor-pair"] : undefined;
  /** The p90 and p99 targets of one pair (`label` names it in the text; `suffix` in the target). */
  const pairLatency = (id: "pair" | "pair-mtls", label: string, suffix: string): TargetVerdict[] => {
    const a = addedVsDirect[id];
    const r = by(id);
    return (["p90", "p99"] as const).map((p) => {
      const t = p === "p90" ? TARGETS.pairP90 : TARGETS.pairP99;
      const floor = floorAdded && { verdict: j(verdict(floorAdded[p], "<=", t.ms)), measured: `floor pair +${fmt(floorAdded[p], 3)} ms${id === "pair-mtls" ? ", plaintext" : ""}` };
      return { target: `${t.text}${suffix}`, verdict: j(verdict(a?.[p], "<=", t.ms)), measured: `+${fmt(a?.[p], 3)} ms (${addedHow}; medians: ${label} ${p} ${fmt(r?.fixed?.service[p], 3)}, direct ${fmt(direct?.fixed?.service[p], 3)})`, floor };
    });
  };
  const nginxShare = (h: "h1" | "h2"): TargetVerdict => {
    const share = h === "h1" ? ratios.singleVsNginxH1 : ratios.singleVsNginxH2;
    const floorShare = h === "h1" ? ratios.floorVsNginxH1 : ratios.floorVsNginxH2;
    const relayShare = h === "h1" ? ratios.relayVsNginxH1 : ratios.relayVsNginxH2;
    const tool = h === "h1" ? "HTTP/1.1, wrk" : "HTTP/2, h2load";
    return {
      target: `${TARGETS.vsNginx.text} (${tool})`,
      verdict: j(verdict(share, ">=", TARGETS.vsNginx.share)),
      measured: `${fmt(100 * share, 0)}% (${fmt(single?.[h]?.rps, 0)} vs ${fmt(by("nginx")?.[h]?.rps, 0)} req/s)`,
      floor: by("floor") && { verdict: j(verdict(floorShare, ">=", TARGETS.vsNginx.share)), measured: `one Node process ${fmt(100 * floorShare, 0)}% of nginx, a bare socket relay ${fmt(100 * relayShare, 0)}%` },
    };
  };
  const floorProcess = (p: ProcessFigures) => processes.find((f) => f.process === FLOOR_OF[p.process.replace(" (mTLS)", "")] && (f.target === "floor" || f.target === "floor-pair"));
  const trellis = processes.filter((p) => p.target === "single" || p.target === "pair" || p.target === "pair-mtls");

  return [
    ...pairLatency("pair", "pair", ""),
    ...(by("pair-mtls") ? pairLatency("pair-mtls", "mTLS pair", ", with mTLS") : []),
    { target: `${TARGETS.vsNode.text} (HTTP/1.1, wrk)`, verdict: j(verdict(ratios.singleVsNodeH1, ">=", TARGETS.vsNode.times)), measured: `${fmt(ratios.singleVsNodeH1)}× (${fmt(single?.h1?.rps, 0)} vs ${fmt(by("node")?.h1?.rps, 0)} req/s)` },
    nginxShare("h1"),
    nginxShare("h2"),
    ...trellis.map((p) => {
      const f = floorProcess(p);
      return { target: `${TARGETS.vcpu.text}: ${p.process}`, verdict: j(verdict(p.vcpuPer1000Rps, "<=", TARGETS.vcpu.max)), measured: `${fmt(p.vcpuPer1000Rps, 3)} vCPU at ${o.rate} rps`, floor: f && { verdict: j(verdict(f.vcpuPer1000Rps, "<=", TARGETS.vcpu.max)), measured: `${f.process} ${fmt(f.vcpuPer1000Rps, 3)} vCPU` } };
    }),
    ...trellis.map((p) => {
      const f = floorProcess(p);
      return { target: `${TARGETS.rss.text}: ${p.process}`, verdict: j(verdict(p.peakRssMb, "<=", TARGETS.rss.mb)), measured: `peak ${fmt(p.peakRssMb, 1)} MB (VmHWM after all runs; ${fmt(p.rssBeforeMb, 1)} MB before load)`, floor: f && { verdict: j(verdict(f.peakRssMb, "<=", TARGETS.rss.mb)), measured: `${f.process} peak ${fmt(f.peakRssMb, 1)} MB (${fmt(f.rssBeforeMb, 1)} MB before load)` } };
    }),
  ];
}
