import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { ConfigDiscoveryClient } from "@trellis/proto";
import type { ControlMessage, ProxyMessage } from "@trellis/proto";
import { echo, startHttpApp } from "./helpers/apps";
import { eventually } from "./helpers/client";
import type { TestServer } from "./helpers/apps";
import { sessionFor } from "../../control/test/helpers/test-auth";
import { applyResources, spawnControlPlane, trpcQuery, waitForProxyStatus } from "./helpers/control-plane";
import type { ControlProcess } from "./helpers/control-plane";
import { createTestDatabase } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { spawnProxy } from "./helpers/proxy-process";
import type { ProxyProcess } from "./helpers/proxy-process";

/**
 * The live graph end to end: real trellis-proxy processes send their per-second deltas on
 * their config streams to a real control plane (Postgres), real HTTP traffic flows through
 * them, and the graph API shows the edges the traffic took with the rates and error ratios the
 * apps themselves counted.
 */

interface Signals {
  requests: number;
  rps: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  byClass: number[];
}
interface Edge {
  id: string;
  source: string;
  target: string;
  protocol: string;
  traffic: Signals | null;
  health: string;
  routes: string[];
}
interface Node {
  id: string;
  type: string;
  parent?: string;
  health: string;
  badges: string[];
  idle: boolean;
}
interface Graph {
  nodes: Node[];
  edges: Edge[];
}

function get(port: number, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", headers: { host, ...headers }, agent: keepAlive }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });


const svc = (name: string) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } });
const resources = [
  svc("productpage"),
  svc("reviews"),
  svc("details"),
  svc("ratings"),
  { kind: "DestinationPolicy", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }], outlierDetection: { consecutive5xxErrors: 1000 } } },
  { kind: "Route", metadata: { name: "reviews", namespace: "default" }, spec: { hosts: ["reviews"], http: [{ name: "reviews-split", route: [{ destination: { host: "reviews", subset: "v1" }, weight: 50 }, { destination: { host: "reviews", subset: "v2" }, weight: 50 }] }] } },
];

describe("live graph from real proxies' deltas", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  let replicaB: ControlProcess;
  const apps: TestServer[] = [];
  const proxies: ProxyProcess[] = [];
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-live-graph-"));
  let productpage: ProxyProcess;
  let reviewsV1: ProxyProcess;
  let v2Failures = 0;
  let v2Count = 0;

  before(async () => {
    db = await createTestDatabase();
    cp = await spawnControlPlane({ DATABASE_URL: db.url, TRELLIS_REPLICA_ID: "replica-a" });
    replicaB = await spawnControlPlane({ DATABASE_URL: db.url, TRELLIS_REPLICA_ID: "replica-b" });
    await applyResources(cp.api, resources, "bookinfo slice");
    const v1 = await startHttpApp("reviews-v1");
    // reviews v2 fails every other request: the graph's error ratio must match what the app did.
    const v2 = await startHttpApp("reviews-v2", (req, res, body) => {
      v2Count++;
      if (v2Count % 2 === 0) {
        v2Failures++;
        return echo("reviews-v2", req, res, body, 503);
      }
      echo("reviews-v2", req, res, body);
    });
    const details = await startHttpApp("details-v1");
    apps.push(v1, v2, details);
    const common = (dir: string, target = cp.grpcTarget) => ["--control-plane", target, "--namespace", "default", "--data-dir", path.join(dataDir, dir)];
    reviewsV1 = await spawnProxy(["--service", "reviews", "--workload", "reviews-v1", "--version", "v1", "--app-port", String(v1.port), ...common("r1")]);
    // Half the mesh talks to the other replica: its graph must still be complete.
    proxies.push(reviewsV1, await spawnProxy(["--service", "reviews", "--workload", "reviews-v2", "--version", "v2", "--app-port", String(v2.port), ...common("r2", replicaB.grpcTarget)]));
    proxies.push(await spawnProxy(["--service", "details", "--workload", "details-v1", "--version", "v1", "--app-port", String(details.port), ...common("d1", replicaB.grpcTarget)]));
    productpage = await spawnProxy(["--service", "productpage", "--workload", "productpage-v1", "--version", "v1", "--app-port", "1", ...common("pp")]);
    proxies.push(productpage);
    for (const id of ["reviews-v1", "reviews-v2", "details-v1", "productpage-v1"]) {
      await waitForProxyStatus(cp.api, `default/${id}`, (s) => s.state === "SYNCED", 30_000);
      await waitForProxyStatus(replicaB.api, `default/${id}`, (s) => s.state === "SYNCED", 30_000);
    }
    // Wait until the client's snapshot routes to both reviews versions and details.
    await eventually("routable upstreams", async () => ((await get(productpage.outbound, "details")) === 200 ? true : undefined));
    v2Count = 0;
    v2Failures = 0;
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    await cp?.stop();
    await replicaB?.stop();
    for (const a of apps) await a.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const REVIEWS = 200;
  const DETAILS = 60;
  const STRANGER = 15;

  it("shows the edges the traffic took, with the apps' own request counts and error ratios, on either replica", async () => {
    let reviewsStatuses = 0;
    let reviewsErrors = 0;
    // A baseline: the readiness probes above are excluded by comparing counts, once their deltas
    // (sent every second, frozen a second later) are in.
    await new Promise((r) => setTimeout(r, 2500));
    const before = await trpcQuery<Graph>(cp.api, "graph.get", { kind: "service", windowSec: 300 });
    const baseline = (g: Graph, id: string) => g.edges.find((e) => e.id === id)?.traffic?.requests ?? 0;
    const ppDetailsBefore = baseline(before, "svc:default/productpage>svc:default/details>http");
    for (let i = 0; i < REVIEWS; i++) {
      const s = await get(productpage.outbound, "reviews");
      reviewsStatuses++;
      if (s >= 500) reviewsErrors++;
    }
    for (let i = 0; i < DETAILS; i++) assert.equal(await get(productpage.outbound, "details"), 200);
    // A caller without a sidecar straight to reviews-v1's inbound listener.
    for (let i = 0; i < STRANGER; i++) assert.equal(await get(reviewsV1.inbound, "reviews"), 200);
    assert.equal(reviewsErrors, v2Failures, "every 503 the client saw came from reviews-v2");

    for (const api of [cp.api, replicaB.api]) {
      const g = await eventually(`the graph on ${api} to count every request`, async () => {
        const g = await trpcQuery<Graph>(api, "graph.get", { kind: "service", windowSec: 300 });
        const e = g.edges.find((x) => x.id === "svc:default/productpage>svc:default/reviews>http");
        const u = g.edges.find((x) => x.id === "unknown>svc:default/reviews>http");
        const d = g.edges.find((x) => x.id === "svc:default/productpage>svc:default/details>http");
        // Each proxy's deltas arrive on their own stream (and via the other replica): wait for all three.
        return e?.traffic?.requests === reviewsStatuses && u?.traffic?.requests === STRANGER && d?.traffic?.requests === ppDetailsBefore + DETAILS ? g : undefined;
      });
      const reviews = g.edges.find((x) => x.id === "svc:default/productpage>svc:default/reviews>http")!;
      assert.equal(reviews.traffic!.errors, reviewsErrors);
      assert.ok(Math.abs(reviews.traffic!.errorRate! - reviewsErrors / reviewsStatuses) < 1e-9);
      assert.equal(reviews.health, "failure", `${reviewsErrors}/${reviewsStatuses} errors is over 10%`);
      assert.deepEqual(reviews.routes, ["reviews-split"]);
      assert.ok(reviews.traffic!.p50! > 0 && reviews.traffic!.p99! >= reviews.traffic!.p50!);
      assert.ok(Math.abs(reviews.traffic!.rps - reviewsStatuses / 300) < 0.01);
      const details = g.edges.find((x) => x.id === "svc:default/productpage>svc:default/details>http")!;
      assert.equal(details.traffic!.requests - ppDetailsBefore, DETAILS);
      assert.equal(details.traffic!.errors, 0);
      assert.equal(details.health, "healthy");
      const node = (id: string) => g.nodes.find((n) => n.id === id)!;
      assert.equal(node("svc:default/reviews").health, "failure");
      assert.deepEqual(node("svc:default/reviews").badges, ["circuit-breaker", "split"]);
      assert.equal(node("unknown").type, "unknown");
      assert.equal(node("svc:default/ratings").idle, true, "a Service without traffic is an idle node");
    }
  });

  it("workload and versioned-app graphs split the reviews edge by the version that answered", async () => {
    const w = await trpcQuery<Graph>(replicaB.api, "graph.get", { kind: "workload", windowSec: 300 });
    const toV2 = w.edges.find((e) => e.id === "wl:default/productpage-v1>wl:default/reviews-v2>http");
    const toV1 = w.edges.find((e) => e.id === "wl:default/productpage-v1>wl:default/reviews-v1>http");
    assert.ok(toV1 && toV2, `edges: ${w.edges.map((e) => e.id).join(", ")}`);
    assert.equal(toV2.traffic!.requests, v2Count);
    assert.equal(toV2.traffic!.errors, v2Failures);
    assert.equal(toV1.traffic!.errors, 0);
    // A plain GET of a live graph is answered by the control plane's fast path (serialized once
    // per graph); a batch goes through tRPC itself. The same second's graph must read the same.
    const q = { kind: "workload", windowSec: 300 };
    const auth = await sessionFor(replicaB.api);
    const same = await eventually("a plain GET and a tRPC batch within one second", async () => {
      const plain = (await (await fetch(`${replicaB.api}/trpc/graph.get?input=${encodeURIComponent(JSON.stringify(q))}`, { headers: { ...auth } })).json()) as { result: { data: Graph & { to: number } } };
      const batch = (await (await fetch(`${replicaB.api}/trpc/graph.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: q }))}`, { headers: { ...auth } })).json()) as [{ result: { data: Graph & { to: number } } }];
      return plain.result.data.to === batch[0].result.data.to ? { plain: plain.result.data, batch: batch[0].result.data } : undefined;
    });
    assert.deepEqual(same.plain, same.batch);
    const a = await trpcQuery<Graph>(cp.api, "graph.get", { kind: "app", windowSec: 300 });
    const v2Node = a.nodes.find((n) => n.id === "app:default/reviews/v2");
    assert.equal(v2Node?.parent, "box:default/reviews");
    assert.ok(a.nodes.some((n) => n.id === "box:default/reviews" && n.type === "box"));
  });

  it("golden signals per service and route, inbound and outbound", async () => {
    type Golden = { requests: Signals; saturation: { inFlight: number }; series: { rps: number }[] };
    // The reviews-v2 proxy reports inbound to the other replica; its seconds reach this one over NOTIFY.
    const inbound = await eventually("every inbound request on replica A", async () => {
      const r = await trpcQuery<Golden>(cp.api, "metrics.signals", { scope: "service", namespace: "default", name: "reviews", direction: "inbound", windowSec: 300 });
      return r.requests.requests === REVIEWS + STRANGER ? r : undefined;
    });
    // Inbound counts every caller as the reviews proxies saw them: the meshed client's and the stranger's.
    assert.equal(inbound.requests.requests, REVIEWS + STRANGER);
    assert.equal(inbound.requests.errors, v2Failures);
    assert.ok(inbound.series.length > 0 && inbound.series.some((p) => p.rps > 0));
    const outbound = await trpcQuery<Golden>(cp.api, "metrics.signals", { scope: "service", namespace: "default", name: "productpage", direction: "outbound", windowSec: 300 });
    assert.ok(outbound.requests.requests >= REVIEWS + DETAILS);
    const route = await trpcQuery<Golden>(replicaB.api, "metrics.signals", { scope: "route", namespace: "default", name: "reviews-split", windowSec: 300 });
    assert.equal(route.requests.requests, REVIEWS);
    assert.equal(route.requests.errors, v2Failures);
  });

  it("graph.watch pushes a fresh graph every second over SSE", async () => {
    const input = encodeURIComponent(JSON.stringify({ kind: "service", windowSec: 60 }));
    const ac = new AbortController();
    const res = await fetch(`${cp.api}/trpc/graph.watch?input=${input}`, { headers: { ...(await sessionFor(cp.api)), accept: "text/event-stream" }, signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const started = Date.now();
    let text = "";
    let graphs = 0;
    while (graphs < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      graphs = text.split("\n").filter((l) => l.startsWith("data:") && l.includes('"nodes"')).length;
    }
    ac.abort();
    assert.ok(graphs >= 3, `graphs pushed: ${graphs}`);
    assert.ok(Date.now() - started < 6000, "three pushes take about two seconds");
  });

  it("a malformed delta is refused with the field named, counted, and the stream stays up", async () => {
    const client = new ConfigDiscoveryClient(cp.grpcTarget, grpc.credentials.createInsecure());
    const call = client.streamConfig();
    const got: ControlMessage[] = [];
    call.on("data", (m: ControlMessage) => got.push(m));
    call.on("error", () => undefined);
    const send = (m: ProxyMessage) => call.write(m);
    send({ message: { $case: "hello", value: { workload: "rogue-1", service: "rogue", namespace: "default", labels: {}, address: "127.0.0.1", ports: [], proxyVersion: "test", lastVersion: "", inboundPort: 0 } } });
    send({
      message: {
        $case: "telemetry",
        value: { sequence: 1, intervalMs: 1000, strings: [""], requests: [{ direction: 1, peer: { namespace: 7, service: 0, workload: 0, version: 0 }, route: 0, protocol: 1, mtlsRequests: 0, byClass: [0, 0, 1], grpcErrors: 0, latencyBuckets: [3], latencyCounts: [1], latencySumMs: 1, requestBytes: 0, responseBytes: 0 }], tcp: [], saturation: [] },
      },
    });
    const rejected = await eventually("a TelemetryRejected", async () => got.find((m) => m.message?.$case === "telemetryRejected"));
    assert.match(rejected.message?.$case === "telemetryRejected" ? rejected.message.value.reason : "", /requests\[0\]\.peer\.namespace: string index 7 out of range/);
    const stats = await trpcQuery<{ deltasRejected: number; rejectedBy: Record<string, number> }>(cp.api, "metrics.liveStats");
    assert.ok(stats.deltasRejected >= 1);
    assert.ok((stats.rejectedBy["requests[].peer.namespace"] ?? 0) >= 1);
    // Still connected: the snapshot for the rogue proxy arrives on the same stream.
    await eventually("a snapshot after the refusal", async () => got.find((m) => m.message?.$case === "snapshot"));
    call.cancel();
    client.close();
  });
});
