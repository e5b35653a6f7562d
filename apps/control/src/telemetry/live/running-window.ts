import { LATENCY_BUCKETS } from "@trellis/config";
import { STRIDE } from "./row-layout";
import { FrozenSlot } from "./slot";

/**
 * Per-series sums over a sliding window that ends at the last complete second: what a live
 * graph or a live signals query reads, kept up to date as seconds close instead of re-summed
 * from every slot on every read.
 *
 * `sync(slots)` takes the slots that cover the window now and applies the difference to what
 * it held: a new second is added, the second that left the window is subtracted (and at a
 * minute boundary in minute mode, a minute replaces its seconds). Slots are immutable, so a
 * slot subtracted is exactly the slot added. Each series counts the held slots that contain
 * it; at zero its row is cleared, so fractional sums (latency ms) leave no residue behind.
 * `slot()` presents the sums as one FrozenSlot (cached until the next change), so every reader
 * of slots works on it unchanged.
 *
 * Cost: a sync is proportional to the rows of the slots that changed (two seconds, usually);
 * a read, to the series in the window. Memory: (STRIDE + LATENCY_BUCKETS) × 8 + 4 bytes per
 * series id in use (~420 B), plus the presented slot.
 *
 * Safe use: single owner, event loop only.
 */
export class RunningWindow {
  private held = new Set<FrozenSlot>();
  private vals = new Float64Array(0);
  private hist = new Float64Array(0);
  private refs = new Int32Array(0);
  private presented: FrozenSlot | undefined;
  /** Last read, ms (for dropping windows nobody reads). */
  lastRead = 0;

  /** `t`: the start of the window the presented slot claims, epoch seconds. */
  constructor(private t: number) {}

  /** Makes the sums those of exactly `slots`, starting at `fromSec`. */
  sync(slots: readonly FrozenSlot[], fromSec: number): void {
    const next = new Set(slots);
    let changed = false;
    for (const s of this.held) {
      if (!next.has(s)) {
        this.apply(s, -1);
        changed = true;
      }
    }
    for (const s of next) {
      if (!this.held.has(s)) {
        this.apply(s, 1);
        changed = true;
      }
    }
    this.held = next;
    if (changed || fromSec !== this.t) {
      this.t = fromSec;
      this.presented = undefined;
    }
  }

  /** The sums as one slot: a row per series present in any held slot, ids ascending. */
  slot(): FrozenSlot {
    if (this.presented) return this.presented;
    let n = 0;
    let hits = 0;
    for (let id = 0; id < this.refs.length; id++) {
      if (this.refs[id]! === 0) continue;
      n++;
      const h = id * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) if (this.hist[h + b]! > 0) hits++;
    }
    const keys = new Uint32Array(n);
    const vals = new Float64Array(n * STRIDE);
    const histOff = new Uint32Array(n + 1);
    const histIdx = new Uint8Array(hits);
    const histCnt = new Float64Array(hits);
    let r = 0;
    let j = 0;
    for (let id = 0; id < this.refs.length; id++) {
      if (this.refs[id]! === 0) continue;
      keys[r] = id;
      vals.set(this.vals.subarray(id * STRIDE, (id + 1) * STRIDE), r * STRIDE);
      histOff[r] = j;
      const h = id * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) {
        const c = this.hist[h + b]!;
        if (c > 0) {
          histIdx[j] = b;
          histCnt[j++] = c;
        }
      }
      r++;
    }
    histOff[n] = j;
    return (this.presented = new FrozenSlot(this.t, keys, vals, histOff, histIdx, histCnt));
  }

  /** Heap bytes of the sums and the presented slot. */
  get bytes(): number {
    return this.vals.byteLength + this.hist.byteLength + this.refs.byteLength + (this.presented?.bytes ?? 0);
  }

  private apply(s: FrozenSlot, sign: 1 | -1): void {
    if (s.keys.length > 0) this.ensure(s.keys[s.keys.length - 1]! + 1);
    for (let r = 0; r < s.keys.length; r++) {
      const id = s.keys[r]!;
      const refs = (this.refs[id]! += sign);
      const at = id * STRIDE;
      const h = id * LATENCY_BUCKETS;
      if (refs === 0) {
        this.vals.fill(0, at, at + STRIDE);
        this.hist.fill(0, h, h + LATENCY_BUCKETS);
        continue;
      }
      const from = r * STRIDE;
      for (let i = 0; i < STRIDE; i++) this.vals[at + i]! += sign * s.vals[from + i]!;
      for (let k = s.histOff[r]!; k < s.histOff[r + 1]!; k++) this.hist[h + s.histIdx[k]!]! += sign * s.histCnt[k]!;
    }
  }

  /** Grows the per-id arrays to hold ids below `ids` (doubling, so growth is amortised). */
  private ensure(ids: number): void {
    if (ids <= this.refs.length) return;
    const cap = Math.max(ids, this.refs.length * 2, 1024);
    const vals = new Float64Array(cap * STRIDE);
    vals.set(this.vals);
    const hist = new Float64Array(cap * LATENCY_BUCKETS);
    hist.set(this.hist);
    const refs = new Int32Array(cap);
    refs.set(this.refs);
    this.vals = vals;
    this.hist = hist;
    this.refs = refs;
  }
}
