import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startHttpApp } from "./helpers/apps";
import { eventually } from "./helpers/client";
import type { TestServer } from "./helpers/apps";
import { applyResources, spawnControlPlane, waitForProxyStatus } from "./helpers/control-plane";
import type { ControlProcess } from "./helpers/control-plane";
import { createTestDatabase } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { spawnProxy } from "./helpers/proxy-process";
import type { ProxyProcess } from "./helpers/proxy-process";

function get(port: number, hostHeader: string, p = "/"): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, headers: { host: hostHeader } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}


const svc = (name: string) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } });
const policy = { kind: "DestinationPolicy", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } };
const route = (v1: number, v2: number) => ({ kind: "Route", metadata: { name: "reviews", namespace: "default" }, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: v1 }, { destination: { host: "reviews", subset: "v2" }, weight: v2 }] }] } });

describe("trellis-proxy processes under a real control plane", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  let v1: TestServer;
  let v2: TestServer;
  const proxies: ProxyProcess[] = [];
  let client: ProxyProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-proxy-e2e-"));

  before(async () => {
    db = await createTestDatabase();
    cp = await spawnControlPlane({ DATABASE_URL: db.url });
    await applyResources(cp.api, [svc("productpage"), svc("reviews"), policy, route(100, 0)], "bookinfo slice");
    v1 = await startHttpApp("reviews-v1");
    v2 = await startHttpApp("reviews-v2");
    const common = ["--control-plane", cp.grpcTarget, "--namespace", "default", "--data-dir"];
    proxies.push(await spawnProxy(["--service", "reviews", "--workload", "reviews-v1", "--version", "v1", "--app-port", String(v1.port), ...common, path.join(dataDir, "r1")]));
    proxies.push(await spawnProxy(["--service", "reviews", "--workload", "reviews-v2", "--version", "v2", "--app-port", String(v2.port), ...common, path.join(dataDir, "r2")]));
    client = await spawnProxy(["--service", "productpage", "--workload", "productpage-v1", "--version", "v1", "--app-port", "1", ...common, path.join(dataDir, "pp")]);
    proxies.push(client);
    for (const id of ["reviews-v1", "reviews-v2", "productpage-v1"]) await waitForProxyStatus(cp.api, `default/${id}`, (s) => s.state === "SYNCED");
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await cp?.stop();
    await v1?.close();
    await v2?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves traffic to the endpoints the control plane registered, routed by the Route", async () => {
    // Both reviews proxies registered over their streams; the client's snapshot points at their inbound ports.
    const res = await eventually("a routed response", async () => {
      const r = await get(client.outbound, "reviews:9080", "/r");
      return r.status === 200 ? r : undefined;
    });
    assert.equal((JSON.parse(res.body) as { name: string }).name, "reviews-v1");
    for (let i = 0; i < 20; i++) assert.equal((JSON.parse((await get(client.outbound, "reviews:9080")).body) as { name: string }).name, "reviews-v1", "100/0 sends everything to v1");
  });

  it("a weight change through the API reaches the proxy and shifts traffic", async () => {
    await applyResources(cp.api, [route(0, 100)], "all to v2");
    await eventually("traffic on v2", async () => ((JSON.parse((await get(client.outbound, "reviews:9080")).body) as { name: string }).name === "reviews-v2" ? true : undefined));
    let v2count = 0;
    for (let i = 0; i < 20; i++) if ((JSON.parse((await get(client.outbound, "reviews:9080")).body) as { name: string }).name === "reviews-v2") v2count++;
    assert.equal(v2count, 20);
  });

  it("admin: /ready, /metrics with Istio names, /config_dump and /clusters", async () => {
    const base = `http://127.0.0.1:${client.admin}`;
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /istio_requests_total\{[^}]*reporter="source"[^}]*destination_service="reviews\.default"[^}]*response_code="200"/);
    assert.match(metrics, /istio_request_duration_milliseconds_bucket\{/);
    const dump = (await (await fetch(`${base}/config_dump`)).json()) as { version: string; snapshot: { proxy: { id: string } } };
    assert.equal(dump.snapshot.proxy.id, "default/productpage-v1");
    const status = await waitForProxyStatus(cp.api, "default/productpage-v1", (s) => s.state === "SYNCED" && s.lastAckedVersion === dump.version);
    assert.equal(status.lastAckedVersion, dump.version);
    const clusters = (await (await fetch(`${base}/clusters`)).json()) as unknown;
    assert.match(JSON.stringify(clusters), /outbound\|9080\|v2\|reviews\.default/);
    const server = proxies[1]!;
    const serverMetrics = await (await fetch(`http://127.0.0.1:${server.admin}/metrics`)).text();
    assert.match(serverMetrics, /istio_requests_total\{[^}]*reporter="destination"[^}]*source_workload="productpage-v1"[^}]*destination_workload="reviews-v2"/);
  });

  it("keeps serving from its disk copy when restarted while the control plane is down", async () => {
    const grpcPort = String(cp.grpcPort);
    await cp.stop();
    await client.stop();
    const restarted = await spawnProxy(["--service", "productpage", "--workload", "productpage-v1", "--version", "v1", "--app-port", "1", "--control-plane", `127.0.0.1:${grpcPort}`, "--data-dir", path.join(dataDir, "pp")]);
    proxies.push(restarted);
    assert.equal((await fetch(`http://127.0.0.1:${restarted.admin}/ready`)).status, 200, "ready from the disk copy");
    const r = await get(restarted.outbound, "reviews:9080");
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { name: string }).name, "reviews-v2");
    cp = await spawnControlPlane({ DATABASE_URL: db.url, TRELLIS_GRPC_PORT: grpcPort });
    await waitForProxyStatus(cp.api, "default/productpage-v1", (s) => s.state === "SYNCED");
  });
});
