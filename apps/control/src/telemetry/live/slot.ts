import { LATENCY_BUCKETS } from "@trellis/config";
import { STRIDE } from "./row-layout";

/**
 * One time slot of the live window: the sums of every series over one second (or minute).
 *
 * OpenSlot accumulates while its second is current (a Map of series id → numbers and a dense
 * histogram); freeze() turns it into a FrozenSlot: columnar typed arrays with the histograms
 * stored sparse (only buckets that were hit), about 100 bytes a row plus 5 per bucket hit,
 * immutable from then on, so queries read it without copying or locking.
 */

interface OpenRow {
  vals: Float64Array;
  hist: Float64Array | undefined;
}

export class OpenSlot {
  private readonly rows = new Map<number, OpenRow>();

  /** `t`: the slot's start, epoch seconds. */
  constructor(readonly t: number) {}

  get size(): number {
    return this.rows.size;
  }

  /** Adds numbers (STRIDE entries from `vals[at..]`) and, optionally, histogram counts to series `id`. */
  add(id: number, vals: ArrayLike<number>, at: number, buckets?: ArrayLike<number>, counts?: ArrayLike<number>, histAt = 0, histLen = buckets?.length ?? 0): void {
    let r = this.rows.get(id);
    if (r === undefined) this.rows.set(id, (r = { vals: new Float64Array(STRIDE), hist: undefined }));
    for (let i = 0; i < STRIDE; i++) r.vals[i]! += vals[at + i]!;
    if (buckets && counts && histLen > 0) {
      r.hist ??= new Float64Array(LATENCY_BUCKETS);
      for (let j = histAt; j < histAt + histLen; j++) r.hist[buckets[j]!]! += counts[j]!;
    }
  }

  /** Adds a whole frozen slot (minute roll-up of its seconds). */
  addFrozen(f: FrozenSlot): void {
    for (let r = 0; r < f.keys.length; r++) {
      const lo = f.histOff[r]!;
      this.add(f.keys[r]!, f.vals, r * STRIDE, f.histIdx, f.histCnt, lo, f.histOff[r + 1]! - lo);
    }
  }

  freeze(): FrozenSlot {
    const n = this.rows.size;
    const keys = new Uint32Array(n);
    const vals = new Float64Array(n * STRIDE);
    const histOff = new Uint32Array(n + 1);
    let hits = 0;
    for (const r of this.rows.values()) if (r.hist) for (const c of r.hist) if (c > 0) hits++;
    const histIdx = new Uint8Array(hits);
    const histCnt = new Float64Array(hits);
    let i = 0;
    let h = 0;
    // Rows sorted by series id: queries that walk many slots hit the same ids in the same order.
    for (const id of [...this.rows.keys()].sort((a, b) => a - b)) {
      const r = this.rows.get(id)!;
      keys[i] = id;
      vals.set(r.vals, i * STRIDE);
      histOff[i] = h;
      if (r.hist) {
        for (let b = 0; b < r.hist.length; b++) {
          if (r.hist[b]! > 0) {
            histIdx[h] = b;
            histCnt[h] = r.hist[b]!;
            h++;
          }
        }
      }
      i++;
    }
    histOff[n] = h;
    return new FrozenSlot(this.t, keys, vals, histOff, histIdx, histCnt);
  }
}

export class FrozenSlot {
  constructor(
    /** Start of the slot, epoch seconds. */
    readonly t: number,
    /** Series ids, ascending. */
    readonly keys: Uint32Array,
    /** STRIDE numbers per row. */
    readonly vals: Float64Array,
    /** Row r's histogram is histIdx/histCnt[histOff[r] .. histOff[r+1]). */
    readonly histOff: Uint32Array,
    readonly histIdx: Uint8Array,
    readonly histCnt: Float64Array,
  ) {}

  get bytes(): number {
    return this.keys.byteLength + this.vals.byteLength + this.histOff.byteLength + this.histIdx.byteLength + this.histCnt.byteLength + 96;
  }
}
