import type { Registry } from "prom-client";

/**
 * Counters and histograms kept as plain numbers per series and turned into Prometheus
 * samples only when scraped. prom-client's own Counter/Histogram re-validate and re-hash
 * every label of every update (23 labels, 4 updates per request: ~18% of a proxy's CPU and
 * most of its per-request garbage in bench/proxy's profile); here an update is an array
 * index and an addition. The families register into a prom-client Registry as custom
 * metrics, so exposition (escaping, HELP/TYPE, content type) stays prom-client's.
 *
 * Series live as long as the family: label values come from the mesh's own names, status
 * codes and flags, so their number is bounded by the topology, not by traffic (callers must
 * not put request-controlled values in labels).
 */

type LabelValues = readonly string[];

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

abstract class Family<S> {
  protected readonly series = new Map<string, { values: LabelValues; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // prom-client accepts any object with name/help/type/get(); see Registry.registerMetric.
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  abstract readonly type: "counter" | "histogram";
  protected abstract create(): S;
  protected abstract samples(labels: Record<string, string>, state: S, out: Sample[]): void;

  /** The state of one label combination; `key` must identify `values` (e.g. their join). */
  state(key: string, values: LabelValues): S {
    let s = this.series.get(key);
    if (s === undefined) {
      s = { values: [...values], state: this.create() };
      this.series.set(key, s);
    }
    return s.state;
  }

  /** Number of series held. */
  get size(): number {
    return this.series.size;
  }

  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: "sum" }> {
    const values: Sample[] = [];
    for (const { values: v, state } of this.series.values()) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = v[i] ?? "";
      this.samples(labels, state, values);
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: "sum" });
  }

  reset(): void {
    this.series.clear();
  }
}

/** A monotonically increasing count per series. */
export class CounterFamily extends Family<{ value: number }> {
  readonly type = "counter";
  protected create(): { value: number } {
    return { value: 0 };
  }
  protected samples(labels: Record<string, string>, state: { value: number }, out: Sample[]): void {
    out.push({ labels, value: state.value });
  }
}

/** Bucket counts (non-cumulative while recording, cumulated at scrape), sum and count per series. */
export interface HistogramState {
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HistogramFamily extends Family<HistogramState> {
  readonly type = "histogram";

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry, readonly buckets: readonly number[]) {
    super(name, help, labelNames, registry);
  }

  protected create(): HistogramState {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  /** Records one observation into `state`. */
  observe(state: HistogramState, value: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    state.counts[i]!++;
    state.sum += value;
    state.count++;
  }

  protected samples(labels: Record<string, string>, state: HistogramState, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += state.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { le: this.buckets[i]!, ...labels }, value: cumulative });
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", ...labels }, value: state.count });
    out.push({ metricName: `${this.name}_sum`, labels, value: state.sum });
    out.push({ metricName: `${this.name}_count`, labels, value: state.count });
  }
}
