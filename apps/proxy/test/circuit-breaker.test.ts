import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DestinationPolicySpec } from "@trellis/config";
import { echo, startHttpApp, startScriptedApp } from "./helpers/apps";
import type { ScriptedApp } from "./helpers/apps";
import { HttpClient, inParallel, servedBy, sleep, tally } from "./helpers/client";
import type { Reply } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";
import type { TestEndpoint } from "./helpers/snapshot";

const outlier = (maxEjectionPercent: number, baseEjectionTime: string): DestinationPolicySpec["outlierDetection"] => ({ consecutive5xxErrors: 3, interval: "100ms", baseEjectionTime, maxEjectionPercent });

describe("circuit breaking and outlier detection", () => {
  const t = new Teardown();
  let slow: ScriptedApp;
  let client: TestProxy;
  let http: HttpClient;
  /** Apps answering 503 while their name is in here. */
  const failing = new Set<string>();

  before(async () => {
    slow = t.track(await startScriptedApp("slow"));
    const slowSidecar = t.track(await startSidecar("slow", slow.port));
    const ejectable: TestEndpoint[] = [];
    for (const name of ["good", "bad"]) {
      const app = t.track(await startHttpApp(name, (req, res, body) => echo(name, req, res, body, failing.has(name) ? 503 : 200)));
      ejectable.push({ port: (t.track(await startSidecar(name, app.port))).inboundPort, sidecar: true });
    }
    const four: TestEndpoint[] = [];
    for (const name of ["p0", "p1", "p2", "p3"]) {
      const app = t.track(await startHttpApp(name, (req, res, body) => echo(name, req, res, body, failing.has(name) ? 503 : 200)));
      four.push({ port: app.port });
    }
    const snap = snapshot({
      service: "productpage",
      hosts: [
        host({ name: "requests", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: slowSidecar.inboundPort, sidecar: true }], policy: { host: "requests.default", subsets: [], connectionPool: { http: { maxRequests: 2 } } } }),
        // Straight to the app over HTTP/1.1, where each exchange holds a connection.
        host({ name: "connections", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: slow.port }], policy: { host: "connections.default", subsets: [], connectionPool: { tcp: { maxConnections: 1 }, http: { maxPendingRequests: 1 } } } }),
        host({ name: "ejecting", ports: [{ port: 9080, protocol: "http" }], endpoints: ejectable, policy: { host: "ejecting.default", subsets: [], outlierDetection: outlier(50, "400ms") } }),
        host({ name: "pool", ports: [{ port: 9080, protocol: "http" }], endpoints: four, policy: { host: "pool.default", subsets: [], outlierDetection: outlier(50, "10s") } }),
      ],
    });
    client = t.track(await startProxy({ app: "productpage" }, snap));
    http = t.track(new HttpClient(client.dp.ports.outbound));
  });
  after(() => t.stop());

  const overflowed = (r: Reply) => r.status === 503 && r.headers["x-trellis-response-flags"] === "UO";

  it("maxRequests: beyond 2 in flight, requests fail fast with 503 UO while the upstream is slow", async () => {
    const replies = await inParallel(10, 10, (i) => http.request("requests:9080", `/r/${i}`, { headers: { "x-key": "requests", "x-script": "slow600" } }));
    assert.equal(replies.filter((r) => r.status === 200).length, 2);
    const fast = replies.filter(overflowed);
    assert.equal(fast.length, 8);
    // Fast: long before the upstream could have answered (generous for a loaded CI machine).
    assert.ok(fast.every((r) => r.ms < 400), `overflow answers took ${fast.map((r) => r.ms.toFixed(0)).join(", ")} ms`);
    assert.equal(slow.arrivals.get("requests")?.length, 2, "the upstream saw only the admitted ones");
    // Once they finish, the slots are free again.
    assert.equal((await http.request("requests:9080", "/after", { headers: { "x-key": "requests-after" } })).status, 200);
  });

  it("maxConnections 1 + maxPendingRequests 1: one in flight, one waits, the rest fail fast with UO", async () => {
    const replies = await inParallel(5, 5, (i) => http.request("connections:9080", `/c/${i}`, { headers: { "x-key": "connections", "x-script": "slow400" } }));
    const ok = replies.filter((r) => r.status === 200);
    assert.equal(ok.length, 2);
    assert.ok(Math.max(...ok.map((r) => r.ms)) >= 790, "the waiting one was served after the first finished");
    const fast = replies.filter(overflowed);
    assert.equal(fast.length, 3);
    assert.ok(fast.every((r) => r.ms < 300), `overflow answers took ${fast.map((r) => r.ms.toFixed(0)).join(", ")} ms`);
    // Refusals are counted per cluster in /metrics.
    const metrics = await client.dp.metrics.registry.metrics();
    assert.match(metrics, /trellis_upstream_rq_pending_overflow_total\{cluster="outbound\|9080\|\|connections\.default"\} 3\b/);
    assert.match(metrics, /trellis_upstream_rq_pending_overflow_total\{cluster="outbound\|9080\|\|requests\.default"\} 8\b/);
  });

  it("an endpoint answering 5xx is ejected after 3 in a row, and returns after baseEjectionTime", async () => {
    failing.add("bad");
    const first = [];
    for (let i = 0; i < 8; i++) first.push(await http.request("ejecting:9080", "/e"));
    assert.equal(first.filter((r) => r.status === 503).length, 3, "round robin hit bad three times before it left");
    const during = [];
    for (let i = 0; i < 10; i++) during.push(await http.request("ejecting:9080", "/e"));
    assert.deepEqual(tally(during.map(servedBy)), { good: 10 }, "while ejected, traffic goes to the healthy one");
    failing.delete("bad");
    await sleep(450);
    const later = [];
    for (let i = 0; i < 10; i++) later.push(await http.request("ejecting:9080", "/e"));
    assert.ok(later.every((r) => r.status === 200));
    assert.ok((tally(later.map(servedBy)).bad ?? 0) >= 4, "back in rotation after the ejection ended");
  });

  it("maxEjectionPercent 50: of four endpoints, at most two leave even when three fail", async () => {
    for (const n of ["p0", "p1", "p2"]) failing.add(n);
    try {
      for (let i = 0; i < 24; i++) await http.request("pool:9080", "/p");
      const replies = [];
      for (let i = 0; i < 20; i++) replies.push(await http.request("pool:9080", "/p"));
      const counts = tally(replies.map(servedBy));
      assert.equal(Object.keys(counts).length, 2, `two endpoints left in rotation: ${JSON.stringify(counts)}`);
      assert.equal(counts.p3, 10, "the healthy one stays");
      assert.equal(replies.filter((r) => r.status === 503).length, 10, "the failing one that could not be ejected keeps failing");
      const cluster = [...client.dp.states.all()].find((c) => c.name === "outbound|9080||pool.default")!;
      assert.equal([...cluster.endpoints.values()].filter((e) => cluster.outlier.status(e).ejected).length, 2);
    } finally {
      for (const n of ["p0", "p1", "p2"]) failing.delete(n);
    }
  });
});
