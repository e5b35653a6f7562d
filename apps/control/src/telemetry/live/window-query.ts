import { LATENCY_BUCKETS, latencyQuantile } from "@trellis/config";
import * as L from "./row-layout";
import { LiveWindow } from "./live-window";
import type { SeriesKey } from "./series-key";
import type { FrozenSlot } from "./slot";

/**
 * Reading the live window: pick the slots covering a time range (1 s slots while the 1 s ring
 * covers it, else whole minutes plus the seconds of the current minute), sum rows into groups,
 * and turn sums into golden signals.
 */

/** [fromSec, toSec) in epoch seconds. */
export interface TimeRange {
  fromSec: number;
  toSec: number;
}

/** Float64s one Sums holds: the row numbers, then the latency histogram. */
const SUMS_SIZE = L.STRIDE + LATENCY_BUCKETS;

/** Sums of one group: the row numbers and the merged latency histogram. */
export class Sums {
  readonly vals: Float64Array;
  readonly hist: Float64Array;

  /** Its own arrays, or views into `block` at `at` (see SumsArena). */
  constructor(block?: Float64Array, at = 0) {
    const b = block ?? new Float64Array(SUMS_SIZE);
    this.vals = b.subarray(at, at + L.STRIDE);
    this.hist = b.subarray(at + L.STRIDE, at + SUMS_SIZE);
  }

  addRow(slot: FrozenSlot, r: number): void {
    const at = r * L.STRIDE;
    for (let i = 0; i < L.STRIDE; i++) this.vals[i]! += slot.vals[at + i]!;
    for (let j = slot.histOff[r]!; j < slot.histOff[r + 1]!; j++) this.hist[slot.histIdx[j]!]! += slot.histCnt[j]!;
  }

  addSums(o: Sums): void {
    for (let i = 0; i < L.STRIDE; i++) this.vals[i]! += o.vals[i]!;
    for (let i = 0; i < LATENCY_BUCKETS; i++) this.hist[i]! += o.hist[i]!;
  }
}

/**
 * Hands out zeroed Sums carved from shared blocks. A graph sums thousands of groups, and a
 * typed array of its own per group costs a backing-store allocation each (about 1 µs, the
 * better part of a build); views into one block per 256 groups do not.
 */
export class SumsArena {
  private block = new Float64Array(0);
  private used = 0;

  next(): Sums {
    if (this.used + SUMS_SIZE > this.block.length) {
      this.block = new Float64Array(256 * SUMS_SIZE);
      this.used = 0;
    }
    const s = new Sums(this.block, this.used);
    this.used += SUMS_SIZE;
    return s;
  }
}

/**
 * Where query functions read slots: the live window, or anything else that can present its data
 * as frozen slots over series keys (the Prometheus history source does).
 */
export interface SlotSource {
  /** The slots that cover `range`, each with its length in seconds, oldest first. */
  slotsFor(range: TimeRange): { slot: FrozenSlot; seconds: number }[];
  /** The series key of an id the slots hold. */
  key(id: number): SeriesKey;
  /** The last second with complete data, epoch seconds (the default end of a window). */
  readonly lastCompleteSecond: number;
  /**
   * Optional: every series' sums over `range` as one slot, when the source keeps them ready
   * (the live window does for windows ending now). aggregate() reads it instead of the slots.
   */
  summed?(range: TimeRange): FrozenSlot | undefined;
}

/** A LiveWindow as a SlotSource. */
export function liveSource(window: LiveWindow): SlotSource {
  return {
    slotsFor: (range) => slotsFor(window, range),
    key: (id) => window.keys.key(id),
    get lastCompleteSecond() {
      return window.lastCompleteSecond;
    },
    summed: (range) => summedSlot(window, range),
  };
}

/**
 * The live window's running sums over `range` when the range ends now (the last complete
 * second), else undefined: a past window is summed from its slots.
 */
export function summedSlot(window: LiveWindow, range: TimeRange): FrozenSlot | undefined {
  if (range.toSec !== window.lastCompleteSecond + 1 || range.toSec <= range.fromSec) return undefined;
  const running = window.runningWindow(range.toSec - range.fromSec);
  running.sync(slotsFor(window, range).map((s) => s.slot), range.fromSec);
  return running.slot();
}

/** The slots of the live window that cover `range`, with each slot's length in seconds. */
export function slotsFor(window: LiveWindow, range: TimeRange): { slot: FrozenSlot; seconds: number }[] {
  const to = Math.min(range.toSec, window.lastCompleteSecond + 1);
  if (range.fromSec >= window.secondsCoverFrom) return window.secondsIn(range.fromSec, to).map((slot) => ({ slot, seconds: 1 }));
  const currentMinute = to - (to % 60);
  return [
    ...window.minutesIn(range.fromSec - (range.fromSec % 60), currentMinute).map((slot) => ({ slot, seconds: 60 })),
    ...window.secondsIn(Math.max(currentMinute, range.fromSec), to).map((slot) => ({ slot, seconds: 1 })),
  ];
}

/**
 * Sums every row in `range` into the group `group(key)` names (undefined = skip). The group
 * function runs once per series id, not per row.
 */
export function aggregate(window: LiveWindow | SlotSource, range: TimeRange, group: (key: SeriesKey) => string | undefined): Map<string, Sums> {
  const source = asSource(window);
  const out = new Map<string, Sums>();
  const arena = new SumsArena();
  // Series ids are small dense integers: an array memo beats a Map on the hot loop.
  const memo: (Sums | null | undefined)[] = [];
  const summed = source.summed?.(range);
  for (const slot of summed ? [summed] : source.slotsFor(range).map((s) => s.slot)) {
    for (let r = 0; r < slot.keys.length; r++) {
      const id = slot.keys[r]!;
      let target = memo[id];
      if (target === undefined) {
        const g = group(source.key(id));
        if (g === undefined) target = null;
        else {
          target = out.get(g);
          if (target === undefined) out.set(g, (target = arena.next()));
        }
        memo[id] = target;
      }
      target?.addRow(slot, r);
    }
  }
  return out;
}

/** Sums of the rows `filter` accepts, per step of `stepSec` seconds, oldest first (steps without data are zero). */
export function timeSeries(window: LiveWindow | SlotSource, range: TimeRange, stepSec: number, filter: (key: SeriesKey) => boolean): { t: number; sums: Sums }[] {
  const source = asSource(window);
  const steps = Math.max(1, Math.ceil((range.toSec - range.fromSec) / stepSec));
  const points = Array.from({ length: steps }, (_, i) => ({ t: range.fromSec + i * stepSec, sums: new Sums() }));
  const memo = new Map<number, boolean>();
  for (const { slot } of source.slotsFor(range)) {
    const i = Math.min(steps - 1, Math.max(0, Math.floor((slot.t - range.fromSec) / stepSec)));
    for (let r = 0; r < slot.keys.length; r++) {
      const id = slot.keys[r]!;
      let ok = memo.get(id);
      if (ok === undefined) memo.set(id, (ok = filter(source.key(id))));
      if (ok) points[i]!.sums.addRow(slot, r);
    }
  }
  return points;
}

function asSource(w: LiveWindow | SlotSource): SlotSource {
  return w instanceof LiveWindow ? liveSource(w) : w;
}

/** Golden signals of request sums over `seconds`. Latencies in ms; null where there were no requests. */
export interface RequestSignals {
  requests: number;
  rps: number;
  errors: number;
  /** errors / requests, 0..1. */
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Request plus response body bytes per second. */
  bytesPerSec: number;
  /** Share of requests on mutual TLS, 0..1. */
  mtlsShare: number | null;
  /** Requests by response class: `["0", "1xx", …, "5xx"]` order. */
  byClass: number[];
}

export function requestSignals(s: Sums, seconds: number): RequestSignals {
  const v = s.vals;
  const requests = v[L.REQUESTS]!;
  const errors = L.errorsOf(v);
  const q = (p: number) => (requests > 0 ? round(latencyQuantile(s.hist, p)) : null);
  return {
    requests,
    rps: round(requests / Math.max(seconds, 1)),
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    bytesPerSec: round((v[L.REQUEST_BYTES]! + v[L.RESPONSE_BYTES]!) / Math.max(seconds, 1)),
    mtlsShare: requests > 0 ? v[L.MTLS]! / requests : null,
    byClass: [v[L.CLASS_0]!, v[L.CLASS_0 + 1]!, v[L.CLASS_0 + 2]!, v[L.CLASS_0 + 3]!, v[L.CLASS_0 + 4]!, v[L.CLASS_0 + 5]!],
  };
}

/** TCP signals over `seconds`. */
export interface TcpSignals {
  connectionsOpened: number;
  connectionsPerSec: number;
  bytesPerSec: number;
  mtlsShare: number | null;
}

export function tcpSignals(s: Sums, seconds: number): TcpSignals {
  const v = s.vals;
  const opened = v[L.TCP_OPENED]!;
  return {
    connectionsOpened: opened,
    connectionsPerSec: round(opened / Math.max(seconds, 1)),
    bytesPerSec: round((v[L.TCP_SENT]! + v[L.TCP_RECEIVED]!) / Math.max(seconds, 1)),
    mtlsShare: opened > 0 ? v[L.TCP_MTLS_OPENED]! / opened : null,
  };
}

/** Saturation over `seconds`: averages of the per-second readings, overflows summed. */
export interface SaturationSignals {
  inFlight: number;
  poolActive: number;
  /** Pool use, 0..1, when the pool has a limit. */
  poolUse: number | null;
  overflows: number;
}

export function saturationSignals(s: Sums, seconds: number): SaturationSignals {
  const v = s.vals;
  const n = Math.max(seconds, 1);
  const limit = v[L.POOL_LIMIT]!;
  return {
    inFlight: round(v[L.IN_FLIGHT]! / n),
    poolActive: round(v[L.POOL_ACTIVE]! / n),
    poolUse: limit > 0 ? v[L.POOL_ACTIVE]! / limit : null,
    overflows: v[L.OVERFLOWS]!,
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
