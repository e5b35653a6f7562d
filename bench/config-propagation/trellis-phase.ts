import { createTestDatabase, tempDataDir } from "../../apps/control/test/helpers/pg";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Cleanup } from "./cleanup";
import { spawnControlPlane } from "../../apps/control/test/helpers/process";
import { nowUs } from "./fleet-protocol";
import { Fleet } from "./fleet";
import { connectFleet, measureChanges, type ChangeResult, type ConnectResult } from "./measure";
import { cpuSeconds, cpuSecondsOf, machineLoad, machineTicks, RssSampler } from "./rss";
import { apiClient, callersOf, seed, serviceName, setSplit } from "./seed";
import { mallocEnv } from "./options";
import type { Options } from "./options";

export interface TrellisResult {
  seedMs: number;
  connect: ConnectResult;
  writes: ChangeResult;
  /** Duration of each measured API write call (validate + commit), ms. */
  apiMs: number[];
  /** An edit of one service's route that only its few callers receive. */
  narrow: (ChangeResult & { service: string }) | undefined;
  synced: number;
  statusTotal: number;
  rssIdleMb: number;
  rssPeakMb: number;
  rssSettledMb: number;
  /** Control-plane CPU seconds over the measured writes, per write. */
  cpuPerWriteS: number;
  /** Fake-proxy fleet CPU seconds over the measured writes, per write (it shares the machine). */
  fleetCpuPerWriteS: number;
  /** Whole-machine busy and hypervisor-steal CPU share during the measured writes, %. */
  load: { busyPct: number; stealPct: number };
  stderrTail: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Control plane (child process) on a fresh database, seeded mesh, fleet, W edits of svc-0's route, one narrow edit. */
export async function runTrellis(o: Options, cleanup: Cleanup, log: (s: string) => void): Promise<TrellisResult> {
  const env: Record<string, string> = { TRELLIS_REPLICA_ID: "bench", TRELLIS_LOG_LEVEL: "warn", ...mallocEnv(o) };
  if (o.database === "postgres") {
    const db = await createTestDatabase("trellis_bench");
    cleanup.add(`drop database ${db.name}`, () => db.drop());
    env.DATABASE_URL = db.url;
    env.TRELLIS_DATA_DIR = "/nonexistent-data-dir-postgres-bench";
  } else {
    const dir = await tempDataDir("trellis-bench-");
    cleanup.add(`remove ${dir.path}`, () => dir.remove());
    env.TRELLIS_DATA_DIR = dir.path;
  }
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const cp = await spawnControlPlane(env, { runtime: o.cpRuntime, nodeArgs: [...o.cpNodeArgs, ...(o.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`] : [])], timeoutMs: 120_000 });
  const stopCp = cleanup.add("stop the control plane", () => cp.stop());
  const pid = cp.pid;
  const rss = new RssSampler(pid);
  cleanup.add("stop RSS sampling", () => rss.stop());
  const api = apiClient(cp.api);
  log(`control plane pid ${pid}: api ${cp.api}, grpc 127.0.0.1:${cp.grpcPort}`);

  let t = performance.now();
  let head = await seed(api, o.services);
  const seedMs = performance.now() - t;
  await sleep(500);
  const rssIdleMb = rss.sample();
  log(`seeded ${o.services} services (${o.services * 3} resources) in ${seedMs.toFixed(0)} ms, revision ${head}; RSS ${rssIdleMb.toFixed(0)} MB`);

  const fleet = Fleet.start(o.fleetProcs);
  const closeFleet = cleanup.add("close the Trellis fleet", () => fleet.close());
  const connect = await connectFleet(fleet, `127.0.0.1:${cp.grpcPort}`, o.proxies, o.services, o.timeoutMs);
  log(`${o.proxies} proxies synced in ${connect.firstSyncMs.toFixed(0)} ms, settled after ${connect.settledMs.toFixed(0)} ms (${connect.snapshots} snapshots)`);

  const cpu0 = cpuSeconds(pid) ?? 0;
  const fleetCpu0 = cpuSecondsOf(fleet.pids);
  const ticks0 = machineTicks();
  let v1 = 100;
  const apiMs: number[] = [];
  const marks: number[] = []; // write start times (µs, CLOCK_MONOTONIC like V8's profile timestamps)
  const writes = await measureChanges(fleet, { count: o.writes, pauseMs: o.pauseMs, timeoutMs: 30_000, expect: "all" }, async () => {
    v1 = v1 === 90 ? 10 : 90;
    marks.push(nowUs());
    const start = performance.now();
    head = await setSplit(api, head, 0, v1);
    apiMs.push(performance.now() - start);
  });
  const cpuPerWriteS = ((cpuSeconds(pid) ?? 0) - cpu0) / Math.max(1, o.writes);
  const fleetCpuPerWriteS = (cpuSecondsOf(fleet.pids) - fleetCpu0) / Math.max(1, o.writes);
  const load = machineLoad(ticks0, machineTicks());
  if (o.cpuProfDir) writeFileSync(path.join(o.cpuProfDir, `bench-writes-${pid}.json`), JSON.stringify({ writeStartsUs: marks, lastAckMs: writes.lastAckMs, apiMs }));
  log(`${o.writes} writes of svc-0's route: last ACK ${writes.lastAckMs.map((x) => x.toFixed(0)).join(", ")} ms; API call ${apiMs.map((x) => x.toFixed(0)).join(", ")} ms`);

  // A narrow edit: svc-k's route reaches only the proxies of the services that list svc-k in egress.
  let narrow: TrellisResult["narrow"];
  const k = Math.max(1, o.services - 4);
  const callers = new Set(callersOf(k, o.services));
  const expect = Array.from({ length: o.proxies }, (_, j) => j).filter((j) => callers.has(j % o.services));
  if (o.services > 1 && expect.length > 0) {
    let w = 100;
    const r = await measureChanges(fleet, { count: Math.min(3, o.writes), pauseMs: o.pauseMs, timeoutMs: 30_000, expect, settleMs: 1000 }, async () => {
      w = w === 90 ? 10 : 90;
      head = await setSplit(api, head, k, w);
    });
    narrow = { ...r, service: serviceName(k) };
    log(`narrow edit of ${serviceName(k)}: ${expect.length} proxies expected, last ACK ${r.lastAckMs.map((x) => x.toFixed(0)).join(", ")} ms, ${r.unexpected} unexpected pushes`);
  }

  await sleep(2000); // let the status batches reach the database
  const status = await api.proxies.status.query({});
  const synced = status.filter((s) => s.state === "SYNCED").length;
  const rssSettledMb = rss.sample();
  const stderrTail = cp.stderr().trim().split("\n").filter(Boolean).slice(-5);
  await closeFleet();
  await stopCp();
  return { seedMs, connect, writes, apiMs, narrow, synced, statusTotal: status.length, rssIdleMb, rssPeakMb: rss.peakMb, rssSettledMb, cpuPerWriteS, fleetCpuPerWriteS, load, stderrTail };
}
