import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const MAIN = path.join(repoRoot, "apps/proxy/src/main.ts");

/** A trellis-proxy process started by a test. */
export interface ProxyProcess {
  child: ChildProcess;
  inbound: number;
  outbound: number;
  admin: number;
  /** Access-log lines (stdout after the first line), parsed. */
  accessLog: Array<Record<string, unknown>>;
  stderr(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `trellis-proxy` with these flags (ports default to 0) and waits for its `listening` line. */
export async function spawnProxy(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const accessLog: Array<Record<string, unknown>> = [];
  let out = "";
  const first = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`trellis-proxy did not start; stderr:\n${err}`))), timeoutMs);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`trellis-proxy exited with ${code}; stderr:\n${err}`))));
    let listening = false;
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      let nl;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (!listening) {
          listening = true;
          clearTimeout(timer);
          resolve(parsed as Record<string, number>);
        } else accessLog.push(parsed);
      }
    });
  });
  return {
    child,
    inbound: first.inbound!,
    outbound: first.outbound!,
    admin: first.admin!,
    accessLog,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}
