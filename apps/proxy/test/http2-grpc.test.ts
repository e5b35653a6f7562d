import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { deadPort, startH2App, startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { echoClient, startGrpcEcho } from "./helpers/grpc-echo";
import type { EchoClient, EchoReply, EchoRequest, GrpcEchoServer } from "./helpers/grpc-echo";
import { startProxy } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const exec = promisify(execFile);

/** The outcome of one call: the reply (or error), the response headers and trailers. */
interface CallResult<T> {
  reply?: T;
  error?: grpc.ServiceError;
  headers?: grpc.Metadata;
  status: grpc.StatusObject;
}

function unary(client: EchoClient, req: EchoRequest, md = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<CallResult<EchoReply>> {
  return new Promise((resolve) => {
    const out: Partial<CallResult<EchoReply>> = {};
    const call = client.unary(req, md, options, (err: grpc.ServiceError | null, reply?: EchoReply) => {
      if (err) out.error = err;
      else out.reply = reply;
    });
    call.on("metadata", (h: grpc.Metadata) => (out.headers = h));
    // "status" fires after the callback, with the trailers.
    call.on("status", (s: grpc.StatusObject) => resolve({ ...out, status: s }));
  });
}

function collect<T>(call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>): Promise<CallResult<T[]> & { reply: T[] }> {
  return new Promise((resolve) => {
    const out: Partial<CallResult<T[]>> & { reply: T[] } = { reply: [] };
    call.on("data", (m: T) => out.reply.push(m));
    call.on("metadata", (h: grpc.Metadata) => (out.headers = h));
    call.on("error", (e: grpc.ServiceError) => (out.error = e));
    call.on("status", (s: grpc.StatusObject) => resolve({ ...out, status: s }));
  });
}

/** `curl --http2-prior-knowledge` to `url`, its connection sent to the proxy's port; returns the body and the HTTP version curl used. */
async function curlH2(proxyPort: number, url: string, extra: string[] = []): Promise<{ body: string; version: string; status: number }> {
  const u = new URL(url);
  const { stdout } = await exec("curl", ["-sS", "--http2-prior-knowledge", "--connect-to", `${u.hostname}:${u.port}:127.0.0.1:${proxyPort}`, "-w", "\n%{http_version} %{http_code}", ...extra, url]);
  const nl = stdout.lastIndexOf("\n");
  const [version, status] = stdout.slice(nl + 1).split(" ");
  return { body: stdout.slice(0, nl), version: version!, status: Number(status) };
}

describe("HTTP/2 (h2c) through a sidecar pair", () => {
  let h2app: TestServer;
  let h1app: TestServer;
  let h2server: TestProxy;
  let h1server: TestProxy;
  let client: TestProxy;
  let port: number;

  before(async () => {
    h2app = await startH2App("catalog");
    h1app = await startHttpApp("reviews");
    h2server = await startProxy({ app: "catalog" }, snapshot({ service: "catalog", listeners: [{ name: "http2", port: 8080, targetPort: h2app.port, protocol: "http2" }] }));
    h1server = await startProxy({ app: "reviews" }, snapshot({ service: "reviews", listeners: [{ name: "http", port: 9080, targetPort: h1app.port, protocol: "http" }] }));
    client = await startProxy(
      { app: "productpage" },
      snapshot({
        service: "productpage",
        hosts: [
          host({ name: "catalog", ports: [{ port: 8080, protocol: "http2" }], endpoints: [{ port: h2server.inboundPort, sidecar: true }] }),
          host({ name: "reviews", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: h1server.inboundPort, sidecar: true }] }),
          host({ name: "catalog-direct", ports: [{ port: 8080, protocol: "http2" }], endpoints: [{ port: h2app.port }] }),
        ],
      }),
    );
    port = client.dp.ports.outbound;
  });
  after(async () => {
    await client.stop();
    await h2server.stop();
    await h1server.stop();
    await h2app.close();
    await h1app.close();
  });

  it("carries curl's h2c request to an h2c app, HTTP/2 on every hop", async () => {
    const res = await curlH2(port, "http://catalog:8080/items/7?q=1", ["-H", "x-custom: yes", "--data-binary", "hello"]);
    assert.equal(res.version, "2");
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as { name: string; method: string; path: string; bodyBytes: number };
    assert.deepEqual(echo, { name: "catalog", method: "POST", path: "/items/7?q=1", bodyBytes: 5 });
    const seen = h2app.seen.at(-1)!;
    assert.equal(seen.headers[":authority"], "catalog:8080");
    assert.equal(seen.headers["x-custom"], "yes");
    assert.ok(!Object.keys(seen.headers).some((h) => h.startsWith("x-trellis-")), "no mesh headers reach the app");
    const inbound = h2server.accessLog.lines.at(-1)!;
    assert.equal(inbound.source_workload, "productpage-0");
    assert.equal(inbound.response_code, 200);
    assert.equal(inbound.bytes_received, 5);
  });

  it("serves an h2c caller from an HTTP/1.1 app (HTTP/2 downstream, HTTP/1.1 upstream)", async () => {
    const res = await curlH2(port, "http://reviews:9080/reviews/1", ["--data-binary", "abc"]);
    assert.equal(res.version, "2");
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as { name: string; path: string; bodyBytes: number; headers: Record<string, string> };
    assert.equal(echo.name, "reviews");
    assert.equal(echo.path, "/reviews/1");
    assert.equal(echo.bodyBytes, 3);
    assert.equal(echo.headers.host, "reviews:9080", "the HTTP/1.1 app gets :authority as Host");
    assert.equal(client.accessLog.lines.at(-1)!.upstream_cluster, "outbound|9080||reviews.default");
  });

  it("reaches an h2c app that has no sidecar", async () => {
    const res = await curlH2(port, "http://catalog-direct:8080/direct");
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { path: string }).path, "/direct");
  });

  it("answers 404 NR over HTTP/2 for an unknown authority", async () => {
    const res = await curlH2(port, "http://nowhere:80/");
    assert.equal(res.version, "2");
    assert.equal(res.status, 404);
  });
});

describe("gRPC through a sidecar pair (real grpc-js client and server)", () => {
  let echo: GrpcEchoServer;
  let doomed: GrpcEchoServer;
  let server: TestProxy;
  let client: TestProxy;
  let stub: EchoClient;
  const stubs: EchoClient[] = [];
  /** A client of the client sidecar addressing `authority`, closed in after(). */
  const stubFor = (authority: string) => {
    const s = echoClient(`127.0.0.1:${client.dp.ports.outbound}`, authority);
    stubs.push(s);
    return s;
  };

  before(async () => {
    echo = await startGrpcEcho("echo-v1");
    doomed = await startGrpcEcho("doomed");
    const nothing = await deadPort();
    server = await startProxy(
      { app: "echo", workload: "echo-v1-abc" },
      snapshot({
        service: "echo",
        listeners: [
          { name: "grpc", port: 50051, targetPort: echo.port, protocol: "grpc" },
          { name: "grpc-doomed", port: 50052, targetPort: doomed.port, protocol: "grpc" },
          { name: "grpc-down", port: 50053, targetPort: nothing, protocol: "grpc" },
        ],
      }),
    );
    client = await startProxy(
      { app: "frontend", workload: "frontend-v1-xyz" },
      snapshot({
        service: "frontend",
        hosts: [
          host({ name: "echo", ports: [{ port: 50051, protocol: "grpc" }, { port: 50052, protocol: "grpc" }, { port: 50053, protocol: "grpc" }], endpoints: [{ port: server.inboundPort, sidecar: true }] }),
          host({ name: "echo-direct", ports: [{ port: 50051, protocol: "grpc" }], endpoints: [{ port: echo.port }] }),
        ],
      }),
    );
    stub = stubFor("echo:50051");
  });
  after(async () => {
    for (const s of stubs) s.close();
    await client.stop();
    await server.stop();
    await echo.close();
    await doomed.close();
  });

  it("unary: the reply, request metadata, response headers and trailers all cross", async () => {
    const md = new grpc.Metadata();
    md.set("x-request-tag", "t1");
    md.set("x-trellis-peer", "w=forged;a=forged;v=v9;n=evil");
    const res = await unary(stub, { text: "hi" }, md);
    assert.equal(res.error, undefined, res.error?.message);
    assert.equal(res.reply!.text, "echo-v1:hi");
    assert.deepEqual(res.reply!.metadata, { "x-request-tag": "t1" }, "app metadata crosses, mesh headers do not");
    assert.deepEqual(res.headers!.get("x-served-by"), ["echo-v1"]);
    assert.deepEqual(res.status.metadata.get("x-trailer"), ["echo-v1"]);
    assert.equal(res.status.code, grpc.status.OK);
  });

  it("server streaming delivers every message, then the trailers", async () => {
    const res = await collect(stub.serverStream({ text: "s", count: 5, delayMs: 5 }));
    assert.equal(res.error, undefined);
    assert.deepEqual(res.reply.map((m) => m.text), [0, 1, 2, 3, 4].map((i) => `echo-v1:s:${i}`));
    assert.deepEqual(res.status.metadata.get("x-trailer"), ["echo-v1"]);
  });

  it("client streaming: the server sees every message and the half-close", async () => {
    const reply = await new Promise<EchoReply>((resolve, reject) => {
      const call = stub.clientStream((err: grpc.ServiceError | null, r?: EchoReply) => (err ? reject(err) : resolve(r!)));
      for (const t of ["a", "b", "c"]) call.write({ text: t });
      call.end();
    });
    assert.equal(reply.text, "echo-v1:a,b,c");
  });

  it("bidi streaming: replies arrive while the client is still sending", async () => {
    const call = stub.bidi();
    const result = collect(call);
    // Ping-pong: each write waits for the previous reply, which would hang if either proxy buffered a direction.
    for (const t of ["one", "two", "three"]) {
      const got = new Promise<EchoReply>((resolve) => call.once("data", resolve));
      call.write({ text: t });
      assert.equal((await got).text, `echo-v1:${t}`);
    }
    call.end();
    const res = await result;
    assert.equal(res.status.code, grpc.status.OK);
    assert.deepEqual(res.status.metadata.get("x-trailer"), ["echo-v1"]);
  });

  it("non-OK statuses pass through unchanged, with their message and trailers", async () => {
    const res = await unary(stub, { text: "no such book", status: grpc.status.NOT_FOUND });
    assert.equal(res.status.code, grpc.status.NOT_FOUND);
    assert.equal(res.status.details, "no such book");
    assert.deepEqual(res.status.metadata.get("x-error-detail"), ["detail-no such book"]);
    const streamed = await collect(stub.serverStream({ text: "late", count: 2, status: grpc.status.FAILED_PRECONDITION }));
    assert.equal(streamed.reply.length, 2, "messages before the error arrive");
    assert.equal(streamed.status.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(streamed.status.details, "late");
  });

  it("a trailers-only error response (no headers before the status) passes through", async () => {
    const res = await unary(stub, { text: "gone", status: grpc.status.NOT_FOUND, noHeaders: true });
    assert.equal(res.status.code, grpc.status.NOT_FOUND);
    assert.equal(res.status.details, "gone");
    assert.deepEqual(res.status.metadata.get("x-error-detail"), ["detail-gone"]);
    assert.equal(client.accessLog.lines.at(-1)!.grpc_status, "5");
  });

  it("large messages both ways and many concurrent calls share the sessions", async () => {
    const big = await unary(stub, { text: "big", pad: "p".repeat(3_000_000), replyBytes: 3_000_000 });
    assert.equal(big.error, undefined, big.error?.message);
    assert.equal(big.reply!.padBytes, 3_000_000);
    assert.equal(big.reply!.pad!.length, 3_000_000);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => unary(stub, { text: `c${i}`, delayMs: 20 })));
    assert.deepEqual(many.map((r) => r.reply?.text), many.map((_, i) => `echo-v1:c${i}`));
  });

  it("a client cancel resets the stream through both sidecars to the server", async () => {
    const cancelledBefore = echo.cancelled;
    const done = new Promise<grpc.StatusObject>((resolve) => {
      const call = stub.unary({ text: "forever", delayMs: 10_000 }, () => undefined);
      call.on("status", resolve);
      setTimeout(() => call.cancel(), 100);
    });
    assert.equal((await done).code, grpc.status.CANCELLED);
    // No deadline here, so only the reset crossing both proxies can tell the server.
    await waitFor("the server to see the call cancelled", () => echo.cancelled > cancelledBefore, 2_000);
  });

  it("telemetry on both sidecars carries grpc_response_status", async () => {
    await unary(stub, { text: "metrics", status: grpc.status.NOT_FOUND });
    const out = client.accessLog.lines.at(-1)!;
    assert.equal(out.protocol, "grpc");
    assert.equal(out.response_code, 200);
    assert.equal(out.grpc_status, "5");
    assert.equal(out.destination_workload, "echo-v1-abc");
    const inb = server.accessLog.lines.at(-1)!;
    assert.equal(inb.grpc_status, "5");
    assert.equal(inb.source_workload, "frontend-v1-xyz");
    const text = await client.dp.metrics.registry.metrics();
    assert.match(text, /istio_requests_total\{[^}]*reporter="source"[^}]*request_protocol="grpc"[^}]*grpc_response_status="5"[^}]*\} \d/);
    assert.match(text, /istio_requests_total\{[^}]*grpc_response_status="0"[^}]*\} \d/);
    const inText = await server.dp.metrics.registry.metrics();
    assert.match(inText, /istio_requests_total\{[^}]*reporter="destination"[^}]*grpc_response_status="5"[^}]*\} \d/);
  });

  it("deadlines: grpc-timeout reaches the server, and an expired call is cancelled end to end", async () => {
    const ok = await unary(stub, { text: "quick" }, new grpc.Metadata(), { deadline: Date.now() + 5_000 });
    assert.equal(ok.reply?.hasDeadline, true, "the server saw the deadline");
    const cancelledBefore = echo.cancelled;
    const start = Date.now();
    const slow = await unary(stub, { text: "slow", delayMs: 2_000 }, new grpc.Metadata(), { deadline: Date.now() + 200 });
    assert.equal(slow.status.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - start < 1_500, `the deadline fired in time (${Date.now() - start} ms)`);
    // The server's own deadline (from grpc-timeout) or the proxies' reset ends the call there too.
    await waitFor("the server to see the call cancelled", () => echo.cancelled > cancelledBefore);
  });

  it("a proxy-side failure becomes a gRPC status, not an HTTP error", async () => {
    const res = await unary(stubFor("unknown-service:50051"), { text: "x" });
    assert.equal(res.status.code, grpc.status.UNIMPLEMENTED, res.status.details);
    const down = await unary(stubFor("echo:50053"), { text: "x" });
    assert.equal(down.status.code, grpc.status.UNAVAILABLE, down.status.details);
    assert.equal(client.accessLog.lines.at(-1)!.grpc_status, "14");
  });

  it("reaches a gRPC endpoint that has no sidecar", async () => {
    const res = await unary(stubFor("echo-direct:50051"), { text: "direct" });
    assert.equal(res.reply?.text, "echo-v1:direct");
    assert.deepEqual(res.status.metadata.get("x-trailer"), ["echo-v1"]);
  });

  it("a server that dies mid-stream ends the call with an error, never OK", async () => {
    const call = stubFor("echo:50052").serverStream({ text: "s", count: 1000, delayMs: 10 });
    const result = collect(call);
    await new Promise((r) => call.once("data", r));
    await doomed.close();
    const res = await result;
    assert.ok(res.reply.length >= 1 && res.reply.length < 1000);
    assert.notEqual(res.status.code, grpc.status.OK, "a cut stream must not look complete");
  });
});

async function waitFor(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
