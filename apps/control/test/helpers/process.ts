import { randomBytes } from "node:crypto";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { controlPlaneMallocEnv } from "../../src/allocator";
import { CONTROL_PLANE_NODE_FLAGS } from "../../src/heap";
import { TEST_ADMIN_PASSWORD } from "./test-auth";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const MAIN = path.join(repoRoot, "apps/control/src/main.ts");
const BUNDLE = path.join(repoRoot, "apps/control/dist/main.mjs");

/** A control-plane replica running as its own OS process (`trellis-control`); `pid` is node's own. */
export interface ControlProcess {
  child: ChildProcess;
  pid: number;
  api: string;
  grpcPort: number;
  /** The TLS gRPC port (identity service, mTLS config streams). */
  grpcTlsPort: number;
  database: string;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * The CA key-encryption key of every control plane a test process starts: replicas on one
 * database must share it (as an operator's do through TRELLIS_CA_KEK), and Postgres tests have
 * no data directory to keep one in.
 */
export const TEST_CA_KEK = randomBytes(32).toString("base64");

export interface SpawnOptions {
  /** tsx: the TypeScript sources (default); bundle: apps/control/dist/main.mjs, built first, as production runs it. */
  runtime?: "tsx" | "bundle";
  /** Extra node flags (e.g. --cpu-prof, which NODE_OPTIONS refuses), after CONTROL_PLANE_NODE_FLAGS (production's; a later flag wins). */
  nodeArgs?: string[];
  /** Working directory (default: the repository root). */
  cwd?: string;
  timeoutMs?: number;
  /** Leave out CONTROL_PLANE_NODE_FLAGS and the jemalloc preload (to test what the control plane says without them). */
  withoutProductionFlags?: boolean;
}

/** TRELLIS_HEAP_GROWTH_PERCENT of the caller's environment, when set: a benchmark's experiment with the heap (heap.ts) reaches the control plane. */
function growthFromCaller(): Record<string, string> {
  const v = process.env.TRELLIS_HEAP_GROWTH_PERCENT;
  return v ? { TRELLIS_HEAP_GROWTH_PERCENT: v } : {};
}

/** Builds the production bundle (scripts/build-app.mjs control); throws with its output on failure. */
export function buildBundle(): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/build-app.mjs"), "control"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the control plane failed:\n${r.stdout}${r.stderr}`);
}

/** Spawns the control plane with `env` (ports 0) and waits for its first stdout line, `{"event":"listening",…}`. */
export async function spawnControlPlane(env: Record<string, string>, opts: SpawnOptions = {}): Promise<ControlProcess> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (opts.runtime === "bundle") buildBundle();
  const entry = opts.runtime === "bundle" ? [BUNDLE] : ["--import", "tsx", MAIN];
  const child = spawn(process.execPath, [...(opts.withoutProductionFlags ? [] : CONTROL_PLANE_NODE_FLAGS), ...(opts.nodeArgs ?? []), ...entry], {
    cwd: opts.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? "", TRELLIS_API_PORT: "0", TRELLIS_GRPC_PORT: "0", TRELLIS_GRPC_TLS_PORT: "0", TRELLIS_CA_KEK: TEST_CA_KEK, TRELLIS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD, ...growthFromCaller(), ...(opts.withoutProductionFlags ? {} : controlPlaneMallocEnv()), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const listening = await new Promise<{ api: string; grpc: string; grpcTls: string; database: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`control plane did not start in ${timeoutMs} ms; stderr:\n${err}`))), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume(); // keep draining the banner
      resolve(JSON.parse(out.slice(0, nl)) as { api: string; grpc: string; grpcTls: string; database: string });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`control plane exited with ${code}; stderr:\n${err}`))));
  });
  return {
    child,
    pid: child.pid as number,
    api: listening.api,
    grpcPort: Number(listening.grpc.split(":").pop()),
    grpcTlsPort: Number(listening.grpcTls.split(":").pop()),
    database: listening.database,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}
