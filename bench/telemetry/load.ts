import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nowUs } from "./load-protocol";
import type { FromWorker, SendStats, SyncState, ToWorker } from "./load-protocol";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "load-worker.ts");

type WithoutSeq<T> = T extends unknown ? Omit<T, "seq"> : never;

/** One worker process and its pending requests. */
class Worker {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  exited: string | undefined;

  constructor(readonly child: ChildProcess) {
    child.on("message", (m: FromWorker) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p?.resolve(m);
    });
    child.on("exit", (code, signal) => {
      this.exited = `load worker ${child.pid} exited (${signal ?? code})`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  request(msg: WithoutSeq<ToWorker>, timeoutMs = 30_000): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const seq = ++this.seq;
    return new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`load worker ${this.child.pid} did not answer '${msg.t}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ ...msg, seq } as ToWorker);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The load generator: N fake proxies over K worker processes (load-worker.ts).
 * Usage: `LoadFleet.start(K)`, `connect()`, `waitSynced()`, `prepare()`, then `startTelemetry()`
 * / `stopTelemetry()` as the phases need, `stats()` per phase; `close()` at the end.
 */
export class LoadFleet {
  private constructor(private readonly workers: Worker[]) {}

  static start(procs: number): LoadFleet {
    return new LoadFleet(Array.from({ length: procs }, () => new Worker(fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }))));
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /** Opens proxies 0..n-1, split evenly over the workers; resolves once every Hello is written. */
  async connect(target: string, proxies: number, services: number): Promise<void> {
    const per = Math.ceil(proxies / this.workers.length);
    await Promise.all(this.workers.map((w, i) => w.request({ t: "connect", target, from: i * per, to: Math.min(proxies, (i + 1) * per), services, proxies }, 120_000)));
  }

  async sync(): Promise<SyncState> {
    const states = await Promise.all(this.workers.map(async (w) => ((await w.request({ t: "sync" })) as Extract<FromWorker, { t: "sync" }>).state));
    return states.reduce((a, s) => ({
      total: a.total + s.total,
      synced: a.synced + s.synced,
      ended: a.ended + s.ended,
      endReasons: [...a.endReasons, ...s.endReasons].slice(0, 5),
      snapshots: a.snapshots + s.snapshots,
      lastSnapshotAt: Math.max(a.lastSnapshotAt, s.lastSnapshotAt),
    }));
  }

  /** Waits until every proxy holds a snapshot, then until none arrived for `quietMs`; throws on an ended stream or after `timeoutMs`. */
  async waitSynced(timeoutMs: number, quietMs = 1500): Promise<SyncState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sync();
      if (s.ended > 0) throw new Error(`${s.ended} proxy streams ended, e.g. ${s.endReasons.join("; ")}`);
      if (s.synced === s.total && (nowUs() - s.lastSnapshotAt) / 1000 >= quietMs) return s;
      if (Date.now() > deadline) throw new Error(`only ${s.synced}/${s.total} proxies received a snapshot (or snapshots kept coming) within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Encodes every proxy's deltas for `cycle` seconds; returns the slowest worker's time, ms. */
  async prepare(cycle: number): Promise<number> {
    const r = await Promise.all(this.workers.map((w) => w.request({ t: "prepare", cycle }, 300_000)));
    return Math.max(...r.map((m) => (m.t === "ok" ? (m.ms ?? 0) : 0)));
  }

  /** All workers start their schedules at the same instant, `leadMs` from now. */
  async startTelemetry(leadMs = 50): Promise<number> {
    const atUs = nowUs() + leadMs * 1000;
    await Promise.all(this.workers.map((w) => w.request({ t: "start", atUs })));
    return atUs;
  }

  async stopTelemetry(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ t: "stop" })));
  }

  /** Send counters of all workers since the last reset. */
  async stats(reset: boolean): Promise<SendStats> {
    const all = await Promise.all(this.workers.map(async (w) => ((await w.request({ t: "stats", reset })) as Extract<FromWorker, { t: "stats" }>).stats));
    return {
      sent: all.reduce((n, s) => n + s.sent, 0),
      bytes: all.reduce((n, s) => n + s.bytes, 0),
      lateMs: all.flatMap((s) => s.lateMs),
      backpressured: all.reduce((n, s) => n + s.backpressured, 0),
      rejected: all.reduce((n, s) => n + s.rejected, 0),
      rejectReasons: all.flatMap((s) => s.rejectReasons).slice(0, 5),
    };
  }

  /** Closes every stream and waits for the workers to exit (kills them after 5 s). */
  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.request({ t: "close" }, 5000)));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            w.child.once("exit", () => resolve());
            setTimeout(() => (w.child.kill("SIGKILL"), resolve()), 5000).unref();
          }),
      ),
    );
  }
}
