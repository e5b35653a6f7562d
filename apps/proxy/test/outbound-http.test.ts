import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { deadPort, startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { startProxy } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const exec = promisify(execFile);

/** One raw HTTP/1.1 request through `proxyPort`, with the request target written as given. */
function request(proxyPort: number, target: string, headers: Record<string, string> = {}, method = "GET", body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxyPort, method, path: target, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("outbound HTTP/1.1 through a sidecar pair", () => {
  let app: TestServer;
  let server: TestProxy;
  let client: TestProxy;
  let external: TestServer;

  before(async () => {
    app = await startHttpApp("reviews", (req, res, body) => {
      const reply = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ name: "reviews", method: req.method, path: req.url, headers: req.headers, bodyBytes: body.length }));
      };
      if (req.url === "/slow") setTimeout(reply, 300);
      else reply();
    });
    external = await startHttpApp("partner");
    server = await startProxy({ app: "reviews", workload: "reviews-v1-abc" }, snapshot({ service: "reviews", listeners: [{ name: "http", port: 9080, targetPort: app.port, protocol: "http" }] }));
    const down = await deadPort();
    client = await startProxy(
      { app: "productpage", workload: "productpage-v1-xyz" },
      snapshot({
        service: "productpage",
        hosts: [
          host({ name: "reviews", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: server.inboundPort, sidecar: true, labels: { version: "v1" } }] }),
          host({ name: "partner.example.com", external: true, ports: [{ port: 80, protocol: "http" }], endpoints: [{ port: external.port }] }),
          host({ name: "gone", ports: [{ port: 80, protocol: "http" }], endpoints: [{ port: down }] }),
          host({ name: "empty", ports: [{ port: 80, protocol: "http" }], endpoints: [] }),
        ],
      }),
    );
  });
  after(async () => {
    await client.stop();
    await server.stop();
    await app.close();
    await external.close();
  });

  it("routes by Host to the peer sidecar, which forwards to its app without mesh headers", async () => {
    const res = await request(Number(new URL(client.outbound).port), "/reviews/1?x=1", { host: "reviews:9080", "x-trellis-peer": "w=forged;a=forged;v=v9;n=evil" });
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as { name: string; path: string; headers: Record<string, string> };
    assert.equal(echo.name, "reviews");
    assert.equal(echo.path, "/reviews/1?x=1");
    assert.equal(echo.headers.host, "reviews:9080");
    assert.ok(!Object.keys(echo.headers).some((h) => h.startsWith("x-trellis-")), "the app sees no mesh headers");
    assert.equal(res.headers["x-trellis-peer"], undefined, "the caller sees no peer metadata");
    // Both sides logged it with full peer labels: the forged header did not survive the client sidecar.
    const inbound = server.accessLog.lines.at(-1)!;
    assert.equal(inbound.source_workload, "productpage-v1-xyz");
    assert.equal(inbound.response_code, 200);
    const outbound = client.accessLog.lines.at(-1)!;
    assert.equal(outbound.destination_workload, "reviews-v1-abc");
    assert.equal(outbound.upstream_cluster, "outbound|9080||reviews.default");
  });

  it("accepts absolute-form requests, so HTTP_PROXY works (real curl)", async () => {
    const { stdout } = await exec("curl", ["-sS", "-x", client.outbound, "http://reviews:9080/via-proxy"]);
    assert.equal((JSON.parse(stdout) as { path: string }).path, "/via-proxy");
    const ext = await exec("curl", ["-sS", "-x", client.outbound, "http://partner.example.com/hello"]);
    assert.equal((JSON.parse(ext.stdout) as { name: string }).name, "partner");
  });

  it("streams a POST body to the app", async () => {
    const body = "x".repeat(100_000);
    const res = await request(Number(new URL(client.outbound).port), "/upload", { host: "reviews:9080", "content-type": "text/plain" }, "POST", body);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { bodyBytes: number }).bodyBytes, body.length);
  });

  it("reports requests in flight per cluster at scrape time (saturation)", async () => {
    const port = Number(new URL(client.outbound).port);
    const slow = request(port, "/slow", { host: "reviews:9080" });
    const gauge = /trellis_upstream_rq_active\{cluster="outbound\|9080\|\|reviews\.default"\} (\d+)/;
    let inFlight = 0;
    for (let i = 0; i < 50 && inFlight === 0; i++) {
      inFlight = Number(gauge.exec(await client.dp.metrics.registry.metrics())?.[1] ?? 0);
      if (inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(inFlight, 1, "the slow request is counted while it runs");
    assert.equal((await slow).status, 200);
    assert.equal(gauge.exec(await client.dp.metrics.registry.metrics())?.[1], "0");
    assert.match(await client.dp.metrics.registry.metrics(), /trellis_outlier_ejections_active\{cluster="outbound\|9080\|\|reviews\.default"\} 0/);
  });

  it("refuses a snapshot whose route regex cannot compile, and keeps serving the previous one", async () => {
    const before = client.dp.current!.snapshot.version;
    const bad = snapshot({
      service: "productpage",
      revision: 99,
      hosts: [host({ name: "reviews", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: server.inboundPort, sidecar: true }], routes: [{ source: "Route/default/reviews", http: [{ match: [{ path: { regex: "/(unclosed" } }], route: [{ destination: { host: "reviews.default" } }] }] }] })],
    });
    assert.throws(() => client.dp.apply(bad), /outbound\.hosts\[reviews\.default\].*\.match\[0\]\.path/);
    assert.equal(client.dp.current!.snapshot.version, before);
    const res = await request(Number(new URL(client.outbound).port), "/still", { host: "reviews:9080" });
    assert.equal(res.status, 200);
  });

  it("answers 404 NR for an unknown host", async () => {
    const res = await request(Number(new URL(client.outbound).port), "/", { host: "nowhere:80" });
    assert.equal(res.status, 404);
    assert.equal(res.headers["x-trellis-response-flags"], "NR");
    assert.equal(client.accessLog.lines.at(-1)!.response_flags, "NR");
  });

  it("answers 503 UF when the upstream refuses connections and 503 UH when there is no endpoint", async () => {
    const port = Number(new URL(client.outbound).port);
    const uf = await request(port, "/", { host: "gone" });
    assert.equal(uf.status, 503);
    assert.equal(uf.headers["x-trellis-response-flags"], "UF");
    const uh = await request(port, "/", { host: "empty" });
    assert.equal(uh.status, 503);
    assert.equal(uh.headers["x-trellis-response-flags"], "UH");
  });
});
