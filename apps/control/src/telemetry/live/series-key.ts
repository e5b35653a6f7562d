/**
 * Series identity in the live window: who reported, what kind of traffic, both sides and the
 * route. The empty string means unknown (a caller without a sidecar, a destination that did
 * not say which workload answered).
 *
 * KeyTable interns keys to small integers so time slots store only numbers. It is bounded:
 * past `maxSeries` keys, new combinations fold into one overflow series per reporter and kind
 * (counted, so an operator sees that the bound was hit), and keys no retained slot uses any
 * more are swept.
 */

/** Which proxy reported the series: the caller's (`source`, outbound) or the callee's (`destination`, inbound). */
export type Reporter = "source" | "destination";
/** http and grpc: request rows; tcp: connection rows; sat: saturation gauges. */
export type SeriesKind = "http" | "grpc" | "tcp" | "sat";

export interface SeriesKey {
  readonly reporter: Reporter;
  readonly kind: SeriesKind;
  readonly srcNamespace: string;
  readonly srcService: string;
  readonly srcWorkload: string;
  readonly srcVersion: string;
  readonly dstNamespace: string;
  readonly dstService: string;
  readonly dstWorkload: string;
  readonly dstVersion: string;
  /** Route name (outbound), empty when none. */
  readonly route: string;
}

/** Route name of the overflow series. */
export const OVERFLOW_SERIES_ROUTE = "(series limit reached)";

const SEP = "\u0001";

export function keyString(k: SeriesKey): string {
  return [k.reporter, k.kind, k.srcNamespace, k.srcService, k.srcWorkload, k.srcVersion, k.dstNamespace, k.dstService, k.dstWorkload, k.dstVersion, k.route].join(SEP);
}

export class KeyTable {
  private readonly ids = new Map<string, number>();
  private readonly keys: (SeriesKey | undefined)[] = [];
  /** When each key was last written, epoch seconds (for sweeping). */
  private readonly lastUsed: number[] = [];
  private readonly free: number[] = [];
  private live = 0;
  /** Rows folded into an overflow series because the table was full. */
  folded = 0;

  constructor(private readonly maxSeries: number) {}

  get size(): number {
    return this.live;
  }

  /** The id of `key`, interning it; at the bound, the overflow series' id. */
  id(key: SeriesKey, nowSec: number): number {
    const s = keyString(key);
    let id = this.ids.get(s);
    if (id === undefined) {
      if (this.live >= this.maxSeries) {
        this.folded++;
        const overflow = { ...EMPTY, reporter: key.reporter, kind: key.kind, route: OVERFLOW_SERIES_ROUTE };
        const os = keyString(overflow);
        id = this.ids.get(os) ?? this.add(os, overflow);
      } else id = this.add(s, key);
    }
    this.lastUsed[id] = nowSec;
    return id;
  }

  key(id: number): SeriesKey {
    const k = this.keys[id];
    if (!k) throw new Error(`series id ${id} is not in use`);
    return k;
  }

  /** Forgets keys not written since `beforeSec` (no retained slot can hold them). */
  sweep(beforeSec: number): number {
    let n = 0;
    for (const [s, id] of this.ids) {
      if (this.lastUsed[id]! < beforeSec) {
        this.ids.delete(s);
        this.keys[id] = undefined;
        this.free.push(id);
        this.live--;
        n++;
      }
    }
    return n;
  }

  /** Approximate heap bytes of the table (strings and arrays). */
  bytes(): number {
    let b = 0;
    for (const s of this.ids.keys()) b += 2 * s.length + 120;
    return b;
  }

  private add(s: string, key: SeriesKey): number {
    const id = this.free.pop() ?? this.keys.length;
    this.keys[id] = key;
    this.ids.set(s, id);
    this.live++;
    return id;
  }
}

const EMPTY: SeriesKey = Object.freeze({
  reporter: "source",
  kind: "http",
  srcNamespace: "",
  srcService: "",
  srcWorkload: "",
  srcVersion: "",
  dstNamespace: "",
  dstService: "",
  dstWorkload: "",
  dstVersion: "",
  route: "",
});
