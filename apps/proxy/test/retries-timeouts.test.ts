import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status as GrpcCode } from "@grpc/grpc-js";
import type { HttpRouteRule, Snapshot } from "@trellis/config";
import { deadPort, startScriptedApp } from "./helpers/apps";
import type { ScriptedApp } from "./helpers/apps";
import { HttpClient, inParallel, servedBy, until } from "./helpers/client";
import { GrpcTestClient, startGrpcApp } from "./helpers/grpc";
import type { GrpcApp } from "./helpers/grpc";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const FLAKY = "flaky.default";
const fast = { baseInterval: "5ms", maxInterval: "20ms" };
const rule = (name: string, extra: Omit<HttpRouteRule, "route" | "match">, host = FLAKY): HttpRouteRule => ({ name, match: [{ path: { prefix: `/${name}` } }], route: [{ destination: { host } }], ...extra });

describe("retries and timeouts through a sidecar pair", () => {
  const t = new Teardown();
  let app: ScriptedApp;
  let grpcApp: GrpcApp;
  let client: TestProxy;
  let http: HttpClient;
  let snap: Snapshot;
  const grpcFailures = new Map<string, number>();

  before(async () => {
    app = t.track(await startScriptedApp("flaky"));
    const sidecar = t.track(await startSidecar("flaky", app.port));
    grpcApp = t.track(await startGrpcApp((text, md) => {
      // Fails `fail` times per key with `code`, then answers.
      const key = String(md.get("x-key")[0]);
      const seen = (grpcFailures.get(key) ?? 0) + 1;
      grpcFailures.set(key, seen);
      if (seen <= Number(md.get("x-fail")[0] ?? 0)) return { code: Number(md.get("x-code")[0]) as GrpcCode, details: `failure ${seen}` };
      return `hello ${text}`;
    }));
    const grpcSidecar = t.track(await startSidecar("greeter", grpcApp.port, { port: 50051, protocol: "grpc" }));
    const dead = await deadPort();
    // A sidecar that is up in front of an app that is not: it answers 503 UF itself.
    const orphan = t.track(await startSidecar("flaky", await deadPort(), { workload: "flaky-orphan" }));
    snap = snapshot({
      service: "productpage",
      hosts: [
        host({
          name: "flaky",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [{ port: sidecar.inboundPort, sidecar: true }],
          routes: [
            {
              source: "Route/default/flaky",
              http: [
                rule("retry5xx", { retries: { attempts: 3, retryOn: ["5xx"], backoff: fast, budgetPercent: 20 } }),
                rule("exhaust", { retries: { attempts: 2, retryOn: ["5xx"], backoff: fast, budgetPercent: 20 } }),
                rule("gateway", { retries: { attempts: 2, retryOn: ["gateway-error"], backoff: fast, budgetPercent: 20 } }),
                rule("pertry", { timeout: "2s", retries: { attempts: 2, perTryTimeout: "100ms", retryOn: ["5xx"], backoff: fast, budgetPercent: 20 } }),
                rule("timeout", { timeout: "150ms" }),
                rule("overall", { timeout: "300ms", retries: { attempts: 10, perTryTimeout: "100ms", retryOn: ["5xx"], backoff: fast, budgetPercent: 20 } }),
                rule("backoff", { retries: { attempts: 3, retryOn: ["5xx"], backoff: { baseInterval: "40ms", maxInterval: "1s" }, budgetPercent: 20 } }),
                rule("reset", { retries: { attempts: 2, retryOn: ["reset"], backoff: fast, budgetPercent: 20 } }),
              ],
            },
          ],
        }),
        // Round robin over a port nothing listens on and a live sidecar.
        host({
          name: "multi",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [{ port: dead, sidecar: true }, { port: sidecar.inboundPort, sidecar: true }],
          routes: [{ source: "Route/default/multi", http: [rule("connect", { retries: { attempts: 2, retryOn: ["connect-failure"], backoff: fast, budgetPercent: 20 } }, "multi.default"), { name: "plain", route: [{ destination: { host: "multi.default" } }] }] }],
        }),
        host({
          name: "appdown",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [{ port: orphan.inboundPort, sidecar: true }, { port: sidecar.inboundPort, sidecar: true }],
          routes: [{ source: "Route/default/appdown", http: [{ name: "defaults", route: [{ destination: { host: "appdown.default" } }], retries: { attempts: 2, retryOn: ["connect-failure", "reset", "unavailable"], budgetPercent: 20 } }] }],
        }),
        host({
          name: "greeter",
          ports: [{ port: 50051, protocol: "grpc" }],
          endpoints: [{ port: grpcSidecar.inboundPort, sidecar: true }],
          routes: [{ source: "Route/default/greeter", http: [{ name: "grpc", route: [{ destination: { host: "greeter.default" } }], retries: { attempts: 3, retryOn: ["unavailable"], backoff: fast, budgetPercent: 20 } }] }],
        }),
      ],
    });
    client = t.track(await startProxy({ app: "productpage" }, snap));
    http = t.track(new HttpClient(client.dp.ports.outbound));
  });
  after(() => t.stop());

  const call = (path: string, key: string, script: string, opts: { method?: string; body?: string } = {}) => http.request("flaky:9080", path, { ...opts, headers: { "x-key": key, "x-script": script } });
  /** The access-log line of the request for `path` (written once the response closed, a moment after the caller saw it end). */
  const logOf = async (proxy: TestProxy, path: string) => {
    const find = () => proxy.accessLog.lines.findLast((l) => l.path === path);
    await until(() => find() !== undefined, `the access-log line of ${path}`);
    return find()!;
  };

  it("a flaky upstream (503, 503, ok) succeeds with attempts 3 on 5xx", async () => {
    const res = await call("/retry5xx/a", "flaky-a", "503,503,ok");
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-attempt"], "3");
    assert.equal(app.arrivals.get("flaky-a")?.length, 3);
    const line = await logOf(client, "/retry5xx/a");
    assert.equal(line.attempts, 3);
    assert.equal(line.response_flags, "-");
  });

  it("retries exhausted: the last 503 comes back, with URX in the access log", async () => {
    const res = await call("/exhaust/b", "exhaust-b", "503");
    assert.equal(res.status, 503);
    assert.equal(app.arrivals.get("exhaust-b")?.length, 3, "one attempt and two retries");
    const line = await logOf(client, "/exhaust/b");
    assert.equal(line.response_flags, "URX");
    assert.equal(line.attempts, 3);
    assert.equal(line.response_code, 503);
  });

  it("gateway-error retries 502/503/504 but not 500", async () => {
    assert.equal((await call("/gateway/1", "gw-1", "502,504,ok")).status, 200);
    assert.equal(app.arrivals.get("gw-1")?.length, 3);
    assert.equal((await call("/gateway/2", "gw-2", "500,ok")).status, 500);
    assert.equal(app.arrivals.get("gw-2")?.length, 1);
  });

  it("POST bodies are replayed whole on every attempt", async () => {
    const body = "p".repeat(20_000);
    const res = await call("/retry5xx/post", "post-1", "503,503,ok", { method: "POST", body });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { bodyBytes: number }).bodyBytes, body.length);
    const seen = app.seen.filter((s) => s.headers["x-key"] === "post-1");
    assert.deepEqual(seen.map((s) => s.bodyBytes), [body.length, body.length, body.length]);
  });

  it("a POST whose first attempt timed out mid-exchange is replayed whole", async () => {
    const body = "q".repeat(30_000);
    const res = await call("/pertry/post", "pertry-post", "slow1000,ok", { method: "POST", body });
    assert.equal(res.status, 200);
    assert.deepEqual(app.seen.filter((s) => s.headers["x-key"] === "pertry-post").map((s) => s.bodyBytes), [body.length, body.length]);
  });

  it("a body too large to keep for replay is sent once: the failure comes back rather than a truncated retry", async () => {
    const body = "L".repeat(200_000);
    const res = await call("/retry5xx/large", "large-1", "503,ok", { method: "POST", body });
    assert.equal(res.status, 503);
    assert.deepEqual(app.seen.filter((s) => s.headers["x-key"] === "large-1").map((s) => s.bodyBytes), [body.length]);
  });

  it("an upstream that drops the connection is retried on reset", async () => {
    const res = await call("/reset/1", "reset-1", "reset,ok");
    assert.equal(res.status, 200);
    assert.equal(app.arrivals.get("reset-1")?.length, 2);
  });

  it("a per-try timeout abandons a slow attempt and the retry answers", async () => {
    const res = await call("/pertry/1", "pertry-1", "slow1000,ok");
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-attempt"], "2");
    assert.ok(res.ms >= 90 && res.ms < 900, `took ${res.ms} ms`);
  });

  it("the route timeout answers 504 UT", async () => {
    const res = await call("/timeout/1", "timeout-1", "slow1000");
    assert.equal(res.status, 504);
    assert.equal(res.headers["x-trellis-response-flags"], "UT");
    assert.ok(res.ms >= 140 && res.ms < 900, `took ${res.ms} ms`);
    assert.equal((await logOf(client, "/timeout/1")).response_flags, "UT");
  });

  it("the route timeout bounds all attempts together", async () => {
    const res = await call("/overall/1", "overall-1", "slow1000");
    assert.equal(res.status, 504);
    assert.ok(res.ms >= 290 && res.ms < 900, `took ${res.ms} ms`);
    const attempts = app.arrivals.get("overall-1")?.length ?? 0;
    assert.ok(attempts >= 2 && attempts <= 3, `${attempts} attempts in 300 ms of 100 ms tries`);
  });

  it("connect failures are retried on another endpoint", async () => {
    const replies = await inParallel(20, 4, (i) => http.request("multi:9080", `/connect/${i}`));
    assert.deepEqual(replies.map((r) => r.status), new Array(20).fill(200));
    assert.ok(replies.every((r) => servedBy(r) === "flaky"));
    await until(() => client.accessLog.lines.filter((l) => (l.path as string).startsWith("/connect/")).length === 20, "20 access-log lines");
    const retried = client.accessLog.lines.filter((l) => (l.path as string).startsWith("/connect/") && l.attempts === 2);
    assert.ok(retried.length >= 5, `only ${retried.length} of 20 needed a second attempt`);
    // Without a retry policy the same round robin fails about half the time.
    const plain = await inParallel(10, 1, (i) => http.request("multi:9080", `/plain/${i}`));
    assert.ok(plain.some((r) => r.status === 503 && r.headers["x-trellis-response-flags"] === "UF"));
  });

  it("an app that is down behind its sidecar counts as a connect failure: the default retryOn moves to a healthy endpoint", async () => {
    const replies = await inParallel(20, 4, (i) => http.request("appdown:9080", `/appdown/${i}`));
    assert.deepEqual(replies.map((r) => r.status), new Array(20).fill(200));
    await until(() => client.accessLog.lines.filter((l) => (l.path as string).startsWith("/appdown/")).length === 20, "20 access-log lines");
    assert.ok(client.accessLog.lines.some((l) => (l.path as string).startsWith("/appdown/") && l.attempts === 2), "some requests needed the retry");
  });

  it("backoff between attempts grows exponentially", async () => {
    // With the jitter draw pinned at 0.99 the waits are 39, 79 and 158 ms.
    const pinned = await startProxy({ app: "productpage" }, snap, { random: () => 0.99 });
    const pinnedHttp = new HttpClient(pinned.dp.ports.outbound);
    try {
      const res = await pinnedHttp.request("flaky:9080", "/backoff/1", { headers: { "x-key": "backoff-1", "x-script": "503,503,503,ok" } });
      assert.equal(res.status, 200);
      // The app answers 503 the moment a request arrives, so the next arrival can come no
      // sooner than the backoff after it: the lower bounds hold however loaded the machine is.
      const times = app.arrivals.get("backoff-1")!;
      const gaps = times.slice(1).map((at, i) => at - times[i]!);
      const expected = [39, 79, 158];
      gaps.forEach((g, i) => assert.ok(g >= expected[i]! - 2 && g < expected[i]! + 150, `gap ${i + 1} was ${g.toFixed(1)} ms, expected about ${expected[i]} (gaps ${gaps.map((x) => x.toFixed(0)).join(", ")})`));
    } finally {
      pinnedHttp.close();
      await pinned.stop();
    }
  });

  it("gRPC UNAVAILABLE is retried; other codes are not", async () => {
    const grpc = new GrpcTestClient(client.dp.ports.outbound, "greeter:50051");
    try {
      const ok = await grpc.call("world", { "x-key": "g1", "x-fail": "2", "x-code": String(GrpcCode.UNAVAILABLE) });
      assert.deepEqual(ok, { code: GrpcCode.OK, details: "", reply: "hello world" });
      assert.equal(grpcFailures.get("g1"), 3);
      const internal = await grpc.call("world", { "x-key": "g2", "x-fail": "1", "x-code": String(GrpcCode.INTERNAL) });
      assert.equal(internal.code, GrpcCode.INTERNAL);
      assert.equal(grpcFailures.get("g2"), 1);
    } finally {
      grpc.close();
    }
  });
});
