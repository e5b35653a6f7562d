/**
 * Proxy benchmark: the app direct, through one trellis-proxy, through a client + server
 * sidecar pair, through nginx and through http-proxy (Node), all in one run on this machine:
 * saturation throughput (wrk; h2load for HTTP/2), latency at a fixed rate, CPU per request,
 * peak RSS, ratios and the targets. See README.md next to this file; `--help`.
 *
 * Orchestration only: nginx.ts / node-peer.mjs / mesh.ts start the processes, measure.ts runs
 * the load against one target, report.ts prints. Everything listens on 127.0.0.1 and is
 * stopped on any exit; the whole run is bounded by --timeout-s.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Cleanup } from "../config-propagation/cleanup";
import { firstJsonLine, spawnChild } from "./children";
import { measureRound, rssBefore, targetResult, warmUp } from "./measure";
import type { Target, TargetResult, TargetRound } from "./measure";
import { startMesh, HOSTS } from "./mesh";
import type { TrellisProxy } from "./mesh";
import type { Mesh } from "./mesh";
import { appConfig, proxyConfig } from "./nginx-conf";
import { nginxVersion, startNginx } from "./nginx";
import type { Nginx } from "./nginx";
import { parseOptions } from "./options";
import { measureTracing } from "./tracing-phase";
import { measureMtls } from "./mtls-phase";
import { busyPct, machineTicks } from "./proc";
import { servesPayload } from "./probe";
import { bundleSections, summarizeProfile } from "./profile-summary";
import type { CpuProfile, ProfileSummary } from "./profile-summary";
import { buildReport, renderReport } from "./report";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const BODY_BYTES = 1024;

const o = parseOptions(process.argv.slice(2));
const cleanup = new Cleanup();
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();

let exiting = false;
async function exit(code: number, why?: string): Promise<never> {
  if (exiting) return new Promise<never>(() => {});
  exiting = true;
  if (why) process.stderr.write(`${why}\n`);
  await cleanup.run();
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void exit(130, `interrupted (${signal}); cleaning up`));
const overall = setTimeout(() => void exit(2, `the benchmark did not finish within ${o.timeoutMs / 1000} s (--timeout-s); cleaning up`), o.timeoutMs);

/** HEAD and the uncommitted files under what the proxy bundle is built from (other engineers edit the same tree). */
function workTree(): { commit: string; uncommitted: string[] } {
  // trimEnd: porcelain lines start with a status column that may be a space.
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trimEnd();
  try {
    const status = git("status", "--porcelain", "--", "apps/proxy/src", "packages/config/src", "packages/proto/src");
    return { commit: git("rev-parse", "HEAD"), uncommitted: status ? status.split("\n").map((l) => l.slice(3)) : [] };
  } catch {
    return { commit: "unknown", uncommitted: [] };
  }
}

function requireTools(): void {
  const missing = ["wrk", "h2load", "nginx"].filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length) throw new Error(`missing load tools or peers: ${missing.join(", ")}; install them with: apt-get install -y wrk nghttp2-client nginx`);
}

interface FloorProcess {
  pid: number;
  h1: number | undefined;
  h2: number | undefined;
}

/** One process of the Node floor (node-floor.mjs `role`), stopped with the rest on exit. */
async function startFloor(role: string, ports: number[], nodeArgs: string[]): Promise<FloorProcess> {
  const c = spawnChild(`Node floor ${role}`, process.execPath, [...nodeArgs, path.join(here, "node-floor.mjs"), role, ...ports.map(String)], { stdout: "pipe", cwd: repoRoot });
  cleanup.add(`stop the Node floor ${role}`, () => c.stop());
  const { h1, h2 } = await firstJsonLine<{ h1?: number; h2?: number }>(c, 30_000);
  return { pid: c.pid, h1, h2 };
}

/** Waits until the machine was < 15% busy over 2 s, for at most `maxS`; returns the last reading, %. */
async function waitQuiet(maxS: number): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 2000));
    const pct = busyPct(a, machineTicks());
    if (pct < 15 || Date.now() >= deadline) return pct;
    log(`machine ${pct.toFixed(0)}% busy (other engineers' tests?); waiting for it to quieten (--wait-quiet-s ${maxS})`);
  }
}

try {
  requireTools();
  const started = Date.now();
  const uptimeBefore = uptime();
  const code = workTree();
  log(`targets ${o.targets.join(", ")}; ${uptimeBefore}`);
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-bench-proxy-"));
  cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const want = (id: string) => (o.targets as string[]).includes(id);

  const app = await startNginx("app", dir, (c) => appConfig(c, "x".repeat(BODY_BYTES)));
  cleanup.add("stop the app", () => app.master.stop());
  let peer: Nginx | undefined;
  if (want("nginx")) {
    const app1 = app.h1Port;
    peer = await startNginx("nginx-peer", dir, (c) => proxyConfig(c, app1, Math.max(64, o.connections, o.h2Connections * o.h2Streams)));
    cleanup.add("stop the nginx peer", () => peer!.master.stop());
  }
  let node: { pid: number; port: number } | undefined;
  if (want("node")) {
    const c = spawnChild("http-proxy", process.execPath, [path.join(here, "node-peer.mjs"), String(app.h1Port)], { stdout: "pipe", cwd: repoRoot });
    cleanup.add("stop http-proxy", () => c.stop());
    node = { pid: c.pid, port: (await firstJsonLine<{ port: number }>(c, 30_000)).port };
  }
  // The Node floor runs with the same node flags as trellis-proxy, so the two differ only in what their code does.
  const floorArgs = o.proxyNodeArgs;
  const floor = (role: string, ...ports: number[]) => startFloor(role, ports, floorArgs);
  const floorSingle = want("floor") ? await floor("single", app.h1Port) : undefined;
  let floorPair: { client: FloorProcess; server: FloorProcess } | undefined;
  if (want("floor-pair")) {
    const server = await floor("pair-server", app.h1Port);
    floorPair = { server, client: await floor("pair-client", server.h2!) };
  }
  const relay = want("relay") ? await floor("pipe", app.h1Port, app.h2Port) : undefined;
  let mesh: Mesh | undefined;
  const stopProxies: Array<() => Promise<void>> = [];
  if (want("single") || want("pair") || want("pair-mtls")) {
    if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
    const nodeArgs = [...o.proxyNodeArgs, ...(o.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(o.cpuProfDir)}`] : [])];
    let otlpEndpoint = "control-plane";
    if (o.otlp === "sink") {
      const sink = spawnChild("otlp-sink", process.execPath, [path.join(here, "otlp-sink.mjs")], { stdout: "pipe", cwd: repoRoot });
      cleanup.add("stop the OTLP sink", () => sink.stop());
      otlpEndpoint = `http://127.0.0.1:${(await firstJsonLine<{ port: number }>(sink, 30_000)).port}/v1/traces`;
    }
    mesh = await startMesh({ runtime: o.proxyRuntime, nodeArgs, stdoutDir: o.proxyStdoutDir && path.resolve(o.proxyStdoutDir), appPort: app.h1Port, bodyBytes: BODY_BYTES, dir, otlpEndpoint, mtls: want("pair-mtls") }, cleanup, log);
    for (const p of [mesh.single, mesh.client, mesh.server, ...(mesh.mtls ? [mesh.mtls.client, mesh.mtls.server] : [])]) stopProxies.push(() => p.child.stop());
  }

  const targets: Target[] = [];
  if (want("direct")) targets.push({ id: "direct", label: "app direct", h1: { port: app.h1Port, authority: `127.0.0.1:${app.h1Port}` }, h2: { port: app.h2Port, authority: `127.0.0.1:${app.h2Port}` }, processes: [] });
  if (mesh && want("single")) {
    const m = mesh.single;
    targets.push({ id: "single", label: "one trellis-proxy", h1: { port: m.outbound, authority: HOSTS.plain }, h2: { port: m.outbound, authority: HOSTS.plain }, processes: [{ name: "trellis-proxy", pids: [m.child.pid] }] });
  }
  /** A client → server sidecar pair as a target; `suffix` tells the pairs' processes apart. */
  const pair = (id: "pair" | "pair-mtls", label: string, p: { client: TrellisProxy; server: TrellisProxy }, authority: string, suffix: string): Target => ({
    id,
    label,
    h1: { port: p.client.outbound, authority },
    h2: { port: p.client.outbound, authority },
    processes: [
      { name: `client sidecar${suffix}`, pids: [p.client.child.pid] },
      { name: `server sidecar${suffix}`, pids: [p.server.child.pid] },
    ],
  });
  if (mesh && want("pair")) targets.push(pair("pair", "sidecar pair", mesh, HOSTS.meshed, ""));
  if (mesh?.mtls && want("pair-mtls")) targets.push(pair("pair-mtls", "sidecar pair, mTLS", mesh.mtls, HOSTS.mtls, " (mTLS)"));
  if (peer) targets.push({ id: "nginx", label: `nginx (1 worker)`, h1: { port: peer.h1Port, authority: HOSTS.plain }, h2: { port: peer.h2Port, authority: HOSTS.plain }, processes: [{ name: "nginx", pids: peer.pids }] });
  if (node) targets.push({ id: "node", label: "http-proxy (Node)", h1: { port: node.port, authority: HOSTS.plain }, h2: undefined, processes: [{ name: "http-proxy", pids: [node.pid] }] });
  if (floorSingle) targets.push({ id: "floor", label: "Node floor, one process", h1: { port: floorSingle.h1!, authority: HOSTS.plain }, h2: { port: floorSingle.h2!, authority: HOSTS.plain }, processes: [{ name: "Node floor", pids: [floorSingle.pid] }] });
  if (floorPair) {
    const { client, server } = floorPair;
    targets.push({ id: "floor-pair", label: "Node floor pair", h1: { port: client.h1!, authority: HOSTS.meshed }, h2: undefined, processes: [{ name: "floor client", pids: [client.pid] }, { name: "floor server", pids: [server.pid] }] });
  }
  if (relay) targets.push({ id: "relay", label: "Node socket relay", h1: { port: relay.h1!, authority: HOSTS.plain }, h2: { port: relay.h2!, authority: HOSTS.plain }, processes: [{ name: "relay", pids: [relay.pid] }] });
  for (const t of targets) await servesPayload(t.h1.port, t.h1.authority, BODY_BYTES);

  // Every target warms up, then the rounds run the targets in turn, so a drift of the machine's
  // speed (±20 % from minute to minute here) falls on all of them alike; the figures are medians.
  const before = targets.map((t) => rssBefore(t));
  for (const t of targets) {
    log(`${t.label}: warm-up…`);
    await warmUp(t, o);
  }
  const rounds: TargetRound[][] = targets.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    // Other engineers' test runs come and go: each round waits for a quiet machine.
    if (o.waitQuietS > 0) log(`machine ${(await waitQuiet(o.waitQuietS)).toFixed(0)}% busy before round ${r + 1}/${o.rounds}`);
    for (const [i, t] of targets.entries()) rounds[i]!.push(await measureRound(t, o, app.pids, BODY_BYTES, r, log));
  }
  const results: TargetResult[] = targets.map((t, i) => targetResult(t, rounds[i]!, before[i]!));
  const pairTarget = targets.find((t) => t.id === "pair");
  const tracing = mesh && pairTarget && o.tracing.length > 0 ? (log("tracing cost on the sidecar pair…"), await measureTracing(mesh, pairTarget, o, app.pids, BODY_BYTES, log)) : [];
  const mtlsTarget = targets.find((t) => t.id === "pair-mtls");
  const mtls = mesh && mtlsTarget && (o.mtlsRounds > 0 || o.handshakeS > 0) ? (log("mTLS cost on the sidecar pair…"), await measureMtls(mesh, pairTarget ?? mtlsTarget, mtlsTarget, { ...o, mtlsRounds: pairTarget ? o.mtlsRounds : 0 }, app.pids, BODY_BYTES, log)) : undefined;
  const uptimeAfter = uptime();

  const profiles: Record<string, ProfileSummary> = {};
  if (o.cpuProfDir && mesh) {
    const names = new Map([mesh.single, mesh.client, mesh.server, ...(mesh.mtls ? [mesh.mtls.client, mesh.mtls.server] : [])].map((p) => [p.child.pid, p.name]));
    for (const stop of stopProxies) await stop(); // profiles are written on exit
    const bundle = path.join(repoRoot, "apps/proxy/dist/main.mjs");
    const bundles = new Map(o.proxyRuntime === "bundle" ? [[pathToFileURL(bundle).href, bundleSections(readFileSync(bundle, "utf8"))]] : []);
    for (const file of readdirSync(o.cpuProfDir)) {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (tsx adds a loader thread).
      const m = /^CPU\.\d+\.\d+\.(\d+)\.0\.\d+\.cpuprofile$/.exec(file);
      const name = m && names.get(Number(m[1]));
      if (name) profiles[`${name} (${path.join(o.cpuProfDir, file)})`] = summarizeProfile(JSON.parse(readFileSync(path.join(o.cpuProfDir, file), "utf8")) as CpuProfile, 20, bundles);
    }
  }
  await cleanup.run();

  const httpProxyVersion = (JSON.parse(readFileSync(path.join(repoRoot, "node_modules/http-proxy/package.json"), "utf8")) as { version: string }).version;
  const report = buildReport(
    o,
    {
      cpus: cpus().length,
      node: process.version,
      nginx: nginxVersion(),
      httpProxy: httpProxyVersion,
      app: `nginx, one worker, \`return 200\` with ${BODY_BYTES} bytes (HTTP/1.1 and h2c listeners): the cheapest upstream here, so the two cores go to the proxy under test`,
      bodyBytes: BODY_BYTES,
      proxyRuntime: o.proxyRuntime,
      ...code,
      uptimeBefore,
      uptimeAfter,
      startedAt: new Date(started).toISOString(),
      durationS: (Date.now() - started) / 1000,
    },
    results,
    profiles,
    tracing,
    mtls,
  );
  mkdirSync(path.dirname(path.resolve(o.reportPath)), { recursive: true });
  writeFileSync(o.reportPath, JSON.stringify(report, null, 2) + "\n");
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report) + `\n\nJSON report: ${o.reportPath}\n`);
  clearTimeout(overall);
  process.exit(report.targets.some((t) => t.verdict === "FAIL") ? 1 : 0);
} catch (err) {
  await exit(1, `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
