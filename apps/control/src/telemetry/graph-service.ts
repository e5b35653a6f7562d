import type { Endpoint, Resource } from "@trellis/config";
import { buildGraph } from "../graph/build-graph";
import type { Graph, GraphQuery } from "../graph/types";
import { goldenSignals } from "./golden-signals";
import type { GoldenSignals, SignalsQuery } from "./golden-signals";
import type { LiveTelemetry, LiveTelemetryStats } from "./live/live-telemetry";
import type { LiveWindow } from "./live/live-window";
import type { SlotSource, TimeRange } from "./live/window-query";

/** A source of windows older than the live window; `prepare` (if any) is awaited before its slots are read. */
export type HistorySource = SlotSource & { prepare?(range: TimeRange): Promise<void> };

/** Where the graph reads the config and the live endpoints (the store and the registry). */
export interface GraphInputs {
  resources(): Promise<readonly Resource[]>;
  endpoints(): Promise<readonly Endpoint[]>;
}

/** How long the endpoint list is reused between graph builds: a subscription ticks every second. */
const ENDPOINTS_MAX_AGE_MS = 5000;

/**
 * What the API asks of the live telemetry: graphs, golden signals, stats. Endpoints are cached
 * briefly so a dashboard's per-second graph subscription does not read the database every
 * second; the resources come from the store, which caches per revision.
 */
export class GraphService {
  /** Graphs built for the window ending at `recentSecond`, by query (live window only: its past never changes). */
  private readonly recent = new Map<string, Graph>();
  private recentSecond = -1;
  private endpointCache: { at: number; list: Promise<readonly Endpoint[]> } | undefined;

  constructor(
    private readonly live: LiveTelemetry,
    private readonly inputs: GraphInputs,
    /** Where windows older than the live window come from (Prometheus, when PROMETHEUS_URL is set). */
    private readonly history?: HistorySource,
  ) {}

  /** The live window when it covers the window's start, else the history source if there is one. */
  sourceFor(fromSec: number): LiveWindow | SlotSource {
    if (!this.history) return this.live.window;
    const s = this.live.window.stats();
    const oldest = Math.min(s.minutesFrom ?? Infinity, s.secondsFrom ?? Infinity);
    return fromSec < oldest ? this.history : this.live.window;
  }

  get window(): LiveWindow {
    return this.live.window;
  }

  async graph(query: GraphQuery): Promise<Graph> {
    const [resources, endpoints] = await Promise.all([this.inputs.resources(), this.endpoints()]);
    const to = query.until !== undefined ? Math.floor(query.until / 1000) : this.live.window.lastCompleteSecond + 1;
    const source = this.sourceFor(to - query.windowSec);
    if (source === this.live.window) {
      // Every watcher and dashboard asking the same thing in the same second shares one build
      // (a config change made within that second shows from the next one).
      const key = `${to}|${JSON.stringify(query)}`;
      let g = this.recent.get(key);
      if (g === undefined) {
        if (this.recentSecond !== to) {
          this.recent.clear();
          this.recentSecond = to;
        }
        g = buildGraph(source, resources, endpoints, query);
        this.recent.set(key, g);
      }
      return g;
    }
    // History reads exactly the range it prepared: pin the window's end rather than let it read its own clock.
    await this.prepareHistory(to - query.windowSec, to);
    return buildGraph(source, resources, endpoints, { ...query, until: to * 1000 });
  }

  async signals(query: SignalsQuery): Promise<GoldenSignals> {
    const to = query.until !== undefined ? Math.floor(query.until / 1000) : this.live.window.lastCompleteSecond + 1;
    const source = this.sourceFor(to - query.windowSec);
    if (source === this.live.window) return goldenSignals(source, query);
    await this.prepareHistory(to - query.windowSec, to);
    return goldenSignals(source, { ...query, until: to * 1000 });
  }

  private async prepareHistory(fromSec: number, toSec: number): Promise<void> {
    await this.history?.prepare?.({ fromSec, toSec });
  }

  stats(): LiveTelemetryStats {
    return this.live.stats();
  }

  private endpoints(): Promise<readonly Endpoint[]> {
    const now = Date.now();
    if (!this.endpointCache || now - this.endpointCache.at > ENDPOINTS_MAX_AGE_MS) {
      const list = this.inputs.endpoints();
      this.endpointCache = { at: now, list };
      list.catch(() => (this.endpointCache = undefined));
    }
    return this.endpointCache.list;
  }
}
