import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nowUs } from "./fleet-protocol";
import type { ChangeState, FromWorker, SyncState, ToWorker } from "./fleet-protocol";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "fleet-worker.ts");

/** A message to a worker before its sequence number is assigned. */
type Request = WithoutSeq<ToWorker>;
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
      this.exited = `fleet worker ${child.pid} exited (${signal ?? code})`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  request(msg: Request, timeoutMs = 30_000): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const seq = ++this.seq;
    return new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`fleet worker ${this.child.pid} did not answer '${msg.t}' within ${timeoutMs} ms`));
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
 * The fake-proxy fleet: N proxies spread over K worker processes (fleet-worker.ts).
 * Usage: `const f = await Fleet.start(K)`, `await f.connect(target, N, S)`, `await f.waitSynced()`,
 * then per change `await f.arm(...)`, make the change, `await f.waitChanged(...)`; `await f.close()`
 * (or `kill()` from a signal handler).
 */
export class Fleet {
  private constructor(private readonly workers: Worker[]) {}

  static start(procs: number): Fleet {
    const workers = Array.from({ length: procs }, () => new Worker(fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] })));
    return new Fleet(workers);
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /** Opens proxies 0..n-1, split evenly over the workers; resolves once every Hello is written. */
  async connect(target: string, proxies: number, services: number): Promise<void> {
    const per = Math.ceil(proxies / this.workers.length);
    await Promise.all(this.workers.map((w, i) => w.request({ t: "connect", target, from: i * per, to: Math.min(proxies, (i + 1) * per), services }, 120_000)));
  }

  async sync(): Promise<SyncState> {
    const states = await Promise.all(this.workers.map(async (w) => ((await w.request({ t: "sync" })) as Extract<FromWorker, { t: "sync" }>).state));
    return states.reduce((a, s) => ({
      total: a.total + s.total,
      synced: a.synced + s.synced,
      ended: a.ended + s.ended,
      endReasons: [...a.endReasons, ...s.endReasons].slice(0, 5),
      snapshots: a.snapshots + s.snapshots,
      lastFirstAt: Math.max(a.lastFirstAt, s.lastFirstAt),
      lastSnapshotAt: Math.max(a.lastSnapshotAt, s.lastSnapshotAt),
      bytesMin: Math.min(a.bytesMin, s.bytesMin),
      bytesMax: Math.max(a.bytesMax, s.bytesMax),
      bytesSum: a.bytesSum + s.bytesSum,
    }));
  }

  /** Waits until every proxy holds a snapshot; throws after `timeoutMs` or if a stream ended. */
  async waitSynced(timeoutMs: number): Promise<SyncState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sync();
      if (s.ended > 0) throw new Error(`${s.ended} proxy streams ended, e.g. ${s.endReasons.join("; ")}`);
      if (s.synced === s.total) return s;
      if (Date.now() > deadline) throw new Error(`only ${s.synced}/${s.total} proxies received a snapshot within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Waits until no proxy has received a snapshot for `quietMs` (the server finished pushing). */
  async waitQuiet(quietMs: number, timeoutMs: number): Promise<SyncState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sync();
      if ((nowUs() - s.lastSnapshotAt) / 1000 >= quietMs) return s;
      if (Date.now() > deadline) throw new Error(`snapshots were still arriving after ${timeoutMs} ms`);
      await sleep(Math.min(100, quietMs / 4));
    }
  }

  /** Records each proxy's current version; the next change is measured against it. */
  async arm(expect: "all" | number[]): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ t: "arm", expect })));
  }

  /** Waits until every expected proxy received a new version (or `timeoutMs`); returns receipt times in µs. */
  async waitChanged(timeoutMs: number): Promise<{ times: number[]; expected: number; unexpected: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const final = Date.now() > deadline;
      const states = await Promise.all(this.workers.map(async (w) => ((await w.request({ t: "query", final })) as Extract<FromWorker, { t: "change" }>).state));
      if (final || states.every((s) => s.times !== undefined)) return merge(states);
      await sleep(10);
    }
  }

  /** How many unexpected proxies changed since arm() (after a settle pause). */
  async unexpectedChanges(): Promise<number> {
    return merge(await Promise.all(this.workers.map(async (w) => ((await w.request({ t: "query", final: true })) as Extract<FromWorker, { t: "change" }>).state))).unexpected;
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

  /** Kills every worker now (signal handlers, failures). */
  kill(): void {
    for (const w of this.workers) if (!w.exited) w.child.kill("SIGKILL");
  }
}

function merge(states: ChangeState[]): { times: number[]; expected: number; unexpected: number } {
  return {
    times: states.flatMap((s) => s.times ?? []),
    expected: states.reduce((n, s) => n + s.expected, 0),
    unexpected: states.reduce((n, s) => n + s.unexpected, 0),
  };
}
