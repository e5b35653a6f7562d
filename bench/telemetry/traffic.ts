import { LATENCY_BUCKETS, RESPONSE_CLASSES, latencyBucket } from "@trellis/config";
import { Direction, TrafficProtocol } from "@trellis/proto";
import type { RequestRow, SaturationRow, TcpRow, TelemetryDelta, TelemetryPeer } from "@trellis/proto";
import { NAMESPACE, serviceName, unit } from "./mesh";
import type { Mesh } from "./mesh";

/**
 * The TelemetryDelta fake proxy p sends for second k, shaped like a real proxy's
 * (apps/proxy/src/telemetry/live-deltas.ts): a string table; a request row per service it
 * called and per caller that called it, each with response classes, a sparse latency
 * histogram (latencyBucket) and bytes; TCP rows while a TCP connection moved bytes; saturation
 * rows for busy outbound clusters plus the inbound row that is always sent.
 *
 * A request's numbers are a pure function of (caller proxy, callee service, k), so the
 * caller's outbound row and the callee's inbound row of the same second agree.
 */

/** Latency samples drawn per row; counts are spread over them, so histograms hit a few buckets like real ones. */
const SAMPLES = 12;
/** Log-normal spread of latencies around an edge's median. */
const SIGMA = 0.6;

interface Requests {
  count: number;
  byClass: number[];
  grpcErrors: number;
  buckets: number[];
  counts: number[];
  sumMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** What caller proxy c sent to service t in second k (count 0 = no row). */
export function requestsOf(mesh: Mesh, c: number, t: number, k: number): Requests | undefined {
  const e = mesh.edge(mesh.serviceOf(c), t);
  const count = Math.floor(e.rps * (0.7 + 0.6 * unit(c, t, k, 1)) + unit(c, t, k, 2));
  if (count === 0) return undefined;
  const byClass = new Array<number>(RESPONSE_CLASSES).fill(0);
  byClass[5] = Math.floor(count * e.err5xx + unit(c, t, k, 3));
  byClass[4] = Math.min(count - byClass[5]!, Math.floor(count * e.err4xx + unit(c, t, k, 4)));
  byClass[0] = Math.min(count - byClass[5]! - byClass[4]!, Math.floor(count * 0.001 + unit(c, t, k, 5)));
  byClass[2] = count - byClass[5]! - byClass[4]! - byClass[0]!;
  const hist = new Float64Array(LATENCY_BUCKETS);
  const n = Math.min(count, SAMPLES);
  let sumMs = 0;
  for (let i = 0; i < n; i++) {
    // Box–Muller from two hashed uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - unit(c, t, k, 16 + 2 * i))) * Math.cos(2 * Math.PI * unit(c, t, k, 17 + 2 * i));
    const ms = e.medianMs * Math.exp(SIGMA * z);
    const weight = Math.floor(count / n) + (i < count % n ? 1 : 0);
    hist[latencyBucket(ms)]! += weight;
    sumMs += ms * weight;
  }
  const buckets: number[] = [];
  const counts: number[] = [];
  hist.forEach((v, b) => {
    if (v > 0) {
      buckets.push(b);
      counts.push(v);
    }
  });
  return {
    count,
    byClass,
    grpcErrors: e.grpc ? Math.min(byClass[2]!, Math.floor(count * 0.005 + unit(c, t, k, 6))) : 0,
    buckets,
    counts,
    sumMs: Math.round(sumMs * 1000) / 1000,
    requestBytes: count * Math.floor(200 + 1800 * unit(c, t, 7)),
    responseBytes: count * Math.floor(500 + 20_000 * unit(c, t, 8)),
  };
}

/** Interns the strings of one delta; "" is index 0 (unknown). */
class StringTable {
  readonly strings: string[] = [""];
  private readonly ids = new Map<string, number>([["", 0]]);

  index(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, i);
    }
    return i;
  }

  /** Proxy q as a peer; q = -1 is service t without a sidecar (workload and version unknown). */
  peer(mesh: Mesh, t: number, q: number): TelemetryPeer {
    return {
      namespace: this.index(NAMESPACE),
      service: this.index(serviceName(t)),
      workload: q < 0 ? 0 : this.index(mesh.workloadOf(q)),
      version: q < 0 ? 0 : this.index(mesh.versionOf(q)),
    };
  }
}

function requestRow(direction: Direction, peer: TelemetryPeer, grpc: boolean, r: Requests): RequestRow {
  return {
    direction,
    peer,
    route: 0,
    protocol: grpc ? TrafficProtocol.TRAFFIC_PROTOCOL_GRPC : TrafficProtocol.TRAFFIC_PROTOCOL_HTTP,
    mtlsRequests: r.count,
    byClass: r.byClass,
    grpcErrors: r.grpcErrors,
    latencyBuckets: r.buckets,
    latencyCounts: r.counts,
    latencySumMs: r.sumMs,
    requestBytes: r.requestBytes,
    responseBytes: r.responseBytes,
  };
}

/** TCP traffic of caller proxy c to service t in second k (undefined = the connection was quiet). */
function tcpOf(c: number, t: number, k: number): Omit<TcpRow, "direction" | "peer"> | undefined {
  if (unit(c, t, k, 40) < 0.5) return undefined;
  const opened = Math.floor(2 * unit(c, t, k, 41));
  return { opened, closed: Math.floor(2 * unit(c, t, k, 42)), sentBytes: 200 + Math.floor(50_000 * unit(c, t, k, 43)), receivedBytes: 200 + Math.floor(200_000 * unit(c, t, k, 44)), mtlsOpened: opened };
}

/** Proxy p's delta for second k (sequence k, k ≥ 1). `inbound` / `tcpInbound`: mesh.inboundCallers(p) and (p, true), computed once. */
export function deltaOf(mesh: Mesh, p: number, k: number, inbound: readonly number[], tcpInbound: readonly number[]): TelemetryDelta {
  const s = mesh.serviceOf(p);
  const table = new StringTable();
  const requests: RequestRow[] = [];
  const saturation: SaturationRow[] = [];
  const tcp: TcpRow[] = [];
  for (const t of mesh.targets[s]!) {
    const r = requestsOf(mesh, p, t, k);
    if (!r) continue;
    const e = mesh.edge(s, t);
    const peer = table.peer(mesh, t, mesh.stickyReplica(p, t));
    requests.push(requestRow(Direction.DIRECTION_OUTBOUND, peer, e.grpc, r));
    const inFlight = Math.floor((r.count * e.medianMs) / 1000 + unit(p, t, k, 30));
    if (inFlight > 0) saturation.push({ direction: Direction.DIRECTION_OUTBOUND, peer: table.peer(mesh, t, -1), inFlight, poolActive: inFlight, poolLimit: e.poolLimit, overflows: 0 });
  }
  let inboundInFlight = 0;
  for (const c of inbound) {
    const r = requestsOf(mesh, c, s, k);
    if (!r) continue;
    const e = mesh.edge(mesh.serviceOf(c), s);
    requests.push(requestRow(Direction.DIRECTION_INBOUND, table.peer(mesh, mesh.serviceOf(c), c), e.grpc, r));
    inboundInFlight += (r.count * e.medianMs) / 1000;
  }
  saturation.push({ direction: Direction.DIRECTION_INBOUND, peer: undefined, inFlight: Math.floor(inboundInFlight + unit(p, k, 31)), poolActive: 0, poolLimit: 0, overflows: 0 });
  const tt = mesh.tcpTarget[s]!;
  if (tt >= 0) {
    const r = tcpOf(p, tt, k);
    if (r) tcp.push({ direction: Direction.DIRECTION_OUTBOUND, peer: table.peer(mesh, tt, mesh.stickyReplica(p, tt)), ...r });
  }
  for (const c of tcpInbound) {
    const r = tcpOf(c, s, k);
    // Inbound, sent and received swap sides: what the caller sent, the callee received.
    if (r) tcp.push({ direction: Direction.DIRECTION_INBOUND, peer: table.peer(mesh, mesh.serviceOf(c), c), ...r, sentBytes: r.receivedBytes, receivedBytes: r.sentBytes });
  }
  return { sequence: k, intervalMs: 1000, strings: table.strings, requests, tcp, saturation };
}
