import { latencyBucket } from "@trellis/config";
import type { IngestRow, LiveWindow } from "./live-window";
import * as L from "./row-layout";
import type { Reporter, SeriesKey, SeriesKind } from "./series-key";

/**
 * Test fixtures for the live window: a settable clock, and IngestRows built from readable
 * figures (requests by class and their latencies, TCP connections, saturation gauges).
 */

/** An aligned minute start (epoch seconds), so tests can reason about minute roll-ups. */
export const T0 = 1_800_000_000;

/** A clock the window reads through `now`; set in seconds. */
export class TestClock {
  private ms: number;
  constructor(sec: number) {
    this.ms = sec * 1000;
  }
  readonly now = (): number => this.ms;
  set(sec: number): void {
    this.ms = sec * 1000;
  }
}

export interface TestSide {
  namespace: string;
  service: string;
  workload?: string;
  version?: string;
}

export function seriesKey(reporter: Reporter, kind: SeriesKind, src: TestSide, dst: TestSide, route = ""): SeriesKey {
  return {
    reporter,
    kind,
    srcNamespace: src.namespace,
    srcService: src.service,
    srcWorkload: src.workload ?? "",
    srcVersion: src.version ?? "",
    dstNamespace: dst.namespace,
    dstService: dst.service,
    dstWorkload: dst.workload ?? "",
    dstVersion: dst.version ?? "",
    route,
  };
}

export interface HttpFigures {
  kind?: "http" | "grpc";
  route?: string;
  /** Requests by response class, `[none, 1xx, 2xx, 3xx, 4xx, 5xx]`; missing entries are 0. */
  byClass: readonly number[];
  grpcErrors?: number;
  mtls?: number;
  /** One latency per request, or one latency for every request (default 10 ms). */
  latencyMs?: number | readonly number[];
  requestBytes?: number;
  responseBytes?: number;
}

export function httpRow(reporter: Reporter, src: TestSide, dst: TestSide, f: HttpFigures): IngestRow {
  const vals = new Float64Array(L.STRIDE);
  let total = 0;
  f.byClass.forEach((c, k) => {
    vals[L.CLASS_0 + k] = c;
    total += c;
  });
  vals[L.REQUESTS] = total;
  vals[L.GRPC_ERRORS] = f.grpcErrors ?? 0;
  vals[L.MTLS] = f.mtls ?? 0;
  vals[L.REQUEST_BYTES] = f.requestBytes ?? 0;
  vals[L.RESPONSE_BYTES] = f.responseBytes ?? 0;
  const latencies = typeof f.latencyMs === "object" ? f.latencyMs : new Array<number>(total).fill(f.latencyMs ?? 10);
  const hist = new Map<number, number>();
  for (const ms of latencies) {
    const b = latencyBucket(ms);
    hist.set(b, (hist.get(b) ?? 0) + 1);
    vals[L.LATENCY_SUM_MS]! += ms;
  }
  const buckets = [...hist.keys()].sort((a, b) => a - b);
  return { key: seriesKey(reporter, f.kind ?? "http", src, dst, f.route), vals, buckets, counts: buckets.map((b) => hist.get(b)!) };
}

export function tcpRow(reporter: Reporter, src: TestSide, dst: TestSide, f: { opened: number; closed?: number; sent?: number; received?: number; mtls?: number }): IngestRow {
  const vals = new Float64Array(L.STRIDE);
  vals[L.TCP_OPENED] = f.opened;
  vals[L.TCP_CLOSED] = f.closed ?? 0;
  vals[L.TCP_SENT] = f.sent ?? 0;
  vals[L.TCP_RECEIVED] = f.received ?? 0;
  vals[L.TCP_MTLS_OPENED] = f.mtls ?? 0;
  return { key: seriesKey(reporter, "tcp", src, dst), vals };
}

/** One saturation reading, as decodeDelta makes it: the peer's workload and version are dropped, the reporter's kept. */
export function satRow(reporter: Reporter, src: TestSide, dst: TestSide, f: { inFlight: number; poolActive?: number; poolLimit?: number; overflows?: number }): IngestRow {
  const vals = new Float64Array(L.STRIDE);
  vals[L.IN_FLIGHT] = f.inFlight;
  vals[L.POOL_ACTIVE] = f.poolActive ?? 0;
  vals[L.POOL_LIMIT] = f.poolLimit ?? 0;
  vals[L.OVERFLOWS] = f.overflows ?? 0;
  vals[L.READINGS] = 1;
  const strip = (s: TestSide): TestSide => ({ namespace: s.namespace, service: s.service });
  return { key: seriesKey(reporter, "sat", reporter === "source" ? src : strip(src), reporter === "destination" ? dst : strip(dst)), vals };
}

/** Ingests `rows(s)` in each second s of [fromSec, toSec), then leaves the clock at toSec (those seconds complete). */
export function ingestSeconds(window: LiveWindow, clock: TestClock, fromSec: number, toSec: number, rows: (sec: number) => readonly IngestRow[]): void {
  for (let s = fromSec; s < toSec; s++) {
    clock.set(s);
    window.ingest(rows(s));
  }
  clock.set(toSec);
}
