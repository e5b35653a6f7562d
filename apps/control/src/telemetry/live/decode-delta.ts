import { LATENCY_BUCKETS, RESPONSE_CLASSES } from "@trellis/config";
import { Direction, TrafficProtocol } from "@trellis/proto";
import type { TelemetryDelta, TelemetryPeer } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";
import * as L from "./row-layout";
import type { IngestRow } from "./live-window";
import type { Reporter, SeriesKey } from "./series-key";

/**
 * Checks a proxy's TelemetryDelta and turns it into live-window rows, or throws a
 * DeltaError naming the first bad field. The reporting side of every row is the sender's own
 * identity from its stream's Hello, never what the delta says, so a proxy can only report
 * traffic of its own workload. Limits keep one message's cost bounded whatever it holds.
 */

export const DELTA_LIMITS = {
  strings: 20_000,
  stringLength: 253,
  rowsPerKind: 5_000,
  /** No count in one delta can be larger (about 31 years of 1M requests a second). */
  maxCount: 1e15,
};

export class DeltaError extends Error {
  readonly code = "TRELLIS_INVALID_TELEMETRY";
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
  }
}

export function decodeDelta(sender: TelemetrySender, d: TelemetryDelta): IngestRow[] {
  const strings = d.strings;
  if (strings.length > DELTA_LIMITS.strings) throw new DeltaError("strings", `${strings.length} entries; at most ${DELTA_LIMITS.strings}`);
  if (strings.length > 0 && strings[0] !== "") throw new DeltaError("strings[0]", "must be the empty string (index 0 means unknown)");
  for (let i = 0; i < strings.length; i++) {
    if (strings[i]!.length > DELTA_LIMITS.stringLength) throw new DeltaError(`strings[${i}]`, `${strings[i]!.length} characters; at most ${DELTA_LIMITS.stringLength}`);
  }
  for (const [name, rows] of [["requests", d.requests], ["tcp", d.tcp], ["saturation", d.saturation]] as const) {
    if (rows.length > DELTA_LIMITS.rowsPerKind) throw new DeltaError(name, `${rows.length} rows; at most ${DELTA_LIMITS.rowsPerKind}`);
  }
  const str = (path: string, i: number): string => {
    if (i === 0) return "";
    if (i >= strings.length) throw new DeltaError(path, `string index ${i} out of range (table has ${strings.length})`);
    return strings[i]!;
  };
  const peerOf = (path: string, p: TelemetryPeer | undefined) =>
    p ? { namespace: str(`${path}.namespace`, p.namespace), service: str(`${path}.service`, p.service), workload: str(`${path}.workload`, p.workload), version: str(`${path}.version`, p.version) } : NO_PEER;
  const me = { namespace: sender.namespace, service: sender.service, workload: sender.workload, version: sender.labels["version"] ?? "" };

  const out: IngestRow[] = [];
  d.requests.forEach((r, i) => {
    const path = `requests[${i}]`;
    const reporter = reporterOf(`${path}.direction`, r.direction);
    if (r.protocol !== TrafficProtocol.TRAFFIC_PROTOCOL_HTTP && r.protocol !== TrafficProtocol.TRAFFIC_PROTOCOL_GRPC) throw new DeltaError(`${path}.protocol`, `must be HTTP or GRPC, not ${r.protocol}`);
    if (r.byClass.length > RESPONSE_CLASSES) throw new DeltaError(`${path}.by_class`, `${r.byClass.length} entries; at most ${RESPONSE_CLASSES}`);
    const vals = new Float64Array(L.STRIDE);
    let total = 0;
    r.byClass.forEach((c, k) => {
      vals[L.CLASS_0 + k] = count(`${path}.by_class[${k}]`, c);
      total += c;
    });
    vals[L.REQUESTS] = total;
    vals[L.GRPC_ERRORS] = atMost(`${path}.grpc_errors`, count(`${path}.grpc_errors`, r.grpcErrors), total);
    vals[L.MTLS] = atMost(`${path}.mtls_requests`, count(`${path}.mtls_requests`, r.mtlsRequests), total);
    vals[L.LATENCY_SUM_MS] = count(`${path}.latency_sum_ms`, r.latencySumMs);
    vals[L.REQUEST_BYTES] = count(`${path}.request_bytes`, r.requestBytes);
    vals[L.RESPONSE_BYTES] = count(`${path}.response_bytes`, r.responseBytes);
    if (r.latencyBuckets.length !== r.latencyCounts.length) throw new DeltaError(`${path}.latency_counts`, `${r.latencyCounts.length} counts for ${r.latencyBuckets.length} buckets`);
    let observed = 0;
    r.latencyBuckets.forEach((b, k) => {
      if (!Number.isInteger(b) || b < 0 || b >= LATENCY_BUCKETS) throw new DeltaError(`${path}.latency_buckets[${k}]`, `bucket ${b} does not exist (0 to ${LATENCY_BUCKETS - 1})`);
      if (k > 0 && b <= r.latencyBuckets[k - 1]!) throw new DeltaError(`${path}.latency_buckets[${k}]`, "buckets must be listed in ascending order, each once");
      observed += count(`${path}.latency_counts[${k}]`, r.latencyCounts[k]!);
    });
    if (observed !== total) throw new DeltaError(`${path}.latency_counts`, `histogram holds ${observed} requests but by_class counts ${total}`);
    const peer = peerOf(`${path}.peer`, r.peer);
    const kind = r.protocol === TrafficProtocol.TRAFFIC_PROTOCOL_GRPC ? "grpc" : "http";
    out.push({ key: keyOf(reporter, kind, me, peer, str(`${path}.route`, r.route)), vals, buckets: r.latencyBuckets, counts: r.latencyCounts });
  });
  d.tcp.forEach((r, i) => {
    const path = `tcp[${i}]`;
    const reporter = reporterOf(`${path}.direction`, r.direction);
    const vals = new Float64Array(L.STRIDE);
    vals[L.TCP_OPENED] = count(`${path}.opened`, r.opened);
    vals[L.TCP_CLOSED] = count(`${path}.closed`, r.closed);
    vals[L.TCP_SENT] = count(`${path}.sent_bytes`, r.sentBytes);
    vals[L.TCP_RECEIVED] = count(`${path}.received_bytes`, r.receivedBytes);
    vals[L.TCP_MTLS_OPENED] = atMost(`${path}.mtls_opened`, count(`${path}.mtls_opened`, r.mtlsOpened), r.opened, "connections opened");
    out.push({ key: keyOf(reporter, "tcp", me, peerOf(`${path}.peer`, r.peer), ""), vals });
  });
  d.saturation.forEach((r, i) => {
    const path = `saturation[${i}]`;
    const reporter = reporterOf(`${path}.direction`, r.direction);
    const vals = new Float64Array(L.STRIDE);
    vals[L.IN_FLIGHT] = count(`${path}.in_flight`, r.inFlight);
    vals[L.POOL_ACTIVE] = count(`${path}.pool_active`, r.poolActive);
    vals[L.POOL_LIMIT] = count(`${path}.pool_limit`, r.poolLimit);
    vals[L.OVERFLOWS] = count(`${path}.overflows`, r.overflows);
    vals[L.READINGS] = 1;
    const peer = reporter === "destination" ? NO_PEER : peerOf(`${path}.peer`, r.peer);
    out.push({ key: keyOf(reporter, "sat", me, { ...peer, workload: "", version: "" }, ""), vals });
  });
  return out;
}

interface Side {
  namespace: string;
  service: string;
  workload: string;
  version: string;
}

const NO_PEER: Side = Object.freeze({ namespace: "", service: "", workload: "", version: "" });

function keyOf(reporter: Reporter, kind: SeriesKey["kind"], me: Side, peer: Side, route: string): SeriesKey {
  const [src, dst] = reporter === "source" ? [me, peer] : [peer, me];
  return {
    reporter,
    kind,
    srcNamespace: src.namespace,
    srcService: src.service,
    srcWorkload: src.workload,
    srcVersion: src.version,
    dstNamespace: dst.namespace,
    dstService: dst.service,
    dstWorkload: dst.workload,
    dstVersion: dst.version,
    route,
  };
}

function reporterOf(path: string, d: Direction): Reporter {
  if (d === Direction.DIRECTION_OUTBOUND) return "source";
  if (d === Direction.DIRECTION_INBOUND) return "destination";
  throw new DeltaError(path, `must be OUTBOUND or INBOUND, not ${d}`);
}

function count(path: string, n: number): number {
  if (!Number.isFinite(n) || n < 0 || n > DELTA_LIMITS.maxCount) throw new DeltaError(path, `${n} is not a count (0 to ${DELTA_LIMITS.maxCount})`);
  return n;
}

function atMost(path: string, n: number, max: number, of = "requests"): number {
  if (n > max) throw new DeltaError(path, `${n} is more than the ${max} ${of} of the row`);
  return n;
}
