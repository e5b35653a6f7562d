/**
 * Ingest cost: blocks with and without telemetry alternate on the same control plane, with the
 * same 1000 streams open (the peer is the control plane holding the streams, Hello and ACK
 * only). Pairing each block without telemetry with the block with telemetry that follows it
 * cancels slow drift and most of what other processes on the machine do, so the added cost is
 * per pair; the report gives the median and the best pair. The last block leaves telemetry on.
 */
import { cpuSeconds, cpuSecondsOf, machineLoad, machineTicks } from "../config-propagation/rss";
import type { RssSampler } from "../config-propagation/rss";
import type { ControlPlane } from "./control-plane";
import type { LoadFleet } from "./load";
import { nowUs } from "./load-protocol";
import type { SendStats } from "./load-protocol";

export interface Block {
  telemetry: boolean;
  wallS: number;
  /** CPU seconds in the block: control plane, load workers, this database's PostgreSQL backends. */
  cpuS: number;
  loadCpuS: number;
  pgCpuS: number;
  /** Deltas and rows the control plane accepted during the block (liveStats). */
  accepted: number;
  rows: number;
  /** Deltas the load generator wrote during the block, and how late against schedule (ms). */
  sent: number;
  lateMs: number[];
  busyPct: number;
  stealPct: number;
  /** Monotonic µs, for cutting CPU profiles. */
  fromUs: number;
  toUs: number;
}

export interface IngestResult {
  blocks: Block[];
  /** RSS with the streams open before any telemetry, at the end of the blocks, and the peak so far. */
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPeakMb: number;
  /** All send stats so far, merged (sends between blocks included). */
  send: SendStats;
  /** When the last block (telemetry on, left running) started, wall ms. */
  lastOnStartedAt: number;
}

/** Adds `s` to `into`. */
export function addStats(into: SendStats, s: SendStats): void {
  into.sent += s.sent;
  into.bytes += s.bytes;
  for (const x of s.lateMs) into.lateMs.push(x);
  into.backpressured += s.backpressured;
  into.rejected += s.rejected;
  if (into.rejectReasons.length < 5) into.rejectReasons.push(...s.rejectReasons.slice(0, 5 - into.rejectReasons.length));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The time between blocks, not measured: the last deltas of a block are processed, and telemetry starts. */
const GAP_MS = 1000;

export async function runIngest(
  o: { seconds: number; blockS: number },
  cp: ControlPlane,
  fleet: LoadFleet,
  rss: RssSampler,
  onTelemetry: (on: boolean) => void,
  log: (s: string) => void,
): Promise<IngestResult> {
  const pid = cp.cp.pid;
  const pairs = Math.ceil(o.seconds / o.blockS);
  const blocks: Block[] = [];
  const send: SendStats = { sent: 0, bytes: 0, lateMs: [], backpressured: 0, rejected: 0, rejectReasons: [] };
  await sleep(3000); // let the connect storm's garbage go
  const rssBeforeMb = rss.sample();
  let lastOnStartedAt = 0;
  for (let i = 0; i < 2 * pairs; i++) {
    const telemetry = i % 2 === 1;
    addStats(send, await fleet.stats(true)); // sends after the last block ended, before telemetry stopped
    const pgCpu = await cp.pgCpu();
    let fromUs: number;
    if (telemetry) {
      fromUs = await fleet.startTelemetry();
      lastOnStartedAt = Date.now() + Math.max(0, (fromUs - nowUs()) / 1000);
      onTelemetry(true);
      await sleep(Math.max(0, (fromUs - nowUs()) / 1000));
    } else fromUs = nowUs();
    const cpu0 = cpuSeconds(pid) ?? 0;
    const load0 = cpuSecondsOf(fleet.pids);
    const ticks0 = machineTicks();
    const stats0 = await cp.api.metrics.liveStats.query();
    await sleep(o.blockS * 1000 - (nowUs() - fromUs) / 1000);
    const toUs = nowUs();
    const cpuS = (cpuSeconds(pid) ?? 0) - cpu0;
    const loadCpuS = cpuSecondsOf(fleet.pids) - load0;
    const pgCpuS = pgCpu();
    const load = machineLoad(ticks0, machineTicks());
    const stats1 = await cp.api.metrics.liveStats.query();
    const s = await fleet.stats(true);
    const wallS = (toUs - fromUs) / 1e6;
    blocks.push({ telemetry, wallS, cpuS, loadCpuS, pgCpuS, accepted: stats1.deltasAccepted - stats0.deltasAccepted, rows: stats1.rowsAccepted - stats0.rowsAccepted, sent: s.sent, lateMs: s.lateMs, busyPct: load.busyPct, stealPct: load.stealPct, fromUs, toUs });
    addStats(send, s);
    log(`block ${i + 1}/${2 * pairs} ${telemetry ? "with" : "without"} telemetry: control plane ${(cpuS / wallS).toFixed(3)} CPU s/s, load generator ${(loadCpuS / wallS).toFixed(3)}, ${blocks.at(-1)!.accepted} deltas accepted, ${s.sent} sent, machine ${load.busyPct.toFixed(0)}% busy`);
    if (telemetry && i < 2 * pairs - 1) {
      await fleet.stopTelemetry();
      onTelemetry(false);
      await sleep(GAP_MS);
    }
  }
  return { blocks, rssBeforeMb, rssAfterMb: rss.sample(), rssPeakMb: rss.peakMb, send, lastOnStartedAt };
}
