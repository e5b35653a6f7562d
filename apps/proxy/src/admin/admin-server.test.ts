import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "../core/log";
import { ProxyMetrics } from "../telemetry/metrics";
import { recordRequest } from "../telemetry/request-record";
import { routedContext } from "../telemetry/test-context";
import { startAdminServer } from "./admin-server";
import type { AdminServer, AdminSource } from "./admin-server";
import type { ClusterStatus } from "./cluster-status";

const EJECTED_UNTIL = Date.parse("2026-01-01T00:00:30.000Z");
const clusters: ClusterStatus[] = [
  {
    name: "outbound|9080|v2|reviews.default",
    endpoints: [
      { address: "10.0.1.12", port: 15006, weight: 1, labels: { version: "v2" }, health: "healthy", activeRequests: 2, totalRequests: 40, failures: 1 },
      { address: "10.0.1.13", port: 15006, weight: 3, labels: { version: "v2" }, health: "ejected", ejectedUntil: EJECTED_UNTIL, activeRequests: 0, totalRequests: 9, failures: 5 },
    ],
  },
];

describe("admin server", () => {
  let state: { ready: boolean; reason?: string } = { ready: false, reason: "no configuration received yet" };
  let failClusters = false;
  const metrics = new ProxyMetrics();
  const source: AdminSource = {
    ready: () => state,
    metrics,
    configDump: () => ({
      version: "00000000000000a1",
      revision: 7,
      appliedAt: "2026-01-01T00:00:00.000Z",
      lastNack: { version: "00000000000000b2", reason: "outbound.hosts[0].clusters: required", at: "2026-01-01T00:00:01.000Z" },
      snapshot: {
        inbound: { rateLimits: [{ limit: { maxTokens: 10, tokensPerFill: 5 } }], authorizationPolicies: [{ rules: [{ when: [{ key: "request.headers[x-team]" }] }] }] },
        certificates: { privateKey: "-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----", key: "-----BEGIN PRIVATE KEY-----\nxyz" },
      },
    }),
    clusters: () => {
      if (failClusters) throw new Error("cluster table torn");
      return clusters;
    },
    stats: () => ({ "config.applies.ack": 3, "config.applies.nack": 1 }),
  };
  let admin: AdminServer;
  let base: string;

  before(async () => {
    admin = await startAdminServer({ host: "127.0.0.1", port: 0, source, log: silentLogger });
    base = `http://127.0.0.1:${admin.port}`;
  });
  after(() => admin.close());

  test("/ready is 503 with the reason until the source is ready, then 200", async () => {
    state = { ready: false, reason: "no configuration received yet" };
    const before = await fetch(`${base}/ready`);
    assert.equal(before.status, 503);
    assert.match(await before.text(), /no configuration received yet/);
    state = { ready: true };
    const now = await fetch(`${base}/ready`);
    assert.equal(now.status, 200);
    assert.equal(await now.text(), "ready\n");
  });

  test("/metrics serves parseable Prometheus text with istio_requests_total and its labels", async () => {
    recordRequest(metrics, routedContext("outbound"), { status: 200, durationMs: 3 });
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/;
    for (const line of body.split("\n")) {
      if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
      assert.match(line, sample, `not Prometheus text: ${line}`);
    }
    assert.match(body, /# TYPE istio_requests_total counter/);
    const line = body.split("\n").find((l) => l.startsWith("istio_requests_total{"));
    assert.ok(line, "a istio_requests_total sample");
    const labels = Object.fromEntries([...line.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    assert.equal(labels.reporter, "source");
    assert.equal(labels.source_workload, "productpage-v1-7d9f");
    assert.equal(labels.destination_service_name, "reviews");
    assert.equal(labels.destination_version, "v2");
    assert.equal(labels.response_code, "200");
    assert.equal(labels.response_flags, "-");
    assert.match(line, / 1$/);
    assert.match(body, /istio_request_duration_milliseconds_bucket\{le="0\.5",/);
  });

  test("/config_dump shows version, revision and last NACK, and redacts key material", async () => {
    const res = await fetch(`${base}/config_dump`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const text = await res.text();
    assert.ok(!text.includes("PRIVATE KEY"), "no private key on the admin port");
    const dump = JSON.parse(text);
    assert.equal(dump.version, "00000000000000a1");
    assert.equal(dump.revision, 7);
    assert.equal(dump.lastNack.version, "00000000000000b2");
    assert.deepEqual(dump.snapshot.certificates, { privateKey: "[redacted]", key: "[redacted]" });
    assert.deepEqual(dump.snapshot.inbound.rateLimits[0].limit, { maxTokens: 10, tokensPerFill: 5 }, "config numbers named like tokens stay");
    assert.equal(dump.snapshot.inbound.authorizationPolicies[0].rules[0].when[0].key, "request.headers[x-team]");
  });

  test("/clusters as JSON and as Envoy-like text", async () => {
    const json = (await (await fetch(`${base}/clusters`)).json()) as { clusters: Array<{ name: string; endpoints: Array<Record<string, unknown>> }> };
    const c = json.clusters[0]!;
    assert.equal(c.name, "outbound|9080|v2|reviews.default");
    assert.deepEqual(c.endpoints[1], {
      address: "10.0.1.13",
      port: 15006,
      weight: 3,
      labels: { version: "v2" },
      health: "ejected",
      ejectedUntil: "2026-01-01T00:00:30.000Z",
      activeRequests: 0,
      totalRequests: 9,
      failures: 5,
    });
    assert.equal(c.endpoints[0]?.ejectedUntil, null);
    const res = await fetch(`${base}/clusters?format=text`);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    const lines = (await res.text()).split("\n");
    assert.ok(lines.includes("outbound|9080|v2|reviews.default::10.0.1.12:15006::health_flags::healthy"));
    assert.ok(lines.includes("outbound|9080|v2|reviews.default::10.0.1.13:15006::health_flags::/failed_outlier_check"));
    assert.ok(lines.includes("outbound|9080|v2|reviews.default::10.0.1.13:15006::ejected_until::2026-01-01T00:00:30.000Z"));
    assert.ok(lines.includes("outbound|9080|v2|reviews.default::10.0.1.12:15006::rq_active::2"));
    assert.ok(lines.includes("outbound|9080|v2|reviews.default::10.0.1.13:15006::rq_error::5"));
  });

  test("/stats as JSON", async () => {
    assert.deepEqual(await (await fetch(`${base}/stats`)).json(), { "config.applies.ack": 3, "config.applies.nack": 1 });
    assert.equal(await (await fetch(`${base}/stats?format=text`)).text(), "config.applies.ack: 3\nconfig.applies.nack: 1\n");
  });

  test("unknown paths are 404, other methods 405 with Allow: GET", async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/__proto__`)).status, 404);
    const post = await fetch(`${base}/ready`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
    assert.equal((await fetch(`${base}/config_dump`, { method: "DELETE" })).status, 405);
  });

  test("a failing source is a 500, and the server keeps serving", async () => {
    failClusters = true;
    assert.equal((await fetch(`${base}/clusters`)).status, 500);
    failClusters = false;
    assert.equal((await fetch(`${base}/clusters`)).status, 200);
  });

  test("malformed HTTP gets a 400 and the server stays up", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(admin.port, "127.0.0.1", () => s.write("GARBAGE\r\n\r\n"));
      let data = "";
      s.on("data", (d) => (data += d));
      s.on("end", () => resolve(data));
      s.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await fetch(`${base}/stats`)).status, 200);
  });
});
