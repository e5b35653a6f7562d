import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { TRPCClientError } from "@trpc/client";
import { apiClient } from "./helpers/control-plane";
import type { Api } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";
import { spawnControlPlane, type ControlProcess } from "./helpers/process";
import { freePort, prometheusBinary, startPrometheus } from "./helpers/prometheus";
import type { PrometheusProcess } from "./helpers/prometheus";
import { eventually, meshRequest, spawnSidecar } from "./helpers/sidecars";
import type { Sidecar } from "./helpers/sidecars";

// History from Prometheus end to end: real trellis-proxy sidecars (web → api) serve Istio's
// metrics, a real Prometheus scrapes them every second, and a control plane restarted after the
// traffic (so its live window holds none of it) answers graph and golden-signal windows from
// PromQL with exactly the counts the apps saw.

const NS = "shop";
const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: NS }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" as const }] } });
const OK = 40;
const FAILED = 10;
const OK_BODY = "o".repeat(100);
const FAILED_BODY = "f".repeat(20);

/** api's app: 503 with a 20-byte body on /fail, else 200 with a 100-byte body. */
async function startApiApp(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => (req.url === "/fail" ? res.writeHead(503).end(FAILED_BODY) : res.writeHead(200).end(OK_BODY)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** The sum of a proxy's own istio_requests_total towards api as `reporter` reports it: what Prometheus must end up with. */
async function proxyCount(admin: number, reporter: "source" | "destination"): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("istio_requests_total{") && line.includes(`reporter="${reporter}"`) && line.includes('destination_service_name="api"')) n += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return n;
}

/** Waits until Prometheus holds each proxy's current counts, then until the next whole second has passed; returns that second. */
async function scrapedSecond(prom: PrometheusProcess, web: Sidecar, api: Sidecar): Promise<number> {
  const want = { source: await proxyCount(web.admin, "source"), destination: await proxyCount(api.admin, "destination") };
  const seen = async (reporter: "source" | "destination") => (await prom.query(`sum(istio_requests_total{reporter="${reporter}", destination_service_name="api"})`))[0]?.value ?? 0;
  await eventually("Prometheus to scrape every request so far", async () => ((await seen("source")) === want.source && (await seen("destination")) === want.destination ? true : undefined), 20_000, 200);
  const second = Math.floor(Date.now() / 1000) + 1;
  // Past it with a margin, so no scrape stamped at or before it can hold a request sent after it.
  await new Promise((r) => setTimeout(r, second * 1000 + 300 - Date.now()));
  return second;
}

describe("history from a real Prometheus scraping real proxies", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  let api: Api;
  let prom: PrometheusProcess;
  let promPort: number;
  let apiApp: Awaited<ReturnType<typeof startApiApp>>;
  let web: Sidecar;
  let apiSidecar: Sidecar;
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-history-"));
  let env: Record<string, string>;
  /** The traffic's window: from after the warm-up was scraped to after the traffic was. */
  let t1 = 0;
  let t2 = 0;

  before(async () => {
    prometheusBinary(); // fails first, saying how to install it
    db = await createTestDatabase();
    promPort = await freePort();
    env = { DATABASE_URL: db.url, PROMETHEUS_URL: `http://127.0.0.1:${promPort}`, TRELLIS_ENDPOINT_GRACE_MS: "300", TRELLIS_PUSH_DEBOUNCE_MS: "20", TRELLIS_PUSH_MAX_DELAY_MS: "100", TRELLIS_LOG_LEVEL: "warn" };
    cp = await spawnControlPlane(env);
    api = apiClient(cp.api);
    await api.resources.write.mutate({ baseRevision: 0, upserts: [svc("web"), svc("api")], message: "history test mesh" });
    apiApp = await startApiApp();
    const common = ["--namespace", NS, "--control-plane", `127.0.0.1:${cp.grpcPort}`, "--log-level", "warn"];
    apiSidecar = await spawnSidecar(["--service", "api", "--workload", "api-1", "--version", "v1", "--app-port", String(apiApp.port), "--data-dir", path.join(dataDir, "api"), ...common]);
    web = await spawnSidecar(["--service", "web", "--workload", "web-1", "--version", "v1", "--app-port", "1", "--data-dir", path.join(dataDir, "web"), ...common]);
    await eventually("web → api through the mesh", async () => ((await meshRequest(web.outbound, "api:9080", "/ok").catch(() => 0)) === 200 ? true : undefined));
    prom = await startPrometheus(promPort, [`127.0.0.1:${web.admin}`, `127.0.0.1:${apiSidecar.admin}`]);

    t1 = await scrapedSecond(prom, web, apiSidecar);
    for (let i = 0; i < OK; i++) assert.equal(await meshRequest(web.outbound, "api:9080", "/ok"), 200);
    for (let i = 0; i < FAILED; i++) assert.equal(await meshRequest(web.outbound, "api:9080", "/fail"), 503);
    t2 = await scrapedSecond(prom, web, apiSidecar);

    // A restarted control plane: its live window starts empty, so every window here is older than it.
    await cp.stop();
    cp = await spawnControlPlane({ ...env, TRELLIS_GRPC_PORT: String(cp.grpcPort) });
    api = apiClient(cp.api);
  });

  after(async () => {
    await web?.stop();
    await apiSidecar?.stop();
    await prom?.stop();
    await cp?.stop();
    await apiApp?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a past window's graph edge has exactly the requests, errors and bytes sent", async () => {
    const windowSec = t2 - t1;
    for (const [kind, id] of [["workload", `wl:${NS}/web-1>wl:${NS}/api-1>http`], ["service", `svc:${NS}/web>svc:${NS}/api>http`]] as const) {
      const g = await api.graph.get.query({ kind, windowSec, until: t2 * 1000 });
      assert.deepEqual([g.from, g.to], [t1 * 1000, t2 * 1000]);
      const edge = g.edges.find((e) => e.id === id);
      assert.ok(edge?.traffic, `${kind} graph edges: ${g.edges.map((e) => e.id).join(", ")}`);
      const s = edge.traffic;
      // Counts are differences of scraped counter values at whole seconds: exact, no extrapolation.
      assert.equal(s.requests, OK + FAILED);
      assert.deepEqual(s.byClass, [0, 0, OK, 0, 0, FAILED]);
      assert.equal(s.errors, FAILED);
      assert.equal(s.errorRate, FAILED / (OK + FAILED));
      assert.equal(edge.health, "failure");
      assert.equal(s.rps, Math.round(((OK + FAILED) / windowSec) * 1000) / 1000);
      // Response bodies as the caller's proxy counted them (GETs send none); bytesPerSec is rounded to 0.001.
      assert.ok(Math.abs(s.bytesPerSec * windowSec - (OK * OK_BODY.length + FAILED * FAILED_BODY.length)) < 0.001 * windowSec, `${s.bytesPerSec} B/s over ${windowSec} s`);
      // Latency only to Istio's bucket: a local hop through two proxies is well under 100 ms.
      assert.ok(s.p50 !== null && s.p50 > 0 && s.p50 < 100 && s.p99! >= s.p50, `p50 ${s.p50} ms, p99 ${s.p99} ms`);
      assert.deepEqual(edge.routes, [], "Istio's metrics have no route label");
    }
  });

  test("golden signals of that window, inbound and outbound, from the callee's and the caller's reports", async () => {
    const windowSec = t2 - t1;
    const inbound = await api.metrics.signals.query({ scope: "service", namespace: NS, name: "api", direction: "inbound", windowSec, until: t2 * 1000, stepSec: 1 });
    assert.equal(inbound.requests.requests, OK + FAILED);
    assert.equal(inbound.requests.errors, FAILED);
    assert.equal(inbound.series.length, windowSec);
    assert.equal(Math.round(inbound.series.reduce((n, p) => n + p.rps, 0)), OK + FAILED, "the per-second series adds up to the window");
    const outbound = await api.metrics.signals.query({ scope: "workload", namespace: NS, name: "web-1", direction: "outbound", windowSec, until: t2 * 1000 });
    assert.equal(outbound.requests.requests, OK + FAILED);
    assert.equal(outbound.requests.byClass[5], FAILED);
    const route = await api.metrics.signals.query({ scope: "route", namespace: NS, name: "api", windowSec, until: t2 * 1000 });
    assert.equal(route.requests.requests, 0, "route-scoped history is empty");
  });

  test("a window ending now that reaches back past the restart holds every request Prometheus scraped", async () => {
    const total = await proxyCount(web.admin, "source");
    assert.ok(total >= OK + FAILED + 1, "the warm-up requests too");
    const g = await api.graph.get.query({ kind: "workload", windowSec: 1800 });
    const edge = g.edges.find((e) => e.id === `wl:${NS}/web-1>wl:${NS}/api-1>http`);
    assert.equal(edge?.traffic?.requests, total, "counters born inside the window count from zero, which increase() would miss");
  });

  test("with Prometheus gone, an old window fails with an error naming PROMETHEUS_URL", async () => {
    await prom.stop();
    const err = await api.graph.get.query({ kind: "service", windowSec: 7200 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof TRPCClientError, `expected a tRPC error, got ${String(err)}`);
    assert.equal((err.data as { code?: string } | undefined)?.code, "SERVICE_UNAVAILABLE");
    assert.match(err.message, new RegExp(`Prometheus at PROMETHEUS_URL=http://127\\.0\\.0\\.1:${promPort}/ is unreachable`));
  });
});
