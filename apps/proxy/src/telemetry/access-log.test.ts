import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { AccessDeniedError, UpstreamConnectError } from "../core/errors";
import { AccessLog } from "./access-log";
import { routedContext } from "./test-context";

function capture() {
  const chunks: string[] = [];
  return {
    chunks,
    sink: { write: (c: string) => chunks.push(c) },
    lines: () => chunks.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const req = { method: "GET", path: "/reviews/1?x=y", authority: "reviews:9080", headers: { "user-agent": "curl/8", "x-request-id": "abc-123", authorization: "Bearer secret-token" } };

describe("AccessLog", () => {
  test("one JSON line per request with Envoy-like fields", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink });
    const ctx = routedContext("outbound");
    ctx.flags.add("URX");
    ctx.flags.add("UF");
    ctx.attempts = 3;
    ctx.requestBytes = 7;
    ctx.responseBytes = 91;
    ctx.error = new UpstreamConnectError("connect ECONNREFUSED");
    log.logRequest(ctx, req, { status: 503, durationMs: 42.1234567 });
    log.flush();
    const [line] = out.lines();
    assert.deepEqual(line, {
      start_time: new Date(ctx.startTime).toISOString(),
      method: "GET",
      path: "/reviews/1?x=y",
      protocol: "http",
      response_code: 503,
      grpc_status: null,
      response_flags: "UF,URX",
      bytes_received: 7,
      bytes_sent: 91,
      duration: 42.123,
      upstream_host: "10.0.1.12:15006",
      upstream_cluster: "outbound|9080|v2|reviews.default",
      route_name: "reviews-canary",
      authority: "reviews:9080",
      user_agent: "curl/8",
      x_request_id: "abc-123",
      downstream_remote_address: "10.0.0.7:43122",
      direction: "outbound",
      source_workload: "productpage-v1-7d9f",
      destination_workload: "reviews-v2-5c4b",
      attempts: 3,
      connection_security_policy: "none",
      peer_principal: null,
      reason: "TRELLIS_UPSTREAM_CONNECT_FAILURE",
    });
    assert.ok(!out.chunks.join("").includes("secret-token"), "no other header reaches the log");
  });

  test("a denial names the deciding policy; no flags print as '-'", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink });
    const ctx = routedContext("inbound");
    ctx.error = new AccessDeniedError("AuthorizationPolicy/default/deny-ratings");
    ctx.flags.add("RBAC");
    log.logRequest(ctx, req, { status: 403, durationMs: 0.1 });
    const ok = routedContext("inbound");
    log.logRequest(ok, req, { status: 200, durationMs: 0.1 });
    log.flush();
    const [denied, passed] = out.lines();
    assert.equal(denied?.reason, "AuthorizationPolicy/default/deny-ratings");
    assert.equal(denied?.response_flags, "RBAC");
    assert.equal(passed?.reason, null);
    assert.equal(passed?.response_flags, "-");
  });

  test("TCP connections get a line too", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink });
    log.logTcp(routedContext("inbound", "tcp"), { sent: 10, received: 20, durationMs: 5 });
    log.flush();
    const [line] = out.lines();
    assert.equal(line?.protocol, "tcp");
    assert.equal(line?.bytes_sent, 10);
    assert.equal(line?.bytes_received, 20);
    // The HTTP fields are absent, not null, and the rest come in the request line's order.
    assert.deepEqual(Object.keys(line!), ["start_time", "protocol", "response_flags", "bytes_received", "bytes_sent", "duration", "upstream_host", "upstream_cluster", "route_name", "downstream_remote_address", "direction", "source_workload", "destination_workload", "attempts", "connection_security_policy", "peer_principal", "reason"]);
  });

  test("lines of one flush interval go out in one write", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const out = capture();
    const log = new AccessLog({ sink: out.sink, flushEveryMs: 100 });
    for (let i = 0; i < 3; i++) log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    await tick();
    t.mock.timers.tick(50);
    for (let i = 0; i < 2; i++) log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    assert.equal(out.chunks.length, 0, "nothing written before the interval is up");
    t.mock.timers.tick(50);
    assert.equal(out.chunks.length, 1);
    assert.equal(out.lines().length, 5);
    log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    t.mock.timers.tick(99);
    assert.equal(out.chunks.length, 1);
    t.mock.timers.tick(1);
    assert.equal(out.chunks.length, 2, "the next line starts the next interval");
    log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    log.flush();
    assert.equal(out.chunks.length, 3, "flush() writes at once (exit)");
  });

  test("a full batch is written at once", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink, maxBufferBytes: 100 });
    log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    assert.equal(out.chunks.length, 1);
  });

  test("odd input never throws: array headers, missing headers, huge path, bad numbers, a failing sink", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink });
    const ctx = routedContext("outbound");
    log.logRequest(ctx, { ...req, path: "/" + "a".repeat(100_000), headers: { "user-agent": ["a", "b"], "x-request-id": "\ud800" } }, { status: 200, durationMs: Number.NaN });
    log.logRequest(ctx, { ...req, headers: undefined as never }, { status: 200, durationMs: 1 });
    log.flush();
    const [big, noHeaders] = out.lines();
    assert.equal(big?.user_agent, "a");
    assert.ok(String(big?.path).length < 3000);
    assert.equal(big?.duration, 0);
    assert.equal(noHeaders?.user_agent, null);

    const failing = new AccessLog({ sink: { write: () => { throw new Error("EPIPE"); } } });
    failing.logRequest(ctx, req, { status: 200, durationMs: 1 });
    failing.logRequest(ctx, req, { status: 200, durationMs: 1 });
    assert.doesNotThrow(() => failing.flush());
    assert.equal(failing.dropped, 2);
  });

  test("quotes, backslashes, newlines and control characters stay inside their field, one line per request", () => {
    const out = capture();
    const log = new AccessLog({ sink: out.sink });
    const ctx = routedContext("inbound");
    ctx.audited = ['AuthorizationPolicy/default/"audit"'];
    const hostile = 'a"b\\c\n{"x":1}\u0001\u2028';
    log.logRequest(ctx, { ...req, method: "GET\r\n", path: `/${hostile}`, authority: hostile, headers: { "user-agent": hostile, "x-request-id": "\n" } }, { status: 200, durationMs: 1 });
    log.flush();
    assert.equal(out.chunks.join("").split("\n").filter(Boolean).length, 1);
    const [line] = out.lines();
    assert.equal(line?.path, `/${hostile}`);
    assert.equal(line?.authority, hostile);
    assert.equal(line?.user_agent, hostile);
    assert.equal(line?.method, "GET\r\n");
    assert.equal(line?.x_request_id, "\n");
    assert.deepEqual(line?.audit_policies, ['AuthorizationPolicy/default/"audit"']);
  });

  test("a backed-up sink drops lines instead of buffering without bound", () => {
    const chunks: string[] = [];
    const log = new AccessLog({ sink: { write: (c: string) => chunks.push(c), writableLength: 1_000_000 }, maxPendingBytes: 1000 });
    log.logRequest(routedContext("outbound"), req, { status: 200, durationMs: 1 });
    log.flush();
    assert.equal(chunks.length, 0);
    assert.equal(log.dropped, 1);
  });
});
