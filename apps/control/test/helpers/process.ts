import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const MAIN = path.join(repoRoot, "apps/control/src/main.ts");

/** A control-plane replica running as its own OS process (`trellis-control`). */
export interface ControlProcess {
  child: ChildProcess;
  api: string;
  grpcPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns main.ts with `env` (ports 0) and waits for its `listening` line. */
export async function spawnControlPlane(env: Record<string, string>, timeoutMs = 60_000): Promise<ControlProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", TRELLIS_API_PORT: "0", TRELLIS_GRPC_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const listening = await new Promise<{ api: string; grpc: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`control plane did not start in ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line && out.includes("\n")) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { api: string; grpc: string });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with ${code}; stderr:\n${err}`));
    });
  });
  return {
    child,
    api: listening.api,
    grpcPort: Number(listening.grpc.split(":").pop()),
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
