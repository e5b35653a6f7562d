import { LATENCY_BUCKETS, RESPONSE_CLASSES, latencyBucket, responseClass } from "@trellis/config";
import { Direction, TrafficProtocol } from "@trellis/proto";
import type { RequestRow, SaturationRow, TcpRow, TelemetryDelta, TelemetryPeer } from "@trellis/proto";
import type { PeerInfo, RequestContext } from "../core/context";
import { serviceParts } from "./service-parts";
import { objectId } from "./shape-ids";

/**
 * The per-second traffic deltas a proxy sends on its config stream (telemetry.proto): what it
 * saw since the last delta, summed per (direction, peer, route, protocol), for the control
 * plane's live graph and golden signals.
 *
 * Hot path: `request()` costs one string join, one Map lookup and a few additions, like the
 * Prometheus series next to it. `take()` (once a second, off the request path) hands the sums
 * out as a delta and starts afresh; while the config stream is down nobody takes, so the sums
 * keep growing into one longer interval, never into more rows than MAX_ROWS.
 *
 * Safe use: one instance per proxy; `take()` from a single timer.
 */

/** Most rows one delta carries per kind; further keys are summed into one overflow row per direction. */
export const MAX_ROWS = 2000;
/** Route name of the overflow rows. */
export const OVERFLOW_ROUTE = "(overflow)";

const SEP = "\u0001";
const UNKNOWN = "unknown";

interface PeerKey {
  namespace: string;
  service: string;
  workload: string;
  version: string;
}

interface RequestSums {
  direction: Direction;
  peer: PeerKey;
  route: string;
  protocol: TrafficProtocol;
  mtls: number;
  byClass: number[];
  grpcErrors: number;
  latency: Float64Array;
  latencySumMs: number;
  requestBytes: number;
  responseBytes: number;
}

interface TcpSums {
  direction: Direction;
  peer: PeerKey;
  opened: number;
  closed: number;
  sentBytes: number;
  receivedBytes: number;
  mtlsOpened: number;
}

/** One cluster's saturation now, as the data plane reports it when a delta is taken. */
export interface ClusterSaturation {
  /** Cluster name, `outbound|port|subset|host`. */
  cluster: string;
  /** Destination host. */
  host: string;
  active: number;
  /** Circuit-breaker max requests; 0 = none. */
  limit: number;
  /** Pool refusals since the cluster appeared (a running total). */
  overflowsTotal: number;
}

/** What a finished request contributes. */
export interface LiveOutcome {
  status: number;
  grpcStatus?: string | undefined;
  durationMs: number;
}

export class LiveDeltas {
  private requests = new Map<string, RequestSums>();
  /** Rows of this delta by request shape (see request()); starts afresh with each delta, like the rows. */
  private shapes = new Map<string, RequestSums>();
  private tcp = new Map<string, TcpSums>();
  private startedAt = Date.now();
  private inboundInFlight = 0;
  private readonly overflowsSeen = new Map<string, number>();

  constructor(private readonly clusters: () => Iterable<ClusterSaturation> = () => []) {}

  /** A request reached the edge (inbound in-flight count; outbound comes from the clusters). */
  started(ctx: RequestContext): void {
    if (ctx.direction === "inbound") this.inboundInFlight++;
  }

  /** A request finished; called once per request started with `started()`. */
  request(ctx: RequestContext, outcome: LiveOutcome): void {
    if (ctx.direction === "inbound" && this.inboundInFlight > 0) this.inboundInFlight--;
    // The row by the ids of what it derives from (shape-ids.ts); the row's own key is built only for a shape new in this delta.
    const shape = ctx.direction === "outbound" ? `o${ctx.protocol}${objectId(ctx.target)},${objectId(ctx.destination)},${objectId(ctx.route)}` : `i${ctx.protocol}${objectId(ctx.source)},${objectId(ctx.route)}`;
    let s = this.shapes.get(shape);
    if (s === undefined) {
      s = this.row(ctx);
      // Shapes of swapped-out snapshots go stale while nobody takes deltas (control plane away): keep them bounded.
      if (this.shapes.size >= 4 * MAX_ROWS) this.shapes.clear();
      this.shapes.set(shape, s);
    }
    const cls = responseClass(outcome.status);
    s.byClass[cls]!++;
    if (cls !== 5 && cls !== 0 && outcome.grpcStatus !== undefined && outcome.grpcStatus !== "0" && outcome.grpcStatus !== "") s.grpcErrors++;
    if (ctx.connectionSecurity === "mutual_tls") s.mtls++;
    const ms = outcome.durationMs > 0 ? outcome.durationMs : 0;
    s.latency[latencyBucket(ms)]!++;
    s.latencySumMs += ms;
    s.requestBytes += ctx.requestBytes > 0 ? ctx.requestBytes : 0;
    s.responseBytes += ctx.responseBytes > 0 ? ctx.responseBytes : 0;
  }

  /** The row of a request's (direction, peer, route, protocol), or the overflow row once there are MAX_ROWS. */
  private row(ctx: RequestContext): RequestSums {
    const direction = ctx.direction === "outbound" ? Direction.DIRECTION_OUTBOUND : Direction.DIRECTION_INBOUND;
    const peer = peerOf(ctx);
    const route = ctx.route?.name ?? "";
    const protocol = ctx.protocol === "grpc" ? TrafficProtocol.TRAFFIC_PROTOCOL_GRPC : TrafficProtocol.TRAFFIC_PROTOCOL_HTTP;
    let key = `${direction}${SEP}${peer.namespace}${SEP}${peer.service}${SEP}${peer.workload}${SEP}${peer.version}${SEP}${route}${SEP}${protocol}`;
    let s = this.requests.get(key);
    if (s === undefined) {
      if (this.requests.size >= MAX_ROWS) {
        key = `${direction}${SEP}${OVERFLOW_ROUTE}`;
        s = this.requests.get(key);
      }
      if (s === undefined) {
        const overflow = key.endsWith(OVERFLOW_ROUTE);
        s = {
          direction,
          peer: overflow ? UNKNOWN_KEY : peer,
          route: overflow ? OVERFLOW_ROUTE : route,
          protocol,
          mtls: 0,
          byClass: new Array<number>(RESPONSE_CLASSES).fill(0),
          grpcErrors: 0,
          latency: new Float64Array(LATENCY_BUCKETS),
          latencySumMs: 0,
          requestBytes: 0,
          responseBytes: 0,
        };
        this.requests.set(key, s);
      }
    }
    return s;
  }

  /** A TCP connection opened. */
  tcpOpened(ctx: RequestContext): void {
    const s = this.tcpSums(ctx);
    s.opened++;
    if (ctx.connectionSecurity === "mutual_tls") s.mtlsOpened++;
  }

  /** Bytes a TCP connection moved since its last report, and whether it closed. */
  tcpBytes(ctx: RequestContext, sent: number, received: number, closed: boolean): void {
    const s = this.tcpSums(ctx);
    s.sentBytes += sent;
    s.receivedBytes += received;
    if (closed) s.closed++;
  }

  /** Everything since the last call as a delta (without its sequence, which the stream assigns); starts afresh. */
  take(now = Date.now()): Omit<TelemetryDelta, "sequence"> {
    const table = new StringTable();
    const requests: RequestRow[] = [];
    for (const s of this.requests.values()) {
      const latencyBuckets: number[] = [];
      const latencyCounts: number[] = [];
      for (let i = 0; i < s.latency.length; i++) {
        if (s.latency[i]! > 0) {
          latencyBuckets.push(i);
          latencyCounts.push(s.latency[i]!);
        }
      }
      requests.push({
        direction: s.direction,
        peer: table.peer(s.peer),
        route: table.index(s.route),
        protocol: s.protocol,
        mtlsRequests: s.mtls,
        byClass: s.byClass,
        grpcErrors: s.grpcErrors,
        latencyBuckets,
        latencyCounts,
        latencySumMs: s.latencySumMs,
        requestBytes: s.requestBytes,
        responseBytes: s.responseBytes,
      });
    }
    const tcp: TcpRow[] = [];
    for (const s of this.tcp.values()) {
      tcp.push({ direction: s.direction, peer: table.peer(s.peer), opened: s.opened, closed: s.closed, sentBytes: s.sentBytes, receivedBytes: s.receivedBytes, mtlsOpened: s.mtlsOpened });
    }
    const saturation = this.saturation(table);
    const intervalMs = Math.max(0, Math.min(now - this.startedAt, 0xffffffff));
    this.requests = new Map();
    this.shapes = new Map();
    this.tcp = new Map();
    this.startedAt = now;
    return { intervalMs, strings: table.strings, requests, tcp, saturation };
  }

  private saturation(table: StringTable): SaturationRow[] {
    const byService = new Map<string, SaturationRow>();
    const seen = new Set<string>();
    for (const c of this.clusters()) {
      seen.add(c.cluster);
      const before = this.overflowsSeen.get(c.cluster) ?? 0;
      this.overflowsSeen.set(c.cluster, c.overflowsTotal);
      const [name, namespace] = serviceParts(c.host);
      let row = byService.get(c.host);
      if (row === undefined) {
        row = { direction: Direction.DIRECTION_OUTBOUND, peer: table.peer({ namespace, service: name, workload: UNKNOWN, version: UNKNOWN }), inFlight: 0, poolActive: 0, poolLimit: 0, overflows: 0 };
        byService.set(c.host, row);
      }
      row.inFlight += c.active;
      row.poolActive += c.active;
      row.poolLimit += c.limit;
      row.overflows += Math.max(0, c.overflowsTotal - before);
    }
    for (const k of this.overflowsSeen.keys()) if (!seen.has(k)) this.overflowsSeen.delete(k);
    // Idle outbound clusters say nothing; the inbound row always goes, so "0 in flight" is visible too.
    const rows = [...byService.values()].filter((r) => r.inFlight > 0 || r.overflows > 0);
    rows.push({ direction: Direction.DIRECTION_INBOUND, peer: undefined, inFlight: this.inboundInFlight, poolActive: 0, poolLimit: 0, overflows: 0 });
    return rows;
  }

  private tcpSums(ctx: RequestContext): TcpSums {
    const direction = ctx.direction === "outbound" ? Direction.DIRECTION_OUTBOUND : Direction.DIRECTION_INBOUND;
    const peer = peerOf(ctx);
    let key = `${direction}${SEP}${peer.namespace}${SEP}${peer.service}${SEP}${peer.workload}${SEP}${peer.version}`;
    let s = this.tcp.get(key);
    if (s === undefined && this.tcp.size >= MAX_ROWS) {
      key = `${direction}${SEP}${OVERFLOW_ROUTE}`;
      s = this.tcp.get(key);
    }
    if (s === undefined) {
      s = { direction, peer: key.endsWith(OVERFLOW_ROUTE) ? UNKNOWN_KEY : peer, opened: 0, closed: 0, sentBytes: 0, receivedBytes: 0, mtlsOpened: 0 };
      this.tcp.set(key, s);
    }
    return s;
  }
}

const UNKNOWN_KEY: PeerKey = Object.freeze({ namespace: UNKNOWN, service: UNKNOWN, workload: UNKNOWN, version: UNKNOWN });

/** Outbound: the destination (service from the routed host, workload from its peer metadata); inbound: the caller. */
function peerOf(ctx: RequestContext): PeerKey {
  if (ctx.direction === "outbound") {
    const host = ctx.target?.host;
    const [service, namespace] = host ? serviceParts(host) : [UNKNOWN, UNKNOWN];
    const d: PeerInfo | undefined = ctx.destination;
    return { namespace, service, workload: d?.workload ?? UNKNOWN, version: d?.version ?? UNKNOWN };
  }
  const s = ctx.source;
  return { namespace: s.namespace, service: s.app, workload: s.workload, version: s.version };
}

/** Interns strings for one delta; "unknown" and "" are index 0. */
class StringTable {
  readonly strings: string[] = [""];
  private readonly ids = new Map<string, number>([["", 0], [UNKNOWN, 0]]);

  index(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, i);
    }
    return i;
  }

  peer(p: PeerKey): TelemetryPeer {
    return { namespace: this.index(p.namespace), service: this.index(p.service), workload: this.index(p.workload), version: this.index(p.version) };
  }
}
