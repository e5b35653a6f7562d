import { EventEmitter } from "node:events";
import { KeyTable } from "./series-key";
import type { SeriesKey } from "./series-key";
import { RunningWindow } from "./running-window";
import { FrozenSlot, OpenSlot } from "./slot";

/**
 * The live window: every proxy's per-second deltas summed per series, kept in memory at 1 s
 * resolution for `secondsKept` (default 30 min) and rolled up to 1 min for `minutesKept`
 * (default 24 h).
 *
 * Memory is bounded by design, by two settings:
 * - `maxSeries` (default 20 000): distinct series (reporter, kind, both sides, route). Past it,
 *   new combinations fold into an overflow series, so no input can mint unbounded keys.
 * - `memoryBytes` (default 256 MiB): the frozen slots' typed arrays and the series table.
 *   A row costs 100 bytes plus 9 per latency bucket hit (about 150 for a busy edge), so the
 *   default keeps the full 30 min + 24 h for up to ~450 series active every second. Past the
 *   budget the oldest seconds go first (their minutes remain), then the oldest minutes: the
 *   window gets shorter, the process does not grow. `stats()` says what is covered.
 * The two open slots (current second and minute) are bounded by maxSeries rows each, and the
 * running windows (live reads' per-series sums, see RunningWindow) by MAX_RUNNING_WINDOWS ×
 * ~420 bytes × maxSeries (34 MiB at the default), dropped after RUNNING_WINDOW_IDLE_MS unread.
 *
 * Time is the control plane's receive time: a delta lands in the second it arrived (proxy
 * clocks may be skewed; a catch-up delta after a reconnect lands whole in one second).
 *
 * Safe use: single owner; ingest from the event loop. Frozen slots never change, so readers can
 * hold them across awaits. `on("second", t)` fires when a second is complete.
 */

/** Window lengths with running sums kept at once (a dashboard asks for a few: 1 min, 5 min, 30 min). */
export const MAX_RUNNING_WINDOWS = 4;
/** A running window nobody read for this long is dropped. */
export const RUNNING_WINDOW_IDLE_MS = 120_000;

export interface LiveWindowOptions {
  maxSeries?: number;
  memoryBytes?: number;
  secondsKept?: number;
  minutesKept?: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

/** One series' numbers from one delta: STRIDE values (see row-layout.ts) and an optional sparse histogram. */
export interface IngestRow {
  key: SeriesKey;
  vals: ArrayLike<number>;
  buckets?: ArrayLike<number>;
  counts?: ArrayLike<number>;
}

export interface LiveWindowStats {
  series: number;
  /** Rows folded into overflow series because maxSeries was reached. */
  foldedRows: number;
  /** Bytes held by frozen slots and the series table, and the budget. */
  bytes: number;
  memoryBytes: number;
  /** Oldest second and minute still held, epoch seconds (null when none). */
  secondsFrom: number | null;
  minutesFrom: number | null;
  /** Slots dropped early to stay within the memory budget. */
  evictedForMemory: number;
  /** Running windows held (by length, s) and their bytes (outside `bytes`: bounded on their own). */
  runningWindows: number[];
  runningWindowBytes: number;
}

export class LiveWindow extends EventEmitter<{ second: [t: number] }> {
  readonly keys: KeyTable;
  private readonly secondsKept: number;
  private readonly minutesKept: number;
  private readonly memoryBytes: number;
  private readonly now: () => number;
  private readonly seconds: FrozenSlot[] = [];
  private readonly minutes: FrozenSlot[] = [];
  private openSecond: OpenSlot;
  private openMinute: OpenSlot;
  private bytes = 0;
  private evicted = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSweep = 0;
  private readonly running = new Map<number, RunningWindow>();

  constructor(opts: LiveWindowOptions = {}) {
    super();
    this.keys = new KeyTable(opts.maxSeries ?? 20_000);
    this.secondsKept = opts.secondsKept ?? 1800;
    this.minutesKept = opts.minutesKept ?? 1440;
    this.memoryBytes = opts.memoryBytes ?? 256 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    const s = Math.floor(this.now() / 1000);
    this.openSecond = new OpenSlot(s);
    this.openMinute = new OpenSlot(s - (s % 60));
  }

  /** Freezes complete seconds every second, so a quiet mesh still gets (empty) complete seconds and subscribers tick. */
  start(): void {
    if (this.timer) return;
    // Wait for the next second boundary once, then tick every second (the wait is not the period).
    this.timer = setTimeout(() => {
      this.advance();
      this.timer = setInterval(() => this.advance(), 1000);
      this.timer.unref();
    }, 1000 - (this.now() % 1000) || 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds rows to the current second. */
  ingest(rows: readonly IngestRow[]): void {
    this.advance();
    const nowSec = this.openSecond.t;
    for (const r of rows) this.openSecond.add(this.keys.id(r.key, nowSec), r.vals, 0, r.buckets, r.counts);
  }

  /** The last complete second, epoch seconds (advancing first, like the readers: queries take their range from it). */
  get lastCompleteSecond(): number {
    this.advance();
    return this.openSecond.t - 1;
  }

  /** Frozen second slots with fromSec ≤ t < toSec, oldest first. */
  secondsIn(fromSec: number, toSec: number): FrozenSlot[] {
    this.advance();
    return slice(this.seconds, fromSec, toSec);
  }

  /** Frozen minute slots with fromSec ≤ t < toSec (t = the minute's start), oldest first. */
  minutesIn(fromSec: number, toSec: number): FrozenSlot[] {
    this.advance();
    return slice(this.minutes, fromSec, toSec);
  }

  /** Oldest second the 1 s ring still covers completely, epoch seconds. */
  get secondsCoverFrom(): number {
    return this.seconds[0]?.t ?? this.openSecond.t;
  }

  stats(): LiveWindowStats {
    return {
      series: this.keys.size,
      foldedRows: this.keys.folded,
      bytes: this.bytes + this.keys.bytes(),
      memoryBytes: this.memoryBytes,
      secondsFrom: this.seconds[0]?.t ?? null,
      minutesFrom: this.minutes[0]?.t ?? null,
      evictedForMemory: this.evicted,
      runningWindows: [...this.running.keys()].sort((a, b) => a - b),
      runningWindowBytes: [...this.running.values()].reduce((n, w) => n + w.bytes, 0),
    };
  }

  /**
   * The running sums of the window of `lengthSec` ending now, created on first use (the caller
   * syncs it to the slots that cover the window). At most MAX_RUNNING_WINDOWS lengths are kept:
   * the least recently read goes first, and any unread for RUNNING_WINDOW_IDLE_MS.
   */
  runningWindow(lengthSec: number): RunningWindow {
    const now = this.now();
    for (const [len, w] of this.running) if (now - w.lastRead > RUNNING_WINDOW_IDLE_MS) this.running.delete(len);
    let w = this.running.get(lengthSec);
    if (w) this.running.delete(lengthSec);
    else {
      if (this.running.size >= MAX_RUNNING_WINDOWS) {
        const [oldest] = [...this.running.entries()].sort((a, b) => a[1].lastRead - b[1].lastRead)[0]!;
        this.running.delete(oldest);
      }
      w = new RunningWindow(0);
    }
    w.lastRead = now;
    this.running.set(lengthSec, w);
    return w;
  }

  /** Closes every second before now: freeze, roll up into its minute, evict what is too old or over budget. */
  advance(): void {
    const nowSec = Math.floor(this.now() / 1000);
    if (nowSec <= this.openSecond.t) return;
    const done = this.openSecond;
    this.openSecond = new OpenSlot(nowSec);
    if (done.size > 0) {
      const frozen = done.freeze();
      this.seconds.push(frozen);
      this.bytes += frozen.bytes;
      const minute = done.t - (done.t % 60);
      if (minute !== this.openMinute.t) this.closeMinute(minute);
      this.openMinute.addFrozen(frozen);
    }
    const minute = nowSec - (nowSec % 60);
    if (minute !== this.openMinute.t) this.closeMinute(minute);
    this.evict(nowSec);
    this.emit("second", nowSec - 1);
  }

  private closeMinute(next: number): void {
    if (this.openMinute.size > 0) {
      const frozen = this.openMinute.freeze();
      this.minutes.push(frozen);
      this.bytes += frozen.bytes;
    }
    this.openMinute = new OpenSlot(next);
  }

  private evict(nowSec: number): void {
    while (this.seconds.length > 0 && this.seconds[0]!.t < nowSec - this.secondsKept) this.bytes -= this.seconds.shift()!.bytes;
    while (this.minutes.length > 0 && this.minutes[0]!.t < nowSec - this.minutesKept * 60) this.bytes -= this.minutes.shift()!.bytes;
    // The series table counts too: stats() reports it in `bytes`, and the budget bounds the whole window.
    const keyBytes = this.keys.bytes();
    while (this.bytes + keyBytes > this.memoryBytes && (this.seconds.length > 60 || this.minutes.length > 0)) {
      const ring = this.seconds.length > 60 ? this.seconds : this.minutes;
      this.bytes -= ring.shift()!.bytes;
      this.evicted++;
    }
    // Keys unused by any slot still held can go (hourly; a key's last write bounds its slots).
    if (nowSec - this.lastSweep >= 3600) {
      this.lastSweep = nowSec;
      const oldest = Math.min(this.seconds[0]?.t ?? nowSec, this.minutes[0]?.t ?? nowSec, this.openMinute.t);
      this.keys.sweep(oldest);
    }
  }
}

/** Slots with from ≤ t < to from a ring sorted by t. */
function slice(ring: readonly FrozenSlot[], from: number, to: number): FrozenSlot[] {
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ring[mid]!.t < from) lo = mid + 1;
    else hi = mid;
  }
  const out: FrozenSlot[] = [];
  for (let i = lo; i < ring.length && ring[i]!.t < to; i++) out.push(ring[i]!);
  return out;
}
