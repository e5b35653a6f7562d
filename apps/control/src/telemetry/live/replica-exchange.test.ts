import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import type { IngestRow } from "./live-window";
import { silentLogger } from "@trellis/config/log";
import { createTestDatabase } from "../../../test/helpers/pg";
import { ReplicaExchange, decodeChunk, encodeChunks } from "./replica-exchange";
import { httpRow, satRow, tcpRow } from "./test-rows";

/** Names that do not compress away, so many rows need many chunks. */
const noise = (i: number, what: string) => `${what}-${createHash("sha256").update(`${what}${i}`).digest("hex").slice(0, 20)}`;

function manyRows(n: number): IngestRow[] {
  return Array.from({ length: n }, (_, i) => {
    const src = { namespace: noise(i % 7, "ns"), service: noise(i, "svc"), workload: noise(i, "wl"), version: `v${i % 3}` };
    const dst = { namespace: "default", service: noise(i + 1, "svc"), workload: noise(i + 1, "wl"), version: "v1" };
    if (i % 5 === 3) return tcpRow("source", src, dst, { opened: i, sent: i * 1000.5, received: 7 });
    if (i % 5 === 4) return satRow("destination", src, dst, { inFlight: i % 11, poolActive: 2, poolLimit: 100 });
    return httpRow(i % 2 ? "source" : "destination", src, dst, { kind: i % 3 ? "http" : "grpc", route: i % 4 ? "" : noise(i, "route"), byClass: [i % 2, 0, i, 0, 1, i % 3], grpcErrors: i % 2, latencyMs: [0.05, 3 + (i % 50), 1e7], requestBytes: 1e12 + i });
  });
}

/** A row as plain data, to compare what went in with what came out. */
const plain = (r: IngestRow) => ({ key: r.key, vals: Array.from(r.vals), buckets: r.buckets ? Array.from(r.buckets) : undefined, counts: r.counts ? Array.from(r.counts) : undefined });

const VALS = new Array<number>(12).fill(1);
const KEY = ["source", "http", "default", "productpage", "productpage-a", "v1", "default", "reviews", "", "", ""];
const wire = (w: unknown) => deflateRawSync(JSON.stringify(w)).toString("base64");

describe("replica exchange chunks", () => {
  test("many rows split into payloads under NOTIFY's limit that decode to exactly the rows", () => {
    const rows = manyRows(3000);
    const chunks = encodeChunks("replica-a", rows);
    assert.ok(chunks.length > 5, `${chunks.length} chunks`);
    for (const c of chunks) assert.ok(c.length <= 7800, `a payload of ${c.length} bytes`);
    const back: IngestRow[] = [];
    for (const c of chunks) {
      const d = decodeChunk(c);
      assert.equal(d.origin, "replica-a");
      back.push(...d.rows);
    }
    assert.deepEqual(back.map(plain), rows.map((r) => plain(r.buckets && r.buckets.length === 0 ? { key: r.key, vals: r.vals } : r)));
  });

  test("no rows, no chunks; one row, one chunk", () => {
    assert.deepEqual(encodeChunks("a", []), []);
    const one = manyRows(1);
    const chunks = encodeChunks("a", one);
    assert.equal(chunks.length, 1);
    assert.deepEqual(decodeChunk(chunks[0]!).rows.map(plain), one.map(plain));
  });

  test("garbage is refused", () => {
    assert.throws(() => decodeChunk("this is not base64 deflate"));
    assert.throws(() => decodeChunk(Buffer.from("hello").toString("base64")));
    assert.throws(() => decodeChunk(deflateRawSync("{not json").toString("base64")));
    assert.throws(() => decodeChunk(wire(null)));
    assert.throws(() => decodeChunk(wire({ o: 1, r: [] })), /not a telemetry chunk/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: {} })), /not a telemetry chunk/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [42] })));
    assert.throws(() => decodeChunk(deflateRawSync(Buffer.alloc(2 << 20, 32)).toString("base64")), "inflating past 1 MiB is refused");
  });

  test("malformed keys are refused", () => {
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY.slice(0, 10), VALS]] })), /bad series key/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[[...KEY, ""], VALS]] })), /bad series key/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY.map((k, i) => (i === 3 ? 7 : k)), VALS]] })), /bad series key/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY.map((k, i) => (i === 3 ? "x".repeat(254) : k)), VALS]] })), /bad series key/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[["both", ...KEY.slice(1)], VALS]] })), /bad reporter/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[["source", "udp", ...KEY.slice(2)], VALS]] })), /bad kind/);
  });

  test("values must be 12 finite non-negative numbers", () => {
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY, [...VALS.slice(1), -1]]] })), /bad values/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY, VALS.slice(1)]] })), /bad values/);
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY, [...VALS.slice(1), null]]] })), /bad values/, "NaN and Infinity arrive as null");
    assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY, [...VALS.slice(1), "1"]]] })), /bad values/);
  });

  test("histograms must pair existing buckets with counts", () => {
    const ok = decodeChunk(wire({ o: "a", r: [[KEY, VALS, [0, 39], [2, 3]]] }));
    assert.deepEqual(ok.rows[0]!.buckets, [0, 39]);
    for (const [buckets, counts] of [
      [[40], [1]],
      [[-1], [1]],
      [[1.5], [1]],
      [[1, 2], [1]],
      [[1], "x"],
      [[1], [-1]],
      [[1], [null]],
      [[1], ["1"]],
    ]) {
      assert.throws(() => decodeChunk(wire({ o: "a", r: [[KEY, VALS, buckets, counts]] })), /bad histogram/, `buckets ${JSON.stringify(buckets)}, counts ${JSON.stringify(counts)}`);
    }
  });
});

describe("replica exchange between replicas [postgres]", () => {
  const until = async (what: string, ok: () => boolean, ms = 5_000) => {
    for (const deadline = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  };

  test("a lone replica sends nothing; once another says hello, each gets the other's rows", async (t) => {
    const db = await createTestDatabase("trellis_exchange");
    const received = { a: [] as IngestRow[], b: [] as IngestRow[] };
    const a = new ReplicaExchange(db.url, "replica-a", (rows) => received.a.push(...rows), silentLogger);
    const b = new ReplicaExchange(db.url, "replica-b", (rows) => received.b.push(...rows), silentLogger);
    t.after(async () => {
      await a.close();
      await b.close();
      await db.drop();
    });
    await a.start();
    a.add(manyRows(5));
    await new Promise((r) => setTimeout(r, 1300)); // past a flush
    assert.equal(a.hasPeers, false);
    assert.equal(a.counters.chunksSent, 0, "nobody listens: nothing summed, nothing sent");

    await b.start(); // says hello; a answers
    await until("both replicas to know each other", () => a.hasPeers && b.hasPeers);
    const rows = manyRows(5);
    a.add(rows);
    b.add(manyRows(3));
    await until("each replica to get the other's rows", () => received.b.length === 5 && received.a.length === 3);
    assert.deepEqual(received.b.map((r) => r.key).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))), rows.map((r) => r.key).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))));
    assert.ok(a.counters.chunksSent > 0);
  });
});
