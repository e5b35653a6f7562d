import type { Graph } from "../graph/types";

/**
 * Live queries remembered, each with its last graph (several MB at 1000 services, plus its
 * serialized body). None nobody asked for in IDLE_MS; past MAX_QUERIES, the least recently asked
 * go first, but not one asked in the last BUSY_MS or with a build under way — evicting a query
 * about to be asked again would rebuild it on every call.
 */
const MAX_QUERIES = 8;
const IDLE_MS = 30_000;
const BUSY_MS = 10_000;

interface Entry {
  askedAt: number;
  latest?: { to: number; graph: Graph };
  building?: { to: number; graph: Promise<Graph> };
}

/**
 * The live graphs GraphService shares between callers, by query: built at most once per
 * refresh interval (a build under way is joined, even one that outlasts a second), and with
 * `stale`, the graph built last handed out at once while the next one is still to be built (at
 * most one interval older than it). Safe use: event loop only.
 */
export class LiveGraphs {
  private readonly entries = new Map<string, Entry>();

  /** The graph of `key` for the window ending at `to` (epoch s), refreshed every `refreshSec`; `build` makes a new one. */
  get(key: string, to: number, refreshSec: number, stale: boolean, build: () => Promise<Graph>): Promise<Graph> {
    const e = this.touch(key);
    const latest = e.latest;
    if (latest && latest.to <= to && to - latest.to < refreshSec) return Promise.resolve(latest.graph);
    let building = e.building;
    if (!building || building.to > to || to - building.to >= refreshSec) {
      const b = { to, graph: build() };
      e.building = building = b;
      b.graph.then(
        (graph) => {
          if (!e.latest || e.latest.to < b.to) e.latest = { to: b.to, graph };
          if (e.building === b) e.building = undefined;
        },
        () => e.building === b && (e.building = undefined),
      );
    }
    if (stale && latest && latest.to <= to && to - latest.to < 2 * refreshSec) return Promise.resolve(latest.graph);
    return building.graph;
  }

  /** The entry of `key`, now the most recently asked (the map's order is least recently asked first), after dropping what is past its time. */
  private touch(key: string): Entry {
    const now = Date.now();
    const e = this.entries.get(key) ?? { askedAt: now };
    this.entries.delete(key);
    e.askedAt = now;
    for (const [k, old] of this.entries) {
      const idle = now - old.askedAt;
      const evict = idle >= IDLE_MS || (this.entries.size >= MAX_QUERIES && idle >= BUSY_MS && !old.building);
      if (!evict) break; // the rest were asked more recently
      this.entries.delete(k);
    }
    this.entries.set(key, e);
    return e;
  }
}
