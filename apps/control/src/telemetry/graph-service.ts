import type { Endpoint, Resource } from "@trellis/config";
import { buildGraph } from "../graph/build-graph";
import type { Graph, GraphQuery } from "../graph/types";
import { goldenSignals } from "./golden-signals";
import { LiveGraphs } from "./live-graphs";
import type { GoldenSignals, SignalsQuery } from "./golden-signals";
import type { LiveTelemetry, LiveTelemetryStats } from "./live/live-telemetry";
import type { LiveWindow } from "./live/live-window";
import { aggregate, requestSignals } from "./live/window-query";
import type { RequestSignals, SlotSource, TimeRange } from "./live/window-query";

/** A source of windows older than the live window; `prepare` (if any) is awaited before its slots are read. */
export type HistorySource = SlotSource & { prepare?(range: TimeRange): Promise<void> };

/** Where the graph reads the config and the live endpoints (the store and the registry). */
export interface GraphInputs {
  resources(): Promise<readonly Resource[]>;
  endpoints(): Promise<readonly Endpoint[]>;
}

/** How often a live graph of a `windowSec` window is rebuilt, s: every second up to 12 min, then window/360 (30 min: 5 s). */
export function liveRefreshSec(windowSec: number): number {
  return Math.max(1, Math.floor(windowSec / 360));
}

/** How long the endpoint list is reused between graph builds: a subscription ticks every second. */
const ENDPOINTS_MAX_AGE_MS = 5000;
/**
 * How long the resources are reused between graph builds. The store answers from its cache
 * per revision, but asks the database for the head each time: a round trip that waits behind
 * the event loop's ingest work. A config change shows in the graph within this long.
 */
const RESOURCES_MAX_AGE_MS = 1000;

/**
 * What the API asks of the live telemetry: graphs, golden signals, stats. Endpoints are cached
 * briefly so a dashboard's per-second graph subscription does not read the database every
 * second; the resources come from the store, which caches per revision.
 *
 * Live graphs (no `until`) are built at most once per refresh interval per distinct query and
 * shared by every caller and watcher meanwhile, builds under way included. The interval is one
 * second for windows up to 12 minutes and grows with the window (liveRefreshSec): a 30-minute
 * graph is rebuilt every 5 s, when a second moves its numbers by 0.06 % — as Kiali refreshes
 * long windows less often. The graph's `to` says which window a caller got. (Building the
 * recently asked queries ahead, as each second closes, was tried: at 1000 services it kept the
 * event loop busy with graphs nobody asked for in that second, and answers got slower.)
 */
export class GraphService {
  /** Live graphs by query (its JSON), shared between callers (live-graphs.ts). */
  private readonly liveGraphs = new LiveGraphs();
  private endpointCache: { at: number; value: Promise<readonly Endpoint[]> } | undefined;
  private resourceCache: { at: number; value: Promise<readonly Resource[]> } | undefined;

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

  /**
   * The graph of `query`. A live one (no `until`) is shared: built at most once per refresh
   * interval (liveRefreshSec) for every caller. With `stale`, a caller that arrives while the
   * newer graph is still to be built gets the one before it (one interval older) at once, and
   * the build runs after its answer is out — graph.get uses it, so a build (~50 ms at 1000
   * services) delays the callers who happen to arrive during it, not the one who started it.
   * graph.watch waits for the fresh graph.
   */
  async graph(query: GraphQuery, opts: { stale?: boolean } = {}): Promise<Graph> {
    if (query.until === undefined) return this.liveGraph(JSON.stringify(query), query, opts.stale ?? false);
    const [resources, endpoints] = await Promise.all([this.resources(), this.endpoints()]);
    const to = Math.floor(query.until / 1000);
    const source = this.sourceFor(to - query.windowSec);
    // History reads exactly the range it prepared.
    if (source !== this.live.window) await this.prepareHistory(to - query.windowSec, to);
    return buildGraph(source, resources, endpoints, query);
  }

  private liveGraph(key: string, query: GraphQuery, stale: boolean): Promise<Graph> {
    const to = this.live.window.lastCompleteSecond + 1;
    return this.liveGraphs.get(key, to, liveRefreshSec(query.windowSec), stale, () => this.build(query, to));
  }

  private async build(query: GraphQuery, to: number): Promise<Graph> {
    const [resources, endpoints] = await Promise.all([this.resources(), this.endpoints()]);
    await new Promise((r) => setImmediate(r)); // a caller answered from the graph before this one is written out first
    const source = this.sourceFor(to - query.windowSec);
    if (source !== this.live.window) await this.prepareHistory(to - query.windowSec, to);
    // Pinned to `to`: the inputs were awaited, and the graph is the one asked for, not a later second's.
    return buildGraph(source, resources, endpoints, { ...query, until: to * 1000 });
  }

  async signals(query: SignalsQuery): Promise<GoldenSignals> {
    const to = query.until !== undefined ? Math.floor(query.until / 1000) : this.live.window.lastCompleteSecond + 1;
    const source = this.sourceFor(to - query.windowSec);
    if (source === this.live.window) return goldenSignals(source, query);
    await this.prepareHistory(to - query.windowSec, to);
    return goldenSignals(source, { ...query, until: to * 1000 });
  }

  /**
   * Inbound golden signals of a service's workloads per version label over the last
   * `seconds` of the live window (as their own proxies saw them: reporter=destination), for
   * comparing a canary with its stable version.
   */
  versionSignals(namespace: string, service: string, seconds: number): Map<string, RequestSignals> {
    const to = this.live.window.lastCompleteSecond + 1;
    const sums = aggregate(this.live.window, { fromSec: to - seconds, toSec: to }, (k) => (k.reporter === "destination" && k.kind !== "tcp" && k.kind !== "sat" && k.dstNamespace === namespace && k.dstService === service ? k.dstVersion : undefined));
    return new Map([...sums].map(([version, s]) => [version, requestSignals(s, seconds)]));
  }

  /**
   * Request counts per caller → service over the last `seconds`, as the destinations' proxies
   * recorded them (where authorization is decided), with the 4xx share among them.
   */
  flows(seconds: number): { srcNamespace: string; srcService: string; srcWorkload: string; dstNamespace: string; dstService: string; requests: number; denied: number }[] {
    const to = this.live.window.lastCompleteSecond + 1;
    const sums = aggregate(this.live.window, { fromSec: to - seconds, toSec: to }, (k) => (k.reporter === "destination" && (k.kind === "http" || k.kind === "grpc") ? [k.srcNamespace, k.srcService, k.srcWorkload, k.dstNamespace, k.dstService].join("|") : undefined));
    return [...sums].map(([key, s]) => {
      const [srcNamespace, srcService, srcWorkload, dstNamespace, dstService] = key.split("|") as [string, string, string, string, string];
      const sig = requestSignals(s, seconds);
      return { srcNamespace, srcService, srcWorkload, dstNamespace, dstService, requests: sig.requests, denied: sig.byClass[4] ?? 0 };
    });
  }

  private async prepareHistory(fromSec: number, toSec: number): Promise<void> {
    await this.history?.prepare?.({ fromSec, toSec });
  }

  stats(): LiveTelemetryStats {
    return this.live.stats();
  }

  private endpoints(): Promise<readonly Endpoint[]> {
    return (this.endpointCache = reuse(this.endpointCache, ENDPOINTS_MAX_AGE_MS, () => this.inputs.endpoints())).value;
  }

  private resources(): Promise<readonly Resource[]> {
    return (this.resourceCache = reuse(this.resourceCache, RESOURCES_MAX_AGE_MS, () => this.inputs.resources())).value;
  }
}

/** The cached value while younger than `maxAgeMs`, else a fresh read (a failed read is not kept). */
function reuse<T>(cache: { at: number; value: Promise<T> } | undefined, maxAgeMs: number, read: () => Promise<T>): { at: number; value: Promise<T> } {
  const now = Date.now();
  if (cache && now - cache.at <= maxAgeMs) return cache;
  const fresh = { at: now, value: read() };
  fresh.value.catch(() => (fresh.at = -Infinity));
  return fresh;
}
