import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import type { WriteStream } from "node:fs";
import net from "node:net";
import path from "node:path";

/** One process the demo started: its output goes to <logs>/<name>.log; its first JSON stdout line is its `listening` event. */
export interface Managed {
  name: string;
  child: ChildProcess;
  /** The first JSON line it printed (ports it bound). */
  listening: Record<string, unknown>;
  logFile: string;
  /** Lines after the first, as they come (the load generator's stats). */
  onLine(fn: (line: string) => void): void;
}

/**
 * The demo's children: started in order, stopped in reverse (SIGTERM, then SIGKILL after a
 * grace), and killed outright if the demo itself exits any other way, so no process outlives
 * it. Each child runs in its own process group, so a Ctrl-C in the terminal reaches only the
 * demo, which then stops them in order.
 */
export class Supervisor {
  private readonly children: Managed[] = [];
  private readonly streams: WriteStream[] = [];
  private stopping = false;

  constructor(readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
    // Whatever else ends the demo (an exception, process.exit): no orphans.
    process.once("exit", () => {
      for (const c of this.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    });
  }

  /** Spawns `node args…` and waits for its first JSON stdout line (up to `timeoutMs`). */
  async start(name: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Managed> {
    const logFile = path.join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    this.streams.push(log);
    log.write(`\n=== ${new Date().toISOString()} node ${args.join(" ")}\n`);
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const listeners: Array<(line: string) => void> = [];
    let first: Record<string, unknown> | undefined;
    let buf = "";
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s; see ${logFile}`)), timeoutMs);
      child.stdout!.on("data", (d: Buffer) => {
        log.write(d);
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (first === undefined && line.startsWith("{")) {
            try {
              first = JSON.parse(line) as Record<string, unknown>;
              clearTimeout(timer);
              resolve(first);
              continue;
            } catch {
              // not the listening line
            }
          }
          for (const l of listeners) l(line);
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (first === undefined) reject(new Error(`${name} exited (${code ?? signal}) before it was up; see ${logFile}`));
      });
    });
    child.stderr!.on("data", (d: Buffer) => log.write(d));
    const managed: Managed = { name, child, listening: {}, logFile, onLine: (fn) => listeners.push(fn) };
    this.children.push(managed);
    managed.listening = await ready;
    return managed;
  }

  /**
   * Spawns a server that prints no JSON line (the dashboard's `next start`) and waits until
   * `readyUrl` answers.
   */
  async startServer(name: string, args: string[], env: Record<string, string>, cwd: string, readyUrl: string, timeoutMs = 60_000): Promise<Managed> {
    const logFile = path.join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    this.streams.push(log);
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout!.on("data", (d: Buffer) => log.write(d));
    child.stderr!.on("data", (d: Buffer) => log.write(d));
    const managed: Managed = { name, child, listening: { url: readyUrl }, logFile, onLine: () => undefined };
    this.children.push(managed);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was up; see ${logFile}`);
      if ((await fetch(readyUrl).catch(() => undefined))?.ok) return managed;
      if (Date.now() > deadline) throw new Error(`${name} did not answer ${readyUrl} within ${timeoutMs / 1000} s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** SIGKILL to every child still running (no waiting). */
  killAll(): void {
    for (const c of this.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
  }

  /** Stops every child, last started first. */
  async stopAll(graceMs = 5_000, progress?: (name: string) => void): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const c of [...this.children].reverse()) {
      if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
      progress?.(c.name);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.child.kill("SIGKILL"), graceMs);
        c.child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        c.child.kill("SIGTERM");
      });
    }
    for (const s of this.streams) s.end();
  }

  /** Process ids of every child started (the scenario test checks none outlives the demo). */
  pids(): number[] {
    return this.children.map((c) => c.child.pid!).filter((p) => p !== undefined);
  }

  /** Children that have exited although nobody stopped them. */
  crashed(): Managed[] {
    return this.stopping ? [] : this.children.filter((c) => c.child.exitCode !== null || c.child.signalCode !== null);
  }
}

/** A free TCP port on 127.0.0.1 (for processes that must know a port before the one that binds it starts). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
