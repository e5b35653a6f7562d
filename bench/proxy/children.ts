import { spawn } from "node:child_process";
import type { ChildProcess, StdioOptions } from "node:child_process";
import net from "node:net";

/** A process the benchmark started: its pid for /proc readings, its stderr tail, a bounded stop. */
export interface Child {
  name: string;
  pid: number;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `cmd`. stdout is `ignore` (→ /dev/null: trellis-proxy's access log, which must cost
 * the proxy what a write costs, not the benchmark a pipe to drain), `pipe` (a JSON result),
 * or a file descriptor (a log file kept for diagnosis).
 */
export function spawnChild(name: string, cmd: string, args: readonly string[], opts: { env?: Record<string, string>; stdout: "ignore" | "pipe" | number; cwd?: string }): Child {
  const stdio: StdioOptions = ["ignore", opts.stdout, "pipe"];
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? "", ...opts.env }, stdio });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-8_000)));
  return {
    name,
    pid: child.pid,
    child,
    stderr: () => err,
    stop: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
        child.once("exit", () => (clearTimeout(kill), resolve()));
        child.kill("SIGTERM");
      }),
  };
}

/** Everything `c` prints on stdout until it exits; rejects with its stderr if it fails. */
export function stdoutOf(c: Child, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    c.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => (c.child.kill("SIGKILL"), reject(new Error(`${c.name} did not finish within ${timeoutMs} ms; stderr:\n${c.stderr()}`))), timeoutMs);
    c.child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${c.name} exited with ${code}; stderr:\n${c.stderr()}\nstdout:\n${out.slice(-4000)}`));
    });
  });
}

/** The first stdout line of `c` (a `listening` banner), parsed as JSON; the rest is drained. */
export function firstJsonLine<T>(c: Child, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${c.name} printed no line within ${timeoutMs} ms; stderr:\n${c.stderr()}`)), timeoutMs);
    const onExit = (code: number | null) => (clearTimeout(timer), reject(new Error(`${c.name} exited with ${code}; stderr:\n${c.stderr()}`)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      c.child.stdout!.off("data", onData);
      c.child.off("exit", onExit);
      c.child.stdout!.resume();
      resolve(JSON.parse(out.slice(0, nl)) as T);
    };
    c.child.stdout!.on("data", onData);
    c.child.once("exit", onExit);
  });
}

/** A port free on 127.0.0.1 right now (the OS's pick; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it returns a value, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `cmd args` to completion under bash and returns its stdout with the CPU seconds it
 * used (bash's `times`: user + system of its children, exact even after the process is gone
 * from /proc). Rejects on a non-zero exit or after `timeoutMs`.
 */
export async function runTimed(name: string, cmd: string, args: readonly string[], timeoutMs: number): Promise<{ stdout: string; cpuS: number; pid: number }> {
  const c = spawnChild(name, "bash", ["-c", '"$@"; s=$?; times >&2; exit $s', "bash", cmd, ...args], { stdout: "pipe" });
  const stdout = await stdoutOf(c, timeoutMs);
  return { stdout, cpuS: childrenCpuFromTimes(c.stderr()), pid: c.pid };
}

/** The children's user + system seconds from bash's `times` output (its last line: `0m1.234s 0m0.567s`). */
export function childrenCpuFromTimes(text: string): number {
  const lines = text.trim().split("\n");
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1]?.trim() ?? "");
  if (!m) return Number.NaN;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}
