import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONTROL_PLANE_NODE_FLAGS } from "../../apps/control/src/heap";
import type { Cleanup } from "./cleanup";
import { Fleet } from "./fleet";
import { connectFleet, measureChanges, type ChangeResult, type ConnectResult } from "./measure";
import { mallocEnv } from "./options";
import type { Options } from "./options";
import { cpuSeconds, cpuSecondsOf, machineLoad, machineTicks, RssSampler } from "./rss";

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "floor-server.ts");

export interface FloorResult {
  bytes: number;
  connect: ConnectResult;
  writes: ChangeResult;
  rssPeakMb: number;
  rssSettledMb: number;
  cpuPerWriteS: number;
  /** Fake-proxy fleet CPU seconds over the measured writes, per write (it shares the machine). */
  fleetCpuPerWriteS: number;
  /** Whole-machine busy and hypervisor-steal CPU share during the measured writes, %. */
  load: { busyPct: number; stealPct: number };
}

/** The same fleet and the same number of pushes against the bare grpc-js floor server (floor-server.ts). */
export async function runFloor(o: Options, bytes: number, cleanup: Cleanup, log: (s: string) => void): Promise<FloorResult> {
  const child = spawn(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, ...o.cpNodeArgs, "--import", "tsx", SERVER, "--bytes", String(bytes)], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...mallocEnv(o) } });
  const stop = cleanup.add("stop the floor server", () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    return exited;
  });
  const addr = await new Promise<{ grpc: string; http: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the floor server did not start within 30 s")), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) (clearTimeout(timer), resolve(JSON.parse(out.slice(0, nl)) as { grpc: string; http: string }));
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the floor server exited with ${code}`))));
  });
  const pid = child.pid as number;
  const rss = new RssSampler(pid);
  cleanup.add("stop floor RSS sampling", () => rss.stop());
  log(`floor server pid ${pid}: grpc ${addr.grpc}, push ${addr.http}/push, ${bytes}-byte snapshots`);

  const fleet = Fleet.start(o.fleetProcs);
  const closeFleet = cleanup.add("close the floor fleet", () => fleet.close());
  const connect = await connectFleet(fleet, addr.grpc, o.proxies, o.services, o.timeoutMs);
  log(`${o.proxies} proxies synced with the floor in ${connect.firstSyncMs.toFixed(0)} ms`);

  const cpu0 = cpuSeconds(pid) ?? 0;
  const fleetCpu0 = cpuSecondsOf(fleet.pids);
  const ticks0 = machineTicks();
  const writes = await measureChanges(fleet, { count: o.writes, pauseMs: o.pauseMs, timeoutMs: 30_000, expect: "all" }, async () => {
    const res = await fetch(`${addr.http}/push`, { method: "POST" });
    if (!res.ok) throw new Error(`floor push failed: HTTP ${res.status}`);
    await res.arrayBuffer();
  });
  const cpuPerWriteS = ((cpuSeconds(pid) ?? 0) - cpu0) / Math.max(1, o.writes);
  const fleetCpuPerWriteS = (cpuSecondsOf(fleet.pids) - fleetCpu0) / Math.max(1, o.writes);
  const load = machineLoad(ticks0, machineTicks());
  log(`${o.writes} floor pushes: last ACK ${writes.lastAckMs.map((x) => x.toFixed(0)).join(", ")} ms`);
  await new Promise((r) => setTimeout(r, 1000));
  const rssSettledMb = rss.sample();
  await closeFleet();
  await stop();
  return { bytes, connect, writes, rssPeakMb: rss.peakMb, rssSettledMb, cpuPerWriteS, fleetCpuPerWriteS, load };
}
