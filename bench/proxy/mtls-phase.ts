/**
 * What mTLS costs the sidecar pair. Two pairs run side by side on the same control plane: the
 * plaintext one (`pair`) and one whose proxies joined the mesh CA with tokens, with a STRICT
 * PeerAuthentication on the server (`pair-mtls`: every request crosses an mTLS session whose
 * client side checked the server's SPIFFE ID and whose server side checked the client's).
 *
 * 1. The fixed-rate run, alternating plaintext and mTLS `--mtls-rounds` times (the machine's
 *    noise moves CPU per request by more than the difference; the report takes medians):
 *    p50/p99, and proxy CPU per request of both sidecars.
 * 2. Handshakes: new mTLS connections straight at the mTLS server sidecar's inbound port
 *    (handshakes.mjs, the client sidecar's own certificate, no session resumption), as fast as
 *    `--handshake-concurrency` loops can open them for `--handshake-s`: handshakes per second,
 *    and the server sidecar's CPU per handshake. A session between two sidecars lives as
 *    long as both do; this is what a new peer, a restart or a certificate rotation costs.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild } from "./children";
import { fixedRate, windowed } from "./measure";
import type { CpuWindow, Target } from "./measure";
import type { FixedRateResult } from "./fixed-rate";
import type { Mesh } from "./mesh";
import type { Options } from "./options";

const HANDSHAKES = path.join(path.dirname(fileURLToPath(import.meta.url)), "handshakes.mjs");

export interface MtlsRound {
  mtls: boolean;
  fixed: FixedRateResult & { window: CpuWindow };
  /** Proxy CPU (both sidecars) per answered request, µs. */
  proxyCpuUsPerRequest: number;
}

export interface HandshakeRun {
  concurrency: number;
  handshakes: number;
  errors: number;
  firstError: string | undefined;
  wallS: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  /** The mTLS server sidecar's CPU per handshake, µs. */
  serverCpuUsPerHandshake: number;
  /** Cores the server sidecar used while taking them. */
  serverCores: number;
}

export interface MtlsCost {
  rounds: MtlsRound[];
  handshakes: HandshakeRun | undefined;
}

export async function measureMtls(mesh: Mesh, plain: Target, secure: Target, o: Options, appPids: number[], bodyBytes: number, log: (s: string) => void): Promise<MtlsCost> {
  const rounds: MtlsRound[] = [];
  for (let i = 0; i < o.mtlsRounds; i++) {
    for (const t of [plain, secure]) {
      const opts = { host: "127.0.0.1", port: t.h1.port, authority: t.h1.authority, path: "/", rate: o.rate, durationS: o.fixedS, warmupS: o.warmupS, connections: o.fixedConnections, maxConnections: 256, expectBodyBytes: bodyBytes };
      const fixed = await fixedRate(opts, t.processes, appPids, (o.fixedS + o.warmupS + 60) * 1000);
      const cpuS = t.processes.reduce((n, g) => n + (fixed.window.cpuS[g.name] ?? 0), 0);
      const round: MtlsRound = { mtls: t === secure, fixed, proxyCpuUsPerRequest: (cpuS / Math.max(fixed.completed, 1)) * 1e6 };
      rounds.push(round);
      log(`  round ${i + 1}/${o.mtlsRounds}, ${round.mtls ? "mTLS" : "plaintext"}: p50 ${fixed.service.p50.toFixed(3)} p99 ${fixed.service.p99.toFixed(3)} ms, ${round.proxyCpuUsPerRequest.toFixed(1)} µs proxy CPU a request, ${fixed.errors} errors`);
    }
  }
  let handshakes: HandshakeRun | undefined;
  if (o.handshakeS > 0 && mesh.mtls) {
    const server = { name: "server sidecar (mTLS)", pids: [mesh.mtls.server.child.pid] };
    const concurrency = o.handshakeConcurrency;
    const r = await windowed([server], appPids, async () => {
      const c = spawnChild("handshakes", process.execPath, [HANDSHAKES, String(mesh.mtls!.server.inbound), mesh.mtls!.clientIdentityDir, String(concurrency), String(o.handshakeS)], { stdout: "pipe" });
      const out = await new Promise<string>((resolve, reject) => {
        let text = "";
        c.child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
        c.child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`handshakes.mjs exited with ${code}: ${c.stderr()}`))));
      });
      return JSON.parse(out.trim().split("\n").pop()!) as Omit<HandshakeRun, "perSecond" | "serverCpuUsPerHandshake" | "serverCores" | "concurrency">;
    });
    const cpuS = r.window.cpuS[server.name] ?? Number.NaN;
    handshakes = { concurrency, handshakes: r.handshakes, errors: r.errors, firstError: r.firstError, wallS: r.wallS, latencyMs: r.latencyMs, perSecond: r.handshakes / r.wallS, serverCpuUsPerHandshake: (cpuS / Math.max(r.handshakes, 1)) * 1e6, serverCores: cpuS / r.window.wallS };
    log(`  handshakes: ${handshakes.perSecond.toFixed(0)}/s with ${concurrency} in flight (p50 ${r.latencyMs.p50.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} ms), server sidecar ${handshakes.serverCpuUsPerHandshake.toFixed(0)} µs CPU each, ${r.errors} errors${r.firstError ? ` (first: ${r.firstError})` : ""}`);
  }
  return { rounds, handshakes };
}

/** Medians per mode over the rounds, and what mTLS adds to plaintext. */
export function mtlsSummary(cost: MtlsCost) {
  const mode = (mtls: boolean) => {
    const mine = cost.rounds.filter((r) => r.mtls === mtls);
    return {
      rounds: mine.length,
      completed: mine.reduce((n, r) => n + r.fixed.completed, 0),
      errors: mine.reduce((n, r) => n + r.fixed.errors, 0),
      p50: median(mine.map((r) => r.fixed.service.p50)),
      p90: median(mine.map((r) => r.fixed.service.p90)),
      p99: median(mine.map((r) => r.fixed.service.p99)),
      proxyCpuUsPerRequest: median(mine.map((r) => r.proxyCpuUsPerRequest)),
      cpuRounds: mine.map((r) => r.proxyCpuUsPerRequest),
    };
  };
  const plaintext = mode(false);
  const mtls = mode(true);
  return {
    plaintext,
    mtls,
    added: { p50: mtls.p50 - plaintext.p50, p90: mtls.p90 - plaintext.p90, p99: mtls.p99 - plaintext.p99, cpuUsPerRequest: mtls.proxyCpuUsPerRequest - plaintext.proxyCpuUsPerRequest },
    handshakes: cost.handshakes,
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
