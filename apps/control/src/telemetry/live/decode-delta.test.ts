import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyBucket } from "@trellis/config";
import { silentLogger } from "@trellis/config/log";
import { Direction, TrafficProtocol } from "@trellis/proto";
import type { TelemetryDelta } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";
import { DELTA_LIMITS, DeltaError, decodeDelta } from "./decode-delta";
import { LiveTelemetry } from "./live-telemetry";
import * as L from "./row-layout";
import { T0, TestClock } from "./test-rows";

/** reviews-v2-a's proxy; its identity comes from its Hello, not from the delta. */
const SENDER: TelemetrySender = { proxyId: "default/reviews-v2-a", namespace: "default", workload: "reviews-v2-a", service: "reviews", labels: { version: "v2" } };

const OUT = Direction.DIRECTION_OUTBOUND;
const IN = Direction.DIRECTION_INBOUND;

/** reviews-v2-a: called by productpage-a (inbound), calls ratings (outbound, gRPC), a TCP connection to mysql, saturation both ways. */
function good(): TelemetryDelta {
  return {
    sequence: 7,
    intervalMs: 1000,
    strings: ["", "default", "productpage", "productpage-a", "v1", "ratings", "ratings-a", "get-ratings", "mysql", "db"],
    requests: [
      {
        direction: IN,
        peer: { namespace: 1, service: 2, workload: 3, version: 4 },
        route: 0,
        protocol: TrafficProtocol.TRAFFIC_PROTOCOL_HTTP,
        mtlsRequests: 4,
        byClass: [0, 0, 4, 0, 0, 1],
        grpcErrors: 0,
        latencyBuckets: [latencyBucket(10), latencyBucket(100)],
        latencyCounts: [3, 2],
        latencySumMs: 230,
        requestBytes: 100,
        responseBytes: 2000,
      },
      {
        direction: OUT,
        peer: { namespace: 1, service: 5, workload: 6, version: 4 },
        route: 7,
        protocol: TrafficProtocol.TRAFFIC_PROTOCOL_GRPC,
        mtlsRequests: 3,
        byClass: [1, 0, 2],
        grpcErrors: 1,
        latencyBuckets: [latencyBucket(5)],
        latencyCounts: [3],
        latencySumMs: 15,
        requestBytes: 30,
        responseBytes: 60,
      },
    ],
    tcp: [{ direction: OUT, peer: { namespace: 9, service: 8, workload: 0, version: 0 }, opened: 2, closed: 1, sentBytes: 500, receivedBytes: 7000, mtlsOpened: 0 }],
    saturation: [
      { direction: IN, peer: { namespace: 1, service: 2, workload: 3, version: 4 }, inFlight: 3, poolActive: 0, poolLimit: 0, overflows: 0 },
      { direction: OUT, peer: { namespace: 1, service: 5, workload: 6, version: 4 }, inFlight: 2, poolActive: 2, poolLimit: 10, overflows: 1 },
    ],
  };
}

/** The good delta changed by `edit`. */
function bad(edit: (d: TelemetryDelta) => void): TelemetryDelta {
  const d = good();
  edit(d);
  return d;
}

function refused(d: TelemetryDelta, path: string, message: RegExp): void {
  assert.throws(
    () => decodeDelta(SENDER, d),
    (err: unknown) => {
      assert.ok(err instanceof DeltaError, `a DeltaError, not ${String(err)}`);
      assert.equal(err.code, "TRELLIS_INVALID_TELEMETRY");
      assert.equal(err.path, path);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      return true;
    },
  );
}

const req = (d: TelemetryDelta, i = 0) => d.requests[i]!;

describe("decodeDelta", () => {
  test("a good delta becomes rows with the sender on the reporting side and the peer from the string table", () => {
    const rows = decodeDelta(SENDER, good());
    assert.equal(rows.length, 5);
    const [inbound, outbound, tcp, satIn, satOut] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];

    assert.deepEqual(inbound.key, {
      reporter: "destination",
      kind: "http",
      srcNamespace: "default",
      srcService: "productpage",
      srcWorkload: "productpage-a",
      srcVersion: "v1",
      dstNamespace: "default",
      dstService: "reviews",
      dstWorkload: "reviews-v2-a",
      dstVersion: "v2",
      route: "",
    });
    const v = inbound.vals;
    assert.equal(v[L.REQUESTS], 5);
    assert.deepEqual(Array.from(v).slice(L.CLASS_0, L.CLASS_0 + 6), [0, 0, 4, 0, 0, 1]);
    assert.equal(v[L.MTLS], 4);
    assert.equal(v[L.LATENCY_SUM_MS], 230);
    assert.equal(v[L.REQUEST_BYTES], 100);
    assert.equal(v[L.RESPONSE_BYTES], 2000);
    assert.deepEqual(Array.from(inbound.buckets!), [latencyBucket(10), latencyBucket(100)]);
    assert.deepEqual(Array.from(inbound.counts!), [3, 2]);

    assert.deepEqual(outbound.key, {
      reporter: "source",
      kind: "grpc",
      srcNamespace: "default",
      srcService: "reviews",
      srcWorkload: "reviews-v2-a",
      srcVersion: "v2",
      dstNamespace: "default",
      dstService: "ratings",
      dstWorkload: "ratings-a",
      dstVersion: "v1",
      route: "get-ratings",
    });
    assert.equal(outbound.vals[L.REQUESTS], 3);
    assert.equal(outbound.vals[L.GRPC_ERRORS], 1);

    assert.equal(tcp.key.kind, "tcp");
    assert.equal(tcp.key.reporter, "source");
    assert.deepEqual([tcp.key.srcWorkload, tcp.key.dstNamespace, tcp.key.dstService, tcp.key.dstWorkload], ["reviews-v2-a", "db", "mysql", ""]);
    assert.deepEqual(Array.from(tcp.vals).slice(0, 5), [2, 1, 500, 7000, 0]);
    assert.equal(tcp.buckets, undefined);

    // Inbound saturation is the proxy's own: whatever peer it names is ignored.
    assert.equal(satIn.key.reporter, "destination");
    assert.deepEqual([satIn.key.srcNamespace, satIn.key.srcService, satIn.key.dstService, satIn.key.dstWorkload], ["", "", "reviews", "reviews-v2-a"]);
    // Outbound saturation is per peer service: the peer's workload and version are dropped.
    assert.equal(satOut.key.reporter, "source");
    assert.deepEqual([satOut.key.dstNamespace, satOut.key.dstService, satOut.key.dstWorkload, satOut.key.dstVersion], ["default", "ratings", "", ""]);
    assert.deepEqual(Array.from(satOut.vals).slice(0, 5), [2, 2, 10, 1, 1]);
  });

  test("a missing peer and index 0 are unknown, and an empty delta is fine", () => {
    const rows = decodeDelta(SENDER, bad((d) => {
      delete req(d).peer;
      req(d, 1).peer = { namespace: 0, service: 0, workload: 0, version: 0 };
    }));
    assert.deepEqual([rows[0]!.key.srcNamespace, rows[0]!.key.srcService, rows[0]!.key.srcWorkload], ["", "", ""]);
    assert.equal(rows[1]!.key.dstService, "");
    assert.deepEqual(decodeDelta(SENDER, { sequence: 1, intervalMs: 1000, strings: [], requests: [], tcp: [], saturation: [] }), []);
  });

  test("the string table: indices in range, index 0 empty, entries and table bounded", () => {
    refused(bad((d) => (req(d).peer!.service = 10)), "requests[0].peer.service", /string index 10 out of range \(table has 10\)/);
    refused(bad((d) => (req(d, 1).route = 99)), "requests[1].route", /string index 99 out of range/);
    refused(bad((d) => (d.tcp[0]!.peer!.namespace = 50)), "tcp[0].peer.namespace", /out of range/);
    refused(bad((d) => (d.strings[0] = "default")), "strings[0]", /must be the empty string/);
    refused(bad((d) => (d.strings[3] = "x".repeat(254))), "strings[3]", /254 characters; at most 253/);
    refused(bad((d) => (d.strings = ["", ...Array.from({ length: DELTA_LIMITS.strings }, (_, i) => `s${i}`)])), "strings", /20001 entries; at most 20000/);
  });

  test("too many rows of one kind are refused", () => {
    refused(bad((d) => (d.requests = Array.from({ length: DELTA_LIMITS.rowsPerKind + 1 }, () => req(good())))), "requests", /5001 rows; at most 5000/);
    refused(bad((d) => (d.tcp = Array.from({ length: DELTA_LIMITS.rowsPerKind + 1 }, () => d.tcp[0]!))), "tcp", /5001 rows/);
    refused(bad((d) => (d.saturation = Array.from({ length: DELTA_LIMITS.rowsPerKind + 1 }, () => d.saturation[0]!))), "saturation", /5001 rows/);
  });

  test("the histogram must hold exactly the requests by_class counts", () => {
    refused(bad((d) => (req(d).latencyCounts = [3, 3])), "requests[0].latency_counts", /histogram holds 6 requests but by_class counts 5/);
    refused(bad((d) => (req(d).byClass = [0, 0, 5, 0, 0, 1])), "requests[0].latency_counts", /holds 5 requests but by_class counts 6/);
    refused(bad((d) => ((req(d).latencyBuckets = []), (req(d).latencyCounts = []))), "requests[0].latency_counts", /holds 0 requests/);
    refused(bad((d) => (req(d).latencyCounts = [5])), "requests[0].latency_counts", /1 counts for 2 buckets/);
    refused(bad((d) => (req(d).latencyCounts = [-1, 6])), "requests[0].latency_counts[0]", /-1 is not a count/);
  });

  test("bucket indices must exist and ascend, each once", () => {
    refused(bad((d) => (req(d).latencyBuckets = [3, 40])), "requests[0].latency_buckets[1]", /bucket 40 does not exist \(0 to 39\)/);
    refused(bad((d) => (req(d).latencyBuckets = [-1, 3])), "requests[0].latency_buckets[0]", /bucket -1 does not exist/);
    refused(bad((d) => (req(d).latencyBuckets = [1.5, 3])), "requests[0].latency_buckets[0]", /bucket 1.5 does not exist/);
    refused(bad((d) => (req(d).latencyBuckets = [20, 10])), "requests[0].latency_buckets[1]", /ascending order, each once/);
    refused(bad((d) => (req(d).latencyBuckets = [10, 10])), "requests[0].latency_buckets[1]", /ascending order/);
    assert.equal(decodeDelta(SENDER, bad((d) => (req(d).latencyBuckets = [0, 39]))).length, 5, "the first and the overflow bucket exist");
  });

  test("counts must be finite, non-negative and not huge", () => {
    refused(bad((d) => (req(d).byClass[2] = -4)), "requests[0].by_class[2]", /-4 is not a count \(0 to 1000000000000000\)/);
    refused(bad((d) => (req(d).latencySumMs = Number.NaN)), "requests[0].latency_sum_ms", /NaN is not a count/);
    refused(bad((d) => (req(d).requestBytes = 1e16)), "requests[0].request_bytes", /is not a count/);
    refused(bad((d) => (req(d).responseBytes = Number.POSITIVE_INFINITY)), "requests[0].response_bytes", /Infinity is not a count/);
    refused(bad((d) => (req(d, 1).grpcErrors = -1)), "requests[1].grpc_errors", /not a count/);
    refused(bad((d) => (d.tcp[0]!.sentBytes = -1)), "tcp[0].sent_bytes", /not a count/);
    refused(bad((d) => (d.tcp[0]!.opened = Number.NaN)), "tcp[0].opened", /not a count/);
    refused(bad((d) => (d.saturation[1]!.poolLimit = 1e300)), "saturation[1].pool_limit", /not a count/);
    refused(bad((d) => (req(d).byClass = [0, 0, 5, 0, 0, 0, 0])), "requests[0].by_class", /7 entries; at most 6/);
  });

  test("mTLS and gRPC errors cannot exceed the row's requests (connections for TCP)", () => {
    refused(bad((d) => (req(d).mtlsRequests = 6)), "requests[0].mtls_requests", /6 is more than the 5/);
    refused(bad((d) => (req(d, 1).grpcErrors = 4)), "requests[1].grpc_errors", /4 is more than the 3/);
    refused(bad((d) => (d.tcp[0]!.mtlsOpened = 3)), "tcp[0].mtls_opened", /3 is more than the 2/);
  });

  test("direction and protocol must be known", () => {
    refused(bad((d) => (req(d).direction = Direction.DIRECTION_UNSPECIFIED)), "requests[0].direction", /must be OUTBOUND or INBOUND, not 0/);
    refused(bad((d) => (req(d, 1).direction = Direction.UNRECOGNIZED)), "requests[1].direction", /not -1/);
    refused(bad((d) => (d.tcp[0]!.direction = 7 as Direction)), "tcp[0].direction", /not 7/);
    refused(bad((d) => (d.saturation[1]!.direction = Direction.DIRECTION_UNSPECIFIED)), "saturation[1].direction", /must be OUTBOUND or INBOUND/);
    refused(bad((d) => (req(d).protocol = TrafficProtocol.TRAFFIC_PROTOCOL_TCP)), "requests[0].protocol", /must be HTTP or GRPC, not 3/);
    refused(bad((d) => (req(d).protocol = TrafficProtocol.TRAFFIC_PROTOCOL_UNSPECIFIED)), "requests[0].protocol", /not 0/);
  });
});

describe("LiveTelemetry.delta", () => {
  test("takes good deltas into the window and counts refusals per field, row indices folded", () => {
    const clock = new TestClock(T0);
    const live = new LiveTelemetry({ now: clock.now }, silentLogger);
    assert.equal(live.delta(SENDER, good()), undefined);
    assert.match(live.delta(SENDER, bad((d) => (req(d, 1).peer!.service = 99)))!, /^requests\[1\]\.peer\.service: string index 99/);
    assert.ok(live.delta(SENDER, bad((d) => (req(d, 0).peer!.service = 99))));
    assert.ok(live.delta(SENDER, bad((d) => (d.strings[0] = "x"))));
    clock.set(T0 + 1);
    const st = live.stats();
    assert.equal(st.deltasAccepted, 1);
    assert.equal(st.rowsAccepted, 5);
    assert.equal(st.deltasRejected, 3);
    assert.deepEqual(st.rejectedBy, { "requests[].peer.service": 2, "strings[]": 1 });
    assert.equal(st.rowsFromReplicas, 0);
    assert.equal(live.window.secondsIn(T0, T0 + 1)[0]!.keys.length, 5, "only the good delta's rows are in the window");
  });
});
