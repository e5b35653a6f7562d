import type { Logger } from "../../log";
import { KeyTable } from "../live/series-key";
import type { SeriesKey } from "../live/series-key";
import type { FrozenSlot } from "../live/slot";
import type { SlotSource, TimeRange } from "../live/window-query";
import { ISTIO_QUERIES } from "./istio-queries";
import type { IstioQueryName } from "./istio-queries";
import { PrometheusClient } from "./prometheus-client";
import { toSlots } from "./to-slots";
import type { IstioResults, StepGrid } from "./to-slots";

/**
 * History beyond the live window, from Prometheus's scrapes of the proxies' Istio-standard
 * metrics: a SlotSource whose slots are one query step long.
 *
 * Safe use: slotsFor is synchronous and Prometheus is not, so a reader awaits
 * `prepare(range)` and then reads the same range (GraphService does). A prepared range stays
 * readable while it is cached: a handful of ranges, for 10 s while the range reaches into the
 * last minute (new scrapes keep arriving) and 5 min once it is settled; a dashboard that asks
 * every second for the same window costs Prometheus one set of queries per 10 s. Reading a
 * range that was not prepared throws.
 *
 * Steps are chosen from a fixed ladder (1 s … 1 d) so a range holds at most `maxPoints` of
 * them, and aligned outward to multiples of the step, so a sliding window maps to the same
 * queries until it crosses a step boundary. Like the live window's minute slots, the first
 * slot may start before the range does and the last end after it.
 *
 * What history cannot say (see istio-labels.ts, istio-buckets.ts, to-slots.ts): routes (Istio
 * has no route label, so route-scoped history is empty), saturation, and latency finer than
 * Istio's buckets.
 */

export interface PrometheusSourceOptions {
  /** Base URL of the Prometheus server (PROMETHEUS_URL). */
  url: string;
  /** Longest wait for one query, ms. */
  timeoutMs?: number;
  /** Most series keys held (the live window's bound is a good value). */
  maxSeries?: number;
  /** Most steps a range is split into. */
  maxPoints?: number;
  /** Ranges kept ready. */
  cacheSize?: number;
  /** Clock, epoch ms. */
  now?: () => number;
  log?: Logger;
}

/** Step lengths tried in order, seconds. */
export const STEP_LADDER: readonly number[] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

/** The smallest step of the ladder that splits `spanSec` into at most `maxPoints` steps. */
export function stepFor(spanSec: number, maxPoints: number): number {
  for (const s of STEP_LADDER) if (Math.ceil(spanSec / s) <= maxPoints) return s;
  return Math.ceil(spanSec / maxPoints);
}

const OPEN_TTL_MS = 10_000;
const SETTLED_TTL_MS = 5 * 60_000;
/** A range ending this long ago has all its scrapes in. */
const SETTLED_AFTER_MS = 60_000;

interface Entry {
  at: number;
  /** Key-table generation of `slots` (keys used by no cached entry are swept). */
  seq: number;
  ready: Promise<void>;
  slots?: FrozenSlot[];
  /** The expired entry's slots, still served while the refresh runs. */
  stale?: { slots: FrozenSlot[]; seq: number };
}

export class PrometheusSource implements SlotSource {
  readonly keys: KeyTable;
  private readonly client: PrometheusClient;
  private readonly cache = new Map<string, Entry>();
  private readonly maxPoints: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(private readonly opts: PrometheusSourceOptions) {
    this.client = new PrometheusClient(opts.url, opts.timeoutMs);
    this.keys = new KeyTable(opts.maxSeries ?? 20_000);
    this.maxPoints = opts.maxPoints ?? 300;
    this.cacheSize = opts.cacheSize ?? 8;
    this.now = opts.now ?? Date.now;
  }

  get lastCompleteSecond(): number {
    return Math.floor(this.now() / 1000) - 1;
  }

  key(id: number): SeriesKey {
    return this.keys.key(id);
  }

  /** The steps `range` is read in: aligned outward to whole steps. */
  gridFor(range: TimeRange): StepGrid {
    const step = stepFor(Math.max(1, range.toSec - range.fromSec), this.maxPoints);
    const start = Math.floor(range.fromSec / step) * step;
    const end = Math.max(start + step, Math.ceil(range.toSec / step) * step);
    return { start, step, steps: (end - start) / step };
  }

  /** Loads `range` from Prometheus unless a fresh copy is cached; rejects with a PrometheusError. */
  prepare(range: TimeRange): Promise<void> {
    const grid = this.gridFor(range);
    const id = gridId(grid);
    const now = this.now();
    const cached = this.cache.get(id);
    if (cached && now - cached.at < this.ttl(grid, cached.at)) return cached.ready;
    const entry: Entry = { at: now, seq: 0, ready: Promise.resolve() };
    if (cached?.slots) entry.stale = { slots: cached.slots, seq: cached.seq };
    entry.ready = this.load(grid).then(
      (results) => {
        entry.seq = ++this.seq;
        entry.slots = toSlots(results, grid, (key) => this.keys.id(key, entry.seq));
        entry.stale = undefined;
        this.evict();
      },
      (err: unknown) => {
        if (this.cache.get(id) === entry) {
          if (cached?.slots) this.cache.set(id, cached);
          else this.cache.delete(id);
        }
        throw err;
      },
    );
    this.cache.delete(id);
    this.cache.set(id, entry);
    return entry.ready;
  }

  slotsFor(range: TimeRange): { slot: FrozenSlot; seconds: number }[] {
    const grid = this.gridFor(range);
    const entry = this.cache.get(gridId(grid));
    const slots = entry?.slots ?? entry?.stale?.slots;
    if (!slots) throw new Error(`Prometheus history for [${range.fromSec}, ${range.toSec}) was not loaded: await prepare(range) before reading it`);
    return slots.filter((s) => s.t < range.toSec).map((slot) => ({ slot, seconds: grid.step }));
  }

  private async load(grid: StepGrid): Promise<IstioResults> {
    const names = Object.keys(ISTIO_QUERIES) as IstioQueryName[];
    const started = this.now();
    const answers = await Promise.all(names.map((name) => this.client.queryRange({ query: ISTIO_QUERIES[name], start: grid.start, end: grid.start + grid.steps * grid.step, step: grid.step })));
    const series = answers.reduce((n, a) => n + a.length, 0);
    this.opts.log?.debug("prometheus history loaded", { from: grid.start, step: grid.step, steps: grid.steps, series, ms: this.now() - started });
    return Object.fromEntries(names.map((name, i) => [name, answers[i]!])) as unknown as IstioResults;
  }

  private ttl(grid: StepGrid, loadedAt: number): number {
    return (grid.start + grid.steps * grid.step) * 1000 < loadedAt - SETTLED_AFTER_MS ? SETTLED_TTL_MS : OPEN_TTL_MS;
  }

  /** Drops the least recently loaded ranges past the cache size, then the keys no cached slot uses. */
  private evict(): void {
    // Oldest first (Map order is load order); a range still loading stays, its reader is waiting for it.
    for (const [id, e] of this.cache) {
      if (this.cache.size <= this.cacheSize) break;
      if (e.slots) this.cache.delete(id);
    }
    let min = this.seq;
    for (const e of this.cache.values()) {
      if (e.slots) min = Math.min(min, e.seq);
      if (e.stale) min = Math.min(min, e.stale.seq);
    }
    this.keys.sweep(min);
  }
}

function gridId(g: StepGrid): string {
  return `${g.start}/${g.step}/${g.steps}`;
}
