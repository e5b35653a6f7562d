import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { parseResource } from "@trellis/config";
import type { Resource, ResourceInput } from "@trellis/config";
import { ConfigDiscoveryServer } from "../config-discovery-server";
import { FakeProxy, rawStream, sleep, waitFor } from "./fake-proxy";
import { MemoryConfigSource, MemoryEndpointRegistry, MemoryStatusSink } from "./memory-ports";

// Real gRPC: the server listens on 127.0.0.1:0 and fake proxies are real grpc-js clients.
// ConfigSource, EndpointRegistry and SyncStatusSink are in-memory stand-ins (memory-ports.ts)
// for the Postgres-backed implementations, which are tested against PostgreSQL elsewhere.

const r = (input: ResourceInput): Resource => parseResource(input);
const svc = (name: string, extra: Record<string, unknown> = {}) => r({ kind: "Service", metadata: { name }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], ...extra } });
const route = (host: string, timeout: string) => r({ kind: "Route", metadata: { name: host }, spec: { hosts: [host], http: [{ route: [{ destination: { host } }], timeout }] } });
const baseMesh = () => [svc("productpage", { egress: ["reviews"] }), svc("reviews"), svc("ratings"), route("reviews", "1s"), route("ratings", "1s")];

const QUIET = 20;
const MAX_DELAY = 80;
const GRACE = 150;

let source: MemoryConfigSource;
let registry: MemoryEndpointRegistry;
let sink: MemoryStatusSink;
let server: ConfigDiscoveryServer;
let port: number;
const proxies: FakeProxy[] = [];

function proxy(): FakeProxy {
  const p = new FakeProxy(port);
  proxies.push(p);
  return p;
}

/** A proxy that said hello and acknowledged its first snapshot. */
async function synced(workload: string, service: string, labels: Record<string, string> = {}): Promise<{ p: FakeProxy; version: string }> {
  const p = proxy();
  p.hello({ workload, service, labels });
  const s = await p.snapshot(1);
  p.ack(s.version);
  await waitFor(`${workload} SYNCED`, () => server.status().find((x) => x.proxyId === `default/${workload}`)?.state === "SYNCED");
  return { p, version: s.version };
}

const statusOf = (id: string) => server.status().find((s) => s.proxyId === id);

/** Lets pushes caused by earlier hellos (new endpoints) arrive and acknowledges the latest of each proxy. */
async function settle(...ps: FakeProxy[]): Promise<void> {
  await sleep(MAX_DELAY + 100);
  for (const p of ps) {
    const all = p.snapshots();
    const last = all[all.length - 1];
    if (last) p.ack(last.version);
  }
  await waitFor("every proxy SYNCED", () => server.status().every((s) => s.state === "SYNCED"));
}

beforeEach(async () => {
  source = new MemoryConfigSource(baseMesh());
  registry = new MemoryEndpointRegistry();
  sink = new MemoryStatusSink();
  server = new ConfigDiscoveryServer({ source, registry, statusSink: sink, replicaId: "replica-a", quietMs: QUIET, maxDelayMs: MAX_DELAY, disconnectGraceMs: GRACE, statusFlushMs: 20 });
  port = await server.listen("127.0.0.1:0");
});

afterEach(async () => {
  for (const p of proxies.splice(0)) p.cancel();
  await server.close();
});

describe("ConfigDiscoveryServer over real gRPC", () => {
  test("hello → a snapshot for that proxy; ACK → SYNCED", async () => {
    const p = proxy();
    p.hello({ workload: "reviews-v1-a", service: "reviews", labels: { version: "v1" }, address: "10.1.0.1" });
    const s = await p.snapshot(1);
    const msg = p.received[0]?.message;
    assert.equal(msg?.$case === "snapshot" && msg.value.contentType, "application/vnd.trellis.snapshot.v1+json");
    assert.equal(msg?.$case === "snapshot" && msg.value.version, s.version);
    assert.deepEqual(s.proxy, { id: "default/reviews-v1-a", service: "reviews", namespace: "default", labels: { version: "v1" } });
    assert.deepEqual(registry.calls, ["register default/reviews-v1-a"]);
    await waitFor("lastSentVersion", () => statusOf("default/reviews-v1-a")?.lastSentVersion === s.version);
    assert.equal(statusOf("default/reviews-v1-a")?.state, "STALE", "sent, not yet acknowledged");

    p.ack(s.version);
    const st = await waitFor("SYNCED", () => (statusOf("default/reviews-v1-a")?.state === "SYNCED" ? statusOf("default/reviews-v1-a") : undefined));
    assert.equal(st.lastAckedVersion, s.version);
    assert.ok(st.lastAckedAt && st.lastSentAt && st.connectedAt);
    await waitFor("the sink to record SYNCED", () => sink.batches.flat().some((x) => x.proxyId === "default/reviews-v1-a" && x.state === "SYNCED"));
  });

  test("NACK → NACKED with the reason; the acknowledged version is kept and the refused one not resent", async () => {
    const { p, version: v1 } = await synced("reviews-v1-a", "reviews");
    source.set([...baseMesh().filter((x) => x.metadata.name !== "reviews" || x.kind !== "Route"), route("reviews", "3s")]);
    server.notifyChanged();
    const s2 = await p.snapshot(2);
    assert.notEqual(s2.version, v1);
    p.nack(s2.version, "outbound.hosts[1].routes[0]: unsupported retry policy");
    const st = await waitFor("NACKED", () => (statusOf("default/reviews-v1-a")?.state === "NACKED" ? statusOf("default/reviews-v1-a") : undefined));
    assert.equal(st.lastNackVersion, s2.version);
    assert.equal(st.lastNackReason, "outbound.hosts[1].routes[0]: unsupported retry policy");
    assert.equal(st.lastAckedVersion, v1, "the proxy keeps serving what it last acknowledged");

    server.notifyChanged();
    await sleep(MAX_DELAY + 100);
    assert.equal(p.snapshots().length, 2, "the refused version is not sent again");
    assert.equal(p.end, undefined, "the stream stays open after a NACK");
  });

  test("a burst of 20 notifications → one push per proxy", async () => {
    const a = await synced("reviews-v1-a", "reviews");
    const b = await synced("ratings-a", "ratings");
    await settle(a.p, b.p); // a got a second snapshot: b's endpoint
    const before = [a.p.snapshots().length, b.p.snapshots().length];
    source.set([...baseMesh(), svc("details")]);
    for (let i = 0; i < 20; i++) {
      server.notifyChanged();
      if (i % 5 === 0) await sleep(2);
    }
    await sleep(MAX_DELAY + 100);
    assert.deepEqual([a.p.snapshots().length, b.p.snapshots().length], [before[0]! + 1, before[1]! + 1]);
  });

  test("an unchanged snapshot is not pushed, nor one for a proxy an edit does not concern", async () => {
    const pp = await synced("productpage-a", "productpage"); // egress: reviews only
    const rv = await synced("reviews-v1-a", "reviews");
    await settle(pp.p, rv.p); // productpage got a second snapshot: the reviews endpoint
    const before = [pp.p.snapshots().length, rv.p.snapshots().length] as const;
    server.notifyChanged(); // nothing changed at all
    await sleep(MAX_DELAY + 100);
    assert.deepEqual([pp.p.snapshots().length, rv.p.snapshots().length], before);

    source.set([...baseMesh().filter((x) => !(x.kind === "Route" && x.metadata.name === "ratings")), route("ratings", "9s")]);
    server.notifyChanged();
    await rv.p.snapshot(before[1] + 1); // reviews sees every host, ratings' route included
    await sleep(MAX_DELAY + 100);
    assert.equal(pp.p.snapshots().length, before[0], "productpage's egress excludes ratings");
    assert.equal(statusOf("default/productpage-a")?.state, "SYNCED");
  });

  test("a proxy that already holds the current version (last_version) gets no snapshot and is SYNCED", async () => {
    const first = await synced("reviews-v1-a", "reviews");
    first.p.cancel();
    const again = proxy();
    again.hello({ workload: "reviews-v1-a", service: "reviews", address: "10.9.9.9", lastVersion: "0000000000000000" });
    const s = await again.snapshot(1); // a different version: sent
    again.ack(s.version);
    again.cancel();
    const restored = proxy();
    restored.hello({ workload: "reviews-v1-a", service: "reviews", address: "10.9.9.9", lastVersion: s.version });
    await waitFor("SYNCED without a send", () => statusOf("default/reviews-v1-a")?.lastAckedVersion === s.version && statusOf("default/reviews-v1-a")?.lastSentVersion === null);
    await sleep(MAX_DELAY + 100);
    assert.equal(restored.received.length, 0);
    assert.equal(statusOf("default/reviews-v1-a")?.state, "SYNCED");
  });

  test("protocol errors close only the offending stream, with a Goodbye and the reason", async () => {
    const healthy = await synced("reviews-v1-a", "reviews");
    const cases: { name: string; start: (p: FakeProxy) => void | Promise<void>; code: grpc.status; goodbye: string }[] = [
      { name: "ACK before Hello", start: (p) => p.ack("abc"), code: grpc.status.FAILED_PRECONDITION, goodbye: "TRELLIS_HELLO_REQUIRED" },
      { name: "empty message", start: (p) => void p.call.write({}), code: grpc.status.INVALID_ARGUMENT, goodbye: "TRELLIS_EMPTY_MESSAGE" },
      { name: "invalid Hello", start: (p) => p.hello({ workload: "x-1", service: "Not_A_Label", address: "" }), code: grpc.status.INVALID_ARGUMENT, goodbye: "TRELLIS_INVALID_HELLO" },
      {
        name: "second Hello",
        start: async (p) => {
          p.hello({ workload: "ratings-a", service: "ratings" });
          await p.snapshot(1);
          p.hello({ workload: "ratings-a", service: "ratings" });
        },
        code: grpc.status.FAILED_PRECONDITION,
        goodbye: "TRELLIS_DUPLICATE_HELLO",
      },
      {
        name: "ACK of a version never sent",
        start: async (p) => {
          p.hello({ workload: "ratings-b", service: "ratings" });
          await p.snapshot(1);
          p.ack("ffffffffffffffff");
        },
        code: grpc.status.FAILED_PRECONDITION,
        goodbye: "TRELLIS_UNKNOWN_VERSION",
      },
    ];
    for (const c of cases) {
      const p = proxy();
      await c.start(p);
      const end = await p.ended();
      assert.equal(end.code, c.code, c.name);
      assert.equal(p.goodbye()?.code, c.goodbye, c.name);
      assert.equal(p.goodbye()?.reason, end.details, `${c.name}: the Goodbye carries the reason`);
    }
    const invalid = proxies[3]?.goodbye()?.reason ?? "";
    assert.match(invalid, /hello\.service: must be a DNS-1123 label/);
    assert.match(invalid, /hello\.address: must not be empty/);

    // Bytes that are not a ProxyMessage at all.
    const raw = rawStream(port);
    const got: unknown[] = [];
    raw.call.on("data", (m) => got.push(m));
    const rawEnd = new Promise<grpc.ServiceError>((resolve) => raw.call.on("error", resolve));
    raw.call.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    const err = await rawEnd;
    raw.client.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /could not decode a ProxyMessage/);
    assert.equal(got.length, 1, "a Goodbye came first");

    // The healthy stream is unaffected and still receives pushes.
    source.set([...baseMesh(), svc("details")]);
    server.notifyChanged();
    const s2 = await healthy.p.snapshot(2);
    healthy.p.ack(s2.version);
    await waitFor("healthy proxy SYNCED on the new version", () => statusOf("default/reviews-v1-a")?.lastAckedVersion === s2.version);
    assert.equal(healthy.p.end, undefined);
  });

  test("a second proxy's snapshot includes the first proxy's endpoint, and the first learns of the second", async () => {
    const a = await synced("reviews-v1-a", "reviews", { version: "v1" });
    const b = proxy();
    b.hello({ workload: "productpage-a", service: "productpage", address: "10.2.0.1" });
    const sb = await b.snapshot(1);
    const cluster = sb.outbound.hosts.find((h) => h.host === "reviews.default")?.clusters.find((c) => c.name === "outbound|9080||reviews.default");
    assert.deepEqual(cluster?.endpoints.map((e) => [e.address, e.labels]), [[registry.endpoints.get("default/reviews-v1-a")?.endpoint.address, { version: "v1" }]]);
    const sa2 = await a.p.snapshot(2);
    const pp = sa2.outbound.hosts.find((h) => h.host === "productpage.default")?.clusters[0]?.endpoints.map((e) => e.address);
    assert.deepEqual(pp, ["10.2.0.1"]);
  });

  test("a stream's end removes its endpoint after the grace period, unless the proxy reconnects meanwhile", async () => {
    const watcher = await synced("productpage-a", "productpage");
    const leaving = await synced("reviews-v1-a", "reviews");
    const returning = await synced("reviews-v2-a", "reviews");
    const reviewsEndpoints = (n: number) => watcher.p.snapshot(n).then((s) => s.outbound.hosts.find((h) => h.host === "reviews.default")?.clusters[0]?.endpoints.length);
    const seen = watcher.p.snapshots().length;
    assert.equal(await reviewsEndpoints(seen), 2);

    leaving.p.cancel();
    returning.p.cancel();
    await waitFor("both disconnected", () => server.status().length === 1);
    assert.ok(sink.batches.length > 0);
    await waitFor("disconnect reported to the sink", () => sink.batches.flat().some((s) => s.proxyId === "default/reviews-v1-a" && s.disconnectedAt !== null));
    assert.equal(registry.endpoints.size, 3, "kept during the grace period");
    const back = proxy();
    back.hello({ workload: "reviews-v2-a", service: "reviews" });
    await back.snapshot(1);

    await waitFor("endpoint removed after the grace period", () => !registry.endpoints.has("default/reviews-v1-a"), GRACE + 1000);
    await sleep(GRACE);
    assert.ok(registry.endpoints.has("default/reviews-v2-a"), "reconnected within the grace period: kept");
    assert.ok(!registry.calls.includes("disconnected default/reviews-v2-a"));
    const latest = await waitFor("a snapshot with one reviews endpoint", () => {
      const all = watcher.p.snapshots();
      const last = all[all.length - 1];
      return last?.outbound.hosts.find((h) => h.host === "reviews.default")?.clusters[0]?.endpoints.length === 1 ? last : undefined;
    });
    assert.ok(latest);
  });

  test("close() sends every proxy a Goodbye and ends its stream with UNAVAILABLE", async () => {
    const { p } = await synced("reviews-v1-a", "reviews");
    await server.close();
    const end = await p.ended();
    assert.equal(end.code, grpc.status.UNAVAILABLE);
    assert.equal(p.goodbye()?.code, "TRELLIS_SHUTTING_DOWN");
  });

  test("setTaps sends TapControl to every connected proxy and to each that connects while taps run", async () => {
    const { p } = await synced("reviews-v1-a", "reviews");
    const tapsOf = (x: FakeProxy) => x.received.flatMap((m) => (m.message?.$case === "tap" ? [m.message.value.taps.map((t) => t.id)] : []));
    const spec = { id: "r1.abc", sampleRate: 1, maxPerSecond: 10, ttlMs: 15_000 };
    server.setTaps([spec]);
    await waitFor("TapControl on the connected proxy", () => tapsOf(p).length === 1);
    const late = proxy();
    late.hello({ workload: "productpage-v1-a", service: "productpage" });
    await waitFor("TapControl on the proxy that connected later", () => tapsOf(late).length === 1);
    assert.deepEqual(tapsOf(late), [["r1.abc"]]);
    server.setTaps([]);
    await waitFor("the empty list (stop) on both", () => tapsOf(p).length === 2 && tapsOf(late).length === 2);
    assert.deepEqual(tapsOf(p)[1], []);
  });
});
