import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyBucket, parseResource } from "@trellis/config";
import type { Endpoint, Resource, ResourceInput } from "@trellis/config";
import { LiveWindow } from "../telemetry/live/live-window";
import { T0, TestClock, httpRow, ingestSeconds, satRow, tcpRow } from "../telemetry/live/test-rows";
import type { TestSide } from "../telemetry/live/test-rows";
import { buildGraph } from "./build-graph";
import { healthOf } from "./health-appender";
import { GraphQuerySchema } from "./types";
import type { Graph, GraphEdge, GraphNode, GraphQuery } from "./types";

const r = (input: ResourceInput): Resource => parseResource(input);
const svc = (name: string, namespace = "default", extra: Record<string, unknown> = {}): Resource =>
  r({ kind: "Service", metadata: { name, namespace }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], ...extra } });
const route = (name: string, http: unknown[], namespace = "default"): Resource => r({ kind: "Route", metadata: { name, namespace }, spec: { hosts: [name], http } } as ResourceInput);

/** Bookinfo-like: productpage → reviews (v1, v2) → ratings, plus details (idle), legacy (no sidecar), mysql (TCP), an external API and shop/search. */
function resources(): Resource[] {
  return [
    svc("productpage"),
    svc("reviews"),
    svc("ratings"),
    svc("details"),
    svc("legacy", "default", { sidecar: false }),
    svc("old"),
    r({ kind: "Service", metadata: { name: "mysql", namespace: "db" }, spec: { ports: [{ name: "tcp", port: 3306, protocol: "tcp" }] } }),
    svc("search", "shop"),
    r({ kind: "ServiceEntry", metadata: { name: "stripe", namespace: "default" }, spec: { hosts: ["api.stripe.com"], ports: [{ name: "https", number: 443, protocol: "HTTPS" }] } }),
    route("reviews", [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: 90 }, { destination: { host: "reviews", subset: "v2" }, weight: 10 }] }]),
    route("ratings", [{ route: [{ destination: { host: "ratings" } }], timeout: "2s", retries: { attempts: 2 }, fault: { abort: { httpStatus: 503, percentage: 1 } } }]),
    route("details", [{ route: [{ destination: { host: "details" } }], mirror: { destination: { host: "details-shadow" } }, retries: { attempts: 0 } }]),
    // A 100/0 rule is not a split.
    route("search", [{ route: [{ destination: { host: "search" }, weight: 100 }, { destination: { host: "search", subset: "v2" }, weight: 0 }] }], "shop"),
    r({ kind: "DestinationPolicy", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", connectionPool: { http: { maxRequests: 100 } } } }),
    r({ kind: "DestinationPolicy", metadata: { name: "ratings", namespace: "default" }, spec: { host: "ratings.default", outlierDetection: {} } }),
    r({ kind: "DestinationPolicy", metadata: { name: "productpage", namespace: "default" }, spec: { host: "productpage", subsets: [{ name: "v1", labels: { version: "v1" } }] } }),
    r({ kind: "DestinationPolicy", metadata: { name: "stripe", namespace: "default" }, spec: { host: "api.stripe.com", connectionPool: { tcp: { maxConnections: 10 } } } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "ratings-only", namespace: "default" }, spec: { selector: { service: "ratings" }, rules: [{}] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "whole-shop", namespace: "shop" }, spec: { rules: [{}] } }),
  ];
}

function ep(namespace: string, service: string, workload: string, version: string, sidecar = true): Endpoint {
  return { id: `${namespace}/${workload}`, workload, service, namespace, address: "10.0.0.1", ports: [{ name: "http", port: 9080, protocol: "http" }], labels: { version }, sidecar, proxyVersion: sidecar ? "0.1.0" : "" };
}

const ENDPOINTS: Endpoint[] = [
  ep("default", "productpage", "productpage-a", "v1"),
  ep("default", "reviews", "reviews-v1-a", "v1"),
  ep("default", "reviews", "reviews-v2-a", "v2"),
  ep("default", "ratings", "ratings-a", "v1"),
  ep("default", "details", "details-a", "v1"),
  ep("default", "old", "old-a", "v1", false),
  ep("shop", "search", "search-a", "v1"),
];

const PP: TestSide = { namespace: "default", service: "productpage", workload: "productpage-a", version: "v1" };
const REVIEWS_1: TestSide = { namespace: "default", service: "reviews", workload: "reviews-v1-a", version: "v1" };
const REVIEWS_2: TestSide = { namespace: "default", service: "reviews", workload: "reviews-v2-a", version: "v2" };
const RATINGS: TestSide = { namespace: "default", service: "ratings", workload: "ratings-a", version: "v1" };
const SEARCH: TestSide = { namespace: "shop", service: "search", workload: "search-a", version: "v1" };
const UNKNOWN: TestSide = { namespace: "", service: "" };

/** Ten seconds of traffic as every proxy reports it (both sides where both have a sidecar). */
function window(): LiveWindow {
  const clock = new TestClock(T0);
  const w = new LiveWindow({ now: clock.now });
  ingestSeconds(w, clock, T0, T0 + 10, () => [
    // productpage → reviews: 90 to v1 at 10 ms, 10 to v2 at 100 ms of which 5 fail
    httpRow("source", PP, REVIEWS_1, { route: "reviews", byClass: [0, 0, 90], mtls: 90, latencyMs: 10 }),
    httpRow("source", PP, REVIEWS_2, { route: "reviews", byClass: [0, 0, 5, 0, 0, 5], mtls: 10, latencyMs: 100 }),
    httpRow("destination", PP, REVIEWS_1, { byClass: [0, 0, 90], latencyMs: 9 }),
    httpRow("destination", PP, REVIEWS_2, { byClass: [0, 0, 5, 0, 0, 5], latencyMs: 99 }),
    // reviews v2 → ratings (gRPC), 20 % errors
    httpRow("source", REVIEWS_2, RATINGS, { kind: "grpc", byClass: [0, 0, 10], grpcErrors: 2, latencyMs: 5 }),
    httpRow("destination", REVIEWS_2, RATINGS, { kind: "grpc", byClass: [0, 0, 10], grpcErrors: 2, latencyMs: 4 }),
    // a caller without a sidecar → productpage (only productpage's proxy reports it)
    httpRow("destination", UNKNOWN, PP, { byClass: [0, 0, 4], latencyMs: 30 }),
    // productpage → the external API and → legacy (no sidecar: only the caller reports, workload unknown)
    httpRow("source", PP, { namespace: "", service: "api.stripe.com" }, { byClass: [0, 0, 2], latencyMs: 300 }),
    httpRow("source", PP, { namespace: "default", service: "legacy" }, { byClass: [0, 0, 1], latencyMs: 50 }),
    // reviews v1 → mysql over TCP
    tcpRow("source", REVIEWS_1, { namespace: "db", service: "mysql" }, { opened: 3, sent: 1000, received: 4000, mtls: 3 }),
    // shop/search → reviews v1
    httpRow("source", SEARCH, REVIEWS_1, { byClass: [0, 0, 6], latencyMs: 10 }),
    httpRow("destination", SEARCH, REVIEWS_1, { byClass: [0, 0, 6], latencyMs: 9 }),
    // saturation never makes edges
    satRow("source", PP, REVIEWS_1, { inFlight: 9 }),
  ]);
  return w;
}

const query = (over: Record<string, unknown> = {}): GraphQuery => GraphQuerySchema.parse({ windowSec: 10, ...over });
const graph = (over: Record<string, unknown> = {}, w = window()): Graph => buildGraph(w, resources(), ENDPOINTS, query(over));
const node = (g: Graph, id: string): GraphNode => {
  const n = g.nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} in ${g.nodes.map((x) => x.id).join(", ")}`);
  return n;
};
const edge = (g: Graph, id: string): GraphEdge => {
  const e = g.edges.find((x) => x.id === id);
  assert.ok(e, `edge ${id} in ${g.edges.map((x) => x.id).join(", ")}`);
  return e;
};

describe("buildGraph", () => {
  test("service graph: one node per service, one edge per caller, callee and protocol", () => {
    const g = graph({ includeIdle: false });
    assert.equal(g.kind, "service");
    assert.deepEqual([g.from, g.to], [T0 * 1000, (T0 + 10) * 1000]);
    assert.deepEqual(g.edges.map((e) => e.id), [
      "svc:default/productpage>ext:api.stripe.com>http",
      "svc:default/productpage>svc:default/legacy>http",
      "svc:default/productpage>svc:default/reviews>http",
      "svc:default/reviews>svc:db/mysql>tcp",
      "svc:default/reviews>svc:default/ratings>grpc",
      "svc:shop/search>svc:default/reviews>http",
      "unknown>svc:default/productpage>http",
    ]);
    assert.deepEqual(g.nodes.map((n) => n.id), [
      "ext:api.stripe.com",
      "svc:db/mysql",
      "svc:default/legacy",
      "svc:default/productpage",
      "svc:default/ratings",
      "svc:default/reviews",
      "svc:shop/search",
      "unknown",
    ]);
    assert.deepEqual(node(g, "ext:api.stripe.com"), { ...node(g, "ext:api.stripe.com"), type: "external", label: "api.stripe.com", namespace: "", service: "api.stripe.com" });
    assert.deepEqual([node(g, "unknown").type, node(g, "unknown").namespace], ["unknown", ""]);
    assert.deepEqual(edge(g, "svc:default/productpage>svc:default/reviews>http").routes, ["reviews"]);
  });

  test("an edge is counted once when both the caller's and the callee's proxies report it", () => {
    const g = graph();
    const e = edge(g, "svc:default/productpage>svc:default/reviews>http");
    assert.equal(e.traffic!.requests, 1000, "the caller's report only");
    assert.equal(e.traffic!.rps, 100);
    assert.equal(e.traffic!.errorRate, 0.05);
    assert.equal(latencyBucket(e.traffic!.p95!), latencyBucket(100), "the caller's latencies (100 ms), not the callee's");
    assert.equal(latencyBucket(e.traffic!.p50!), latencyBucket(10));
    assert.equal(e.traffic!.mtlsShare, 1);
    assert.equal(e.tcp, null);
    assert.equal(edge(g, "unknown>svc:default/productpage>http").traffic!.rps, 4, "a caller without a sidecar: the callee's report");
    const reviews = node(g, "svc:default/reviews");
    assert.equal(reviews.inbound!.rps, 106, "productpage's 100 and search's 6");
    assert.equal(reviews.outbound!.rps, 10, "TCP is not in the request figures");
    assert.equal(node(g, "svc:default/productpage").inbound!.rps, 4);
    assert.equal(node(g, "svc:default/productpage").outbound!.rps, 103);
  });

  test("TCP edges carry TCP signals", () => {
    const e = edge(graph(), "svc:default/reviews>svc:db/mysql>tcp");
    assert.equal(e.protocol, "tcp");
    assert.equal(e.traffic, null);
    assert.deepEqual(e.tcp, { connectionsOpened: 30, connectionsPerSec: 3, bytesPerSec: 5000, mtlsShare: 1 });
    assert.equal(e.health, "healthy");
    assert.equal(node(graph(), "svc:db/mysql").inbound, null);
  });

  test("a ServiceEntry host with two labels, which the proxy reports as service.namespace, is still external", () => {
    const clock = new TestClock(T0);
    const w = new LiveWindow({ now: clock.now });
    ingestSeconds(w, clock, T0, T0 + 10, () => [httpRow("source", PP, { namespace: "com", service: "example" }, { byClass: [0, 0, 1] }), httpRow("source", PP, { namespace: "default", service: "gone" }, { byClass: [0, 0, 1] })]);
    const entry = r({ kind: "ServiceEntry", metadata: { name: "example", namespace: "default" }, spec: { hosts: ["example.com"], ports: [{ name: "http", number: 80, protocol: "HTTP" }] } });
    const g = buildGraph(w, [...resources(), entry], ENDPOINTS, query({ includeIdle: false }));
    assert.deepEqual(g.edges.map((e) => e.id), ["svc:default/productpage>ext:example.com>http", "svc:default/productpage>svc:default/gone>http"], "a deleted Service is still a service");
    assert.equal(node(g, "ext:example.com").type, "external");
  });

  test("workload graph: a node per workload; a callee whose workload is unknown stays a service node", () => {
    const g = graph({ kind: "workload", includeIdle: false });
    assert.deepEqual(g.edges.map((e) => e.id), [
      "unknown>wl:default/productpage-a>http",
      "wl:default/productpage-a>ext:api.stripe.com>http",
      "wl:default/productpage-a>svc:default/legacy>http",
      "wl:default/productpage-a>wl:default/reviews-v1-a>http",
      "wl:default/productpage-a>wl:default/reviews-v2-a>http",
      "wl:default/reviews-v1-a>svc:db/mysql>tcp",
      "wl:default/reviews-v2-a>wl:default/ratings-a>grpc",
      "wl:shop/search-a>wl:default/reviews-v1-a>http",
    ]);
    const v2 = node(g, "wl:default/reviews-v2-a");
    assert.deepEqual([v2.type, v2.label, v2.service, v2.workload, v2.version], ["workload", "reviews-v2-a", "reviews", "reviews-v2-a", "v2"]);
    assert.equal(edge(g, "wl:default/productpage-a>wl:default/reviews-v2-a>http").traffic!.errorRate, 0.5);
  });

  test("app graph: a node per service version, boxed by service", () => {
    const g = graph({ kind: "app", includeIdle: false });
    assert.ok(g.edges.some((e) => e.id === "app:default/productpage/v1>app:default/reviews/v2>http"));
    const v1 = node(g, "app:default/reviews/v1");
    const v2 = node(g, "app:default/reviews/v2");
    assert.deepEqual([v1.type, v1.label, v1.parent, v2.parent], ["app", "reviews v1", "box:default/reviews", "box:default/reviews"]);
    const box = node(g, "box:default/reviews");
    assert.deepEqual([box.type, box.label, box.service, box.namespace], ["box", "reviews", "reviews", "default"]);
    assert.equal(node(g, "app:default/productpage/v1").parent, "box:default/productpage");
    assert.ok(g.nodes.some((n) => n.id === "box:default/productpage"));
    assert.equal(node(g, "unknown").parent, undefined);
    assert.ok(!g.edges.some((e) => e.source.startsWith("box:") || e.target.startsWith("box:")), "boxes have no edges");
    // health of a box: its worst version
    assert.equal(v1.health, "healthy");
    assert.equal(v2.health, "failure");
    assert.equal(box.health, "failure");
  });

  test("namespace filter keeps edges with either end in a selected namespace", () => {
    const g = graph({ namespaces: ["shop"] });
    assert.deepEqual(g.edges.map((e) => e.id), ["svc:shop/search>svc:default/reviews>http"]);
    assert.deepEqual(g.nodes.map((n) => n.id), ["svc:default/reviews", "svc:shop/search"], "idle services only from shop");
    const db = graph({ namespaces: ["db"], includeIdle: false });
    assert.deepEqual(db.edges.map((e) => e.id), ["svc:default/reviews>svc:db/mysql>tcp"]);
    const dflt = graph({ namespaces: ["default"], includeIdle: false });
    assert.ok(dflt.edges.some((e) => e.id === "unknown>svc:default/productpage>http"));
    assert.ok(dflt.edges.some((e) => e.id === "svc:default/productpage>ext:api.stripe.com>http"));
    assert.ok(dflt.edges.some((e) => e.id === "svc:shop/search>svc:default/reviews>http"));
  });

  test("idle services and workloads appear with includeIdle, not without", () => {
    const on = graph();
    const details = node(on, "svc:default/details");
    assert.deepEqual([details.idle, details.health, details.inbound, details.outbound], [true, "idle", null, null]);
    assert.equal(node(on, "svc:default/reviews").idle, false);
    assert.ok(!graph({ includeIdle: false }).nodes.some((n) => n.idle || n.id === "svc:default/details"));
    const wl = graph({ kind: "workload" });
    assert.equal(node(wl, "wl:default/details-a").idle, true);
    const app = graph({ kind: "app" });
    assert.equal(node(app, "app:default/details/v1").idle, true);
    assert.equal(node(app, "box:default/details").health, "idle");
  });

  test("health: any error degrades, 10 % fails, thresholds can be set", () => {
    const g = graph();
    assert.equal(edge(g, "svc:default/productpage>svc:default/reviews>http").health, "degraded");
    assert.equal(edge(g, "svc:default/reviews>svc:default/ratings>grpc").health, "failure");
    assert.equal(edge(g, "svc:default/productpage>ext:api.stripe.com>http").health, "healthy");
    assert.equal(node(g, "svc:default/reviews").health, "degraded", "from what its callers saw: 50 errors in 1060");
    assert.equal(node(g, "svc:default/ratings").health, "failure");
    assert.equal(node(g, "svc:shop/search").health, "healthy", "nobody calls it: its own requests");
    const custom = graph({ health: { degraded: 0.05, failure: 0.5 } });
    assert.equal(edge(custom, "svc:default/productpage>svc:default/reviews>http").health, "healthy", "5 % is not above 5 %");
    assert.equal(edge(custom, "svc:default/reviews>svc:default/ratings>grpc").health, "degraded");
  });

  test("healthOf: thresholds at the edges", () => {
    const s = (requests: number, errorRate: number | null) => ({ requests, errorRate }) as Parameters<typeof healthOf>[0];
    const t = { degraded: 0, failure: 0.1 };
    assert.equal(healthOf(s(100, 0), t), "healthy");
    assert.equal(healthOf(s(100, 0.01), t), "degraded");
    assert.equal(healthOf(s(100, 0.0999), t), "degraded");
    assert.equal(healthOf(s(100, 0.1), t), "failure", "at the failure threshold");
    assert.equal(healthOf(s(0, null), t), "healthy");
    assert.equal(healthOf(null, t), "healthy");
    assert.equal(healthOf(s(100, 0), { degraded: 0, failure: 0 }), "healthy", "no errors never fail");
    assert.equal(GraphQuerySchema.safeParse({ health: { degraded: 0.5, failure: 0.1 } }).success, false);
  });

  test("badges from routes, destination policies, authorization and sidecars", () => {
    const g = graph();
    const badges = (id: string) => node(g, id).badges;
    assert.deepEqual(badges("svc:default/reviews"), ["circuit-breaker", "split"]);
    assert.deepEqual(badges("svc:default/ratings"), ["authorization", "circuit-breaker", "fault", "retry", "timeout"]);
    assert.deepEqual(badges("svc:default/details"), ["mirror"], "retries with 0 attempts are no retry");
    assert.deepEqual(badges("svc:default/productpage"), [], "subsets alone are no circuit breaker");
    assert.deepEqual(badges("svc:default/legacy"), ["missing-sidecar"], "declared sidecar: false");
    assert.deepEqual(badges("svc:default/old"), ["missing-sidecar"], "no endpoint runs a sidecar");
    assert.deepEqual(badges("svc:shop/search"), ["authorization"], "a namespace-wide policy; a 100/0 rule is no split");
    assert.deepEqual(badges("ext:api.stripe.com"), ["circuit-breaker"]);
    assert.deepEqual(badges("unknown"), []);
    const app = graph({ kind: "app" });
    assert.deepEqual(node(app, "app:default/reviews/v2").badges, ["circuit-breaker", "split"], "versions carry their service's badges");
  });

  test("an empty window gives only idle nodes, and a replay window its own traffic", () => {
    const w = window();
    const later = buildGraph(w, resources(), ENDPOINTS, query({ until: (T0 + 100) * 1000 }));
    assert.deepEqual(later.edges, []);
    assert.ok(later.nodes.every((n) => n.idle || n.type === "box"));
    const early = buildGraph(w, resources(), ENDPOINTS, query({ until: (T0 + 5) * 1000, windowSec: 5 }));
    assert.equal(edge(early, "svc:default/productpage>svc:default/reviews>http").traffic!.requests, 500);
  });
});
