import { LATENCY_BUCKETS, responseClass } from "@trellis/config";
import * as L from "../live/row-layout";
import { keyString } from "../live/series-key";
import type { SeriesKey } from "../live/series-key";
import { OpenSlot } from "../live/slot";
import type { FrozenSlot } from "../live/slot";
import { counterIncrements } from "./counter-increments";
import { addIstioHistogram, parseLe } from "./istio-buckets";
import type { CumulativeBucket } from "./istio-buckets";
import { seriesKeyOf } from "./istio-labels";
import type { IstioQueryName } from "./istio-queries";
import type { MatrixSeries } from "./prometheus-client";

/**
 * The answers to ISTIO_QUERIES as frozen slots, one per step, over series keys: what the
 * graph and golden signals read from the live window, rebuilt from Prometheus.
 *
 * Per step and series key: requests by response class (response_code), gRPC failures behind a
 * non-5xx answer (grpc_response_status other than "" and "0", the live deltas' rule), mTLS
 * requests (connection_security_policy="mutual_tls"), the latency histogram (istio-buckets.ts),
 * the latency sum, request and response bytes, TCP connections opened (and on mTLS), closed,
 * bytes sent and received. Saturation has no history: Istio's metrics carry no gauge of it
 * with the proxy's identity.
 *
 * mTLS on the caller's side: a source-reported series says connection_security_policy
 * "unknown" (the caller's proxy cannot tell what the peer enforced, Istio's rule), while the
 * live deltas count it. So source series get the mTLS share the callee's proxies reported for
 * the same pair of workloads over the range (as Kiali reads security from destination reports);
 * with no destination report, none.
 */

/** Slots at start + k·step for k < steps; the queries were evaluated at k = 0..steps. */
export interface StepGrid {
  start: number;
  step: number;
  steps: number;
}

export type IstioResults = Record<IstioQueryName, readonly MatrixSeries[]>;

export function toSlots(results: IstioResults, grid: StepGrid, intern: (key: SeriesKey) => number): FrozenSlot[] {
  const slots = Array.from({ length: grid.steps }, (_, k) => new OpenSlot(grid.start + k * grid.step));
  const vals = new Float64Array(L.STRIDE);
  const ids = new Map<string, number>();
  const idOf = (key: SeriesKey) => {
    const s = keyString(key);
    let id = ids.get(s);
    if (id === undefined) ids.set(s, (id = intern(key)));
    return id;
  };
  const incs = (s: MatrixSeries) => counterIncrements(s.values, grid.start, grid.step, grid.steps);
  /** Adds `inc[k]`·(the offsets' weights) to the series' row in every step. */
  const addCounter = (key: SeriesKey, inc: Float64Array, offsets: readonly (readonly [number, number])[]) => {
    const id = idOf(key);
    for (let k = 0; k < grid.steps; k++) {
      const n = inc[k]!;
      if (n === 0) continue;
      vals.fill(0);
      for (const [at, weight] of offsets) vals[at]! += n * weight;
      slots[k]!.add(id, vals, 0);
    }
  };

  const requestMtls = mtlsShares(results.requests, "request", (m) => m.connection_security_policy === "mutual_tls", incs);
  for (const s of results.requests) {
    const key = seriesKeyOf(s.metric, "request");
    if (!key) continue;
    const cls = responseClass(Number(s.metric.response_code));
    const grpc = s.metric.grpc_response_status ?? "";
    const grpcFailed = cls !== 0 && cls !== 5 && grpc !== "" && grpc !== "0" && grpc !== "unknown";
    const mtls = mtlsOf(s.metric, key, requestMtls);
    const offsets: [number, number][] = [[L.REQUESTS, 1], [L.CLASS_0 + cls, 1]];
    if (grpcFailed) offsets.push([L.GRPC_ERRORS, 1]);
    if (mtls > 0) offsets.push([L.MTLS, mtls]);
    addCounter(key, incs(s), offsets);
  }
  for (const [name, at] of [["latencySum", L.LATENCY_SUM_MS], ["requestBytes", L.REQUEST_BYTES], ["responseBytes", L.RESPONSE_BYTES]] as const) {
    for (const s of results[name]) {
      const key = seriesKeyOf(s.metric, "request");
      if (key) addCounter(key, incs(s), [[at, 1]]);
    }
  }
  addHistograms(results.latencyBuckets, grid, slots, idOf, incs);

  const tcpMtls = mtlsShares(results.tcpOpened, "tcp", (m) => m.connection_security_policy === "mutual_tls", incs);
  for (const s of results.tcpOpened) {
    const key = seriesKeyOf(s.metric, "tcp");
    if (!key) continue;
    const mtls = mtlsOf(s.metric, key, tcpMtls);
    addCounter(key, incs(s), mtls > 0 ? [[L.TCP_OPENED, 1], [L.TCP_MTLS_OPENED, mtls]] : [[L.TCP_OPENED, 1]]);
  }
  for (const [name, at] of [["tcpClosed", L.TCP_CLOSED], ["tcpSent", L.TCP_SENT], ["tcpReceived", L.TCP_RECEIVED]] as const) {
    for (const s of results[name]) {
      const key = seriesKeyOf(s.metric, "tcp");
      if (key) addCounter(key, incs(s), [[at, 1]]);
    }
  }
  return slots.map((s) => s.freeze());
}

/** The histogram series of one key and proxy, summed per Trellis bucket, per step. */
function addHistograms(series: readonly MatrixSeries[], grid: StepGrid, slots: OpenSlot[], idOf: (k: SeriesKey) => number, incs: (s: MatrixSeries) => Float64Array): void {
  // Label sets that differ only in ways the key ignores ("unknown" vs missing) share a group: their counts add per bound.
  const groups = new Map<string, { key: SeriesKey; bounds: Map<number, Float64Array> }>();
  for (const s of series) {
    const le = parseLe(s.metric.le);
    const key = seriesKeyOf(s.metric, "request");
    if (!key || Number.isNaN(le)) continue;
    const g = `${keyString(key)}\u0002${s.metric.instance ?? ""}`;
    let group = groups.get(g);
    if (!group) groups.set(g, (group = { key, bounds: new Map() }));
    const inc = incs(s);
    const sum = group.bounds.get(le);
    if (sum) for (let k = 0; k < inc.length; k++) sum[k]! += inc[k]!;
    else group.bounds.set(le, inc);
  }
  const zeros = new Float64Array(L.STRIDE);
  const dense = new Float64Array(LATENCY_BUCKETS);
  const buckets: number[] = [];
  const counts: number[] = [];
  for (const { key, bounds } of groups.values()) {
    const id = idOf(key);
    for (let k = 0; k < grid.steps; k++) {
      const cumulative: CumulativeBucket[] = [...bounds].map(([le, inc]) => ({ le, count: inc[k]! }));
      if (!cumulative.some((c) => c.count > 0)) continue;
      dense.fill(0);
      addIstioHistogram(cumulative, dense);
      buckets.length = 0;
      counts.length = 0;
      dense.forEach((c, b) => {
        if (c > 0) {
          buckets.push(b);
          counts.push(c);
        }
      });
      slots[k]!.add(id, zeros, 0, buckets, counts);
    }
  }
}

/** mTLS share per pair of workloads (and kind) as their destination reports say, over the whole range. */
function mtlsShares(series: readonly MatrixSeries[], traffic: "request" | "tcp", isMtls: (m: Record<string, string>) => boolean, incs: (s: MatrixSeries) => Float64Array): Map<string, number> {
  const totals = new Map<string, { all: number; mtls: number }>();
  for (const s of series) {
    const key = seriesKeyOf(s.metric, traffic);
    if (key?.reporter !== "destination") continue;
    const pair = keyString(key);
    let t = totals.get(pair);
    if (!t) totals.set(pair, (t = { all: 0, mtls: 0 }));
    const n = incs(s).reduce((a, b) => a + b, 0);
    t.all += n;
    if (isMtls(s.metric)) t.mtls += n;
  }
  return new Map([...totals].map(([pair, t]) => [pair, t.all > 0 ? t.mtls / t.all : 0]));
}

/** The share of a series' count that was on mTLS: 1 or 0 from its own label, or for a source report the callee's share. */
function mtlsOf(metric: Record<string, string>, key: SeriesKey, shares: Map<string, number>): number {
  if (metric.connection_security_policy === "mutual_tls") return 1;
  if (key.reporter !== "source") return 0;
  return shares.get(keyString({ ...key, reporter: "destination" })) ?? 0;
}
