import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { status as GrpcCode } from "@grpc/grpc-js";
import type { HttpRouteRule } from "@trellis/config";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, inParallel, until } from "./helpers/client";
import { GrpcTestClient, SAY_HELLO, startGrpcApp } from "./helpers/grpc";
import type { GrpcApp } from "./helpers/grpc";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const rule = (name: string, fault: HttpRouteRule["fault"]): HttpRouteRule => ({ name, match: [{ path: { prefix: `/${name}` } }], fault, route: [{ destination: { host: "ratings.default" } }] });

describe("fault injection through a sidecar pair", () => {
  const t = new Teardown();
  let app: TestServer;
  let grpcApp: GrpcApp;
  let client: TestProxy;
  let http: HttpClient;

  before(async () => {
    app = t.track(await startHttpApp("ratings"));
    const sidecar = t.track(await startSidecar("ratings", app.port));
    grpcApp = t.track(await startGrpcApp((text) => `hello ${text}`));
    const grpcSidecar = t.track(await startSidecar("greeter", grpcApp.port, { port: 50051, protocol: "grpc" }));
    const snap = snapshot({
      service: "productpage",
      hosts: [
        host({
          name: "ratings",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [{ port: sidecar.inboundPort, sidecar: true }],
          routes: [
            {
              source: "Route/default/ratings",
              http: [
                rule("delay-all", { delay: { fixedDelay: "150ms", percentage: 100 } }),
                rule("delay-half", { delay: { fixedDelay: "100ms", percentage: 50 } }),
                rule("abort-all", { abort: { httpStatus: 418, percentage: 100 } }),
                rule("abort-half", { abort: { httpStatus: 503, percentage: 50 } }),
                rule("abort-grpc-only", { abort: { grpcStatus: 14, percentage: 100 } }),
                rule("both", { delay: { fixedDelay: "80ms", percentage: 100 }, abort: { httpStatus: 500, percentage: 100 } }),
              ],
            },
          ],
        }),
        host({
          name: "greeter",
          ports: [{ port: 50051, protocol: "grpc" }],
          endpoints: [{ port: grpcSidecar.inboundPort, sidecar: true }],
          routes: [{ source: "Route/default/greeter", http: [{ name: "grpc-abort", match: [{ headers: { "x-fault": { exact: "abort" } } }], fault: { abort: { grpcStatus: 7, percentage: 100 } }, route: [{ destination: { host: "greeter.default" } }] }, { name: "grpc", route: [{ destination: { host: "greeter.default" } }] }] }],
        }),
      ],
    });
    client = t.track(await startProxy({ app: "productpage" }, snap));
    http = t.track(new HttpClient(client.dp.ports.outbound));
  });
  after(() => t.stop());

  const call = (path: string) => http.request("ratings:9080", path);
  const linesFor = async (prefix: string, count: number) => {
    const lines = () => client.accessLog.lines.filter((l) => (l.path as string).startsWith(prefix));
    await until(() => lines().length >= count, `${count} access-log lines for ${prefix}`);
    return lines();
  };

  it("a 100% delay holds every request, then forwards it (DI)", async () => {
    const replies = await inParallel(10, 10, (i) => call(`/delay-all/${i}`));
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.ok(r.ms >= 145, `answered after ${r.ms} ms`);
    }
    const lines = await linesFor("/delay-all/", 10);
    assert.ok(lines.every((l) => l.response_flags === "DI"));
  });

  it("a 50% delay holds about half", async () => {
    const replies = await inParallel(100, 25, (i) => call(`/delay-half/${i}`));
    assert.ok(replies.every((r) => r.status === 200));
    const delayed = new Set((await linesFor("/delay-half/", 100)).filter((l) => l.response_flags === "DI").map((l) => l.path));
    // Binomial(100, 0.5): sd 5.
    assert.ok(delayed.size > 25 && delayed.size < 75, `${delayed.size} of 100 delayed`);
    const held: number[] = [];
    const passed: number[] = [];
    replies.forEach((r, i) => (delayed.has(`/delay-half/${i}`) ? held : passed).push(r.ms));
    assert.ok(held.every((ms) => ms >= 95), `a delayed request answered after ${Math.min(...held)} ms`);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(held) - mean(passed) > 50, `the others were not held: means ${mean(held).toFixed(0)} vs ${mean(passed).toFixed(0)} ms`);
  });

  it("a 100% abort answers the configured status without reaching the app (FI)", async () => {
    const before = app.seen.length;
    const res = await call("/abort-all/1");
    assert.equal(res.status, 418);
    assert.equal(res.headers["x-trellis-response-flags"], "FI");
    assert.equal(res.body, "fault filter abort");
    assert.equal(app.seen.length, before);
    // Counted against the destination the route was for (Istio's destination_service), so the
    // graph's edge to ratings shows the injected errors, not an edge to "unknown".
    const metrics = await client.dp.metrics.registry.metrics();
    assert.match(metrics, /istio_requests_total\{[^}]*reporter="source"[^}]*destination_service="ratings\.default"[^}]*response_flags="FI"[^}]*response_code="418"/);
    const line = (await linesFor("/abort-all/", 1))[0]!;
    assert.equal(line.upstream_cluster, null, "no cluster was picked");
  });

  it("a 50% abort fails about half", async () => {
    const replies = await inParallel(200, 20, (i) => call(`/abort-half/${i}`));
    const aborted = replies.filter((r) => r.status === 503 && r.headers["x-trellis-response-flags"] === "FI").length;
    assert.equal(replies.filter((r) => r.status === 200).length, 200 - aborted, "the rest went through");
    // Binomial(200, 0.5): sd ≈ 7.1.
    assert.ok(aborted > 65 && aborted < 135, `${aborted} of 200 aborted`);
  });

  it("an abort with only a gRPC status answers HTTP callers with its HTTP mapping", async () => {
    const res = await call("/abort-grpc-only");
    assert.equal(res.status, 503);
    assert.equal(res.headers["x-trellis-response-flags"], "FI");
  });

  it("delay then abort: both apply, in that order", async () => {
    const res = await call("/both");
    assert.equal(res.status, 500);
    assert.ok(res.ms >= 75, `answered after ${res.ms} ms`);
    assert.equal((await linesFor("/both", 1))[0]!.response_flags, "DI,FI");
  });

  it("a gRPC abort reaches a real grpc-js client as its status; other calls go through", async () => {
    const grpc = new GrpcTestClient(client.dp.ports.outbound, "greeter:50051");
    try {
      const calls = grpcApp.calls;
      const denied = await grpc.call("x", { "x-fault": "abort" });
      assert.equal(denied.code, GrpcCode.PERMISSION_DENIED);
      assert.equal(denied.details, "fault filter abort");
      assert.equal(grpcApp.calls, calls, "the app never saw the aborted call");
      assert.deepEqual(await grpc.call("y"), { code: GrpcCode.OK, details: "", reply: "hello y" });
    } finally {
      grpc.close();
    }
  });

  it("the gRPC abort is a trailers-only response: HTTP 200, grpc-status in the one header block", async () => {
    const session = http2.connect(`http://127.0.0.1:${client.dp.ports.outbound}`);
    try {
      const { headers, endStream } = await new Promise<{ headers: http2.IncomingHttpHeaders; endStream: boolean }>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": SAY_HELLO, ":authority": "greeter:50051", "content-type": "application/grpc", te: "trailers", "x-fault": "abort" });
        req.once("response", (h, flags) => resolve({ headers: h, endStream: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 }));
        req.once("error", reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      assert.equal(headers[":status"], 200);
      assert.equal(headers["grpc-status"], "7");
      assert.equal(headers["content-type"], "application/grpc");
      assert.equal(endStream, true, "no body and no separate trailers");
    } finally {
      session.close();
    }
  });
});
