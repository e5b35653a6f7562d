import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(repoRoot, "apps/control/src/main.ts");
const BUNDLE = path.join(repoRoot, "apps/control/dist/main.mjs");

/** Builds the production bundle (scripts/build-control.mjs); throws with its output on failure. */
function buildBundle(): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/build-control.mjs")], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the control plane failed:\n${r.stdout}${r.stderr}`);
}

/** A control plane running as its own `node` process (so its RSS and CPU are its own). */
export interface ControlProcess {
  child: ChildProcess;
  pid: number;
  api: string;
  grpcPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts apps/control/src/main.ts (ports 0) with `env` and extra node flags (e.g. --cpu-prof,
 * which NODE_OPTIONS refuses), and waits for its first stdout line, `{"event":"listening",…}`.
 * Like apps/control/test/helpers/process.ts, plus `nodeArgs`. The pid is node's itself.
 */
export async function startControlProcess(env: Record<string, string>, nodeArgs: string[] = [], runtime: "bundle" | "tsx" = "bundle", timeoutMs = 120_000): Promise<ControlProcess> {
  if (runtime === "bundle") buildBundle();
  const entry = runtime === "bundle" ? [BUNDLE] : ["--import", "tsx", MAIN];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", TRELLIS_API_PORT: "0", TRELLIS_GRPC_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const listening = await new Promise<{ api: string; grpc: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`control plane did not start in ${timeoutMs} ms; stderr:\n${err}`))), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume(); // keep draining the banner
      resolve(JSON.parse(out.slice(0, nl)) as { api: string; grpc: string });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`control plane exited with ${code}; stderr:\n${err}`))));
  });
  return {
    child,
    pid: child.pid as number,
    api: listening.api,
    grpcPort: Number(listening.grpc.split(":").pop()),
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
