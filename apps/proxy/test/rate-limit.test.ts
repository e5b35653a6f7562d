import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Snapshot } from "@trellis/config";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, inParallel, sleep, until } from "./helpers/client";
import type { Reply } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const SOURCE = "RateLimitPolicy/default/api";
const RATE_LIMITS: Snapshot["inbound"]["rateLimits"] = [
  { source: SOURCE, limit: { name: "shared", match: { path: { prefix: "/shared" } }, perCaller: false, bucket: { maxTokens: 5, tokensPerFill: 5, fillInterval: "600ms" } } },
  { source: SOURCE, limit: { name: "per-caller", match: { path: { prefix: "/caller" } }, perCaller: true, bucket: { maxTokens: 3, tokensPerFill: 3, fillInterval: "600ms" } } },
  { source: SOURCE, limit: { name: "posts", match: { path: { prefix: "/method" }, method: "POST" }, perCaller: false, bucket: { maxTokens: 2, tokensPerFill: 1, fillInterval: "1h" } } },
];

describe("inbound local rate limits on the server sidecar", () => {
  const t = new Teardown();
  let app: TestServer;
  let server: TestProxy;
  let viaMesh: HttpClient;
  let callerA: HttpClient;
  let callerB: HttpClient;

  before(async () => {
    app = t.track(await startHttpApp("api"));
    server = t.track(await startSidecar("api", app.port, { rateLimits: RATE_LIMITS }));
    const client = t.track(await startProxy({ app: "web" }, snapshot({ service: "web", hosts: [host({ name: "api", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: server.inboundPort, sidecar: true }] })] })));
    viaMesh = t.track(new HttpClient(client.dp.ports.outbound));
    // Plain callers of the inbound listener, from two loopback addresses.
    callerA = t.track(new HttpClient(server.inboundPort, { localAddress: "127.0.0.1" }));
    callerB = t.track(new HttpClient(server.inboundPort, { localAddress: "127.0.0.2" }));
  });
  after(() => t.stop());

  const limited = (r: Reply) => r.status === 429 && r.headers["x-trellis-response-flags"] === "RL" && r.body === "local_rate_limited";
  const count = (replies: Reply[]) => ({ ok: replies.filter((r) => r.status === 200).length, limited: replies.filter(limited).length });

  it("a burst beyond maxTokens is refused 429 RL, and the bucket refills after fillInterval", async () => {
    const seenBefore = app.seen.length;
    const burst = await inParallel(8, 8, (i) => viaMesh.request("api:9080", `/shared/${i}`));
    assert.deepEqual(count(burst), { ok: 5, limited: 3 });
    assert.equal(app.seen.length - seenBefore, 5, "refused requests never reached the app");
    await until(() => server.accessLog.lines.filter((l) => l.response_flags === "RL").length >= 3, "RL in the server's access log");
    await sleep(650);
    assert.deepEqual(count(await inParallel(6, 6, (i) => viaMesh.request("api:9080", `/shared/again/${i}`))), { ok: 5, limited: 1 });
  });

  it("perCaller: each caller has its own bucket", async () => {
    assert.deepEqual(count(await inParallel(4, 1, () => callerA.request("api:9080", "/caller"))), { ok: 3, limited: 1 });
    assert.deepEqual(count(await inParallel(4, 1, () => callerB.request("api:9080", "/caller"))), { ok: 3, limited: 1 }, "B is not held back by A");
    await sleep(650);
    assert.equal((await callerA.request("api:9080", "/caller")).status, 200, "A's bucket refilled");
  });

  it("a limit matching a method leaves other methods alone", async () => {
    const posts = await inParallel(3, 1, () => callerA.request("api:9080", "/method", { method: "POST", body: "x" }));
    assert.deepEqual(count(posts), { ok: 2, limited: 1 });
    assert.deepEqual(count(await inParallel(5, 5, () => callerA.request("api:9080", "/method"))), { ok: 5, limited: 0 });
  });

  it("buckets survive a config swap: a new snapshot does not hand out a fresh burst", async () => {
    assert.equal((await callerB.request("api:9080", "/method", { method: "POST", body: "x" })).status, 429, "still empty from the previous test");
    server.dp.apply(snapshot({ service: "api", revision: 2, listeners: [{ name: "http", port: 9080, targetPort: app.port, protocol: "http" }], rateLimits: RATE_LIMITS }));
    assert.equal((await callerB.request("api:9080", "/method", { method: "POST", body: "x" })).status, 429);
  });
});
