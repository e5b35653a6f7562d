import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { UpstreamTimeoutError } from "../core/errors";
import { routedContext } from "../telemetry/test-context";
import { toReadableSpan } from "./span-record";

const origin = { resource: resourceFromAttributes({ "service.name": "productpage" }), scope: { name: "trellis-proxy" } };
const span = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", parentSpanId: "00f067aa0ba902b7", traceState: undefined };
const req = { method: "GET", path: "/reviews/1?user=jason", authority: "reviews:9080" };

describe("toReadableSpan", () => {
  test("outbound: a client span with the route, the upstream peer, the retries and the flags", () => {
    const ctx = routedContext("outbound");
    ctx.attempts = 3;
    ctx.flags.add("URX");
    const s = toReadableSpan(span, ctx, req, { status: 200, durationMs: 4.25 }, origin);
    assert.equal(s.kind, 2);
    assert.equal(s.name, "reviews.default:9080/*");
    assert.equal(s.parentSpanContext?.spanId, span.parentSpanId);
    assert.deepEqual(s.status, { code: 0 });
    assert.deepEqual(s.duration, [0, 4_250_000]);
    assert.deepEqual(s.attributes, {
      "http.request.method": "GET",
      "url.path": "/reviews/1",
      "trellis.protocol": "http",
      "trellis.response_flags": "URX",
      "http.request.body.size": 0,
      "http.response.body.size": 0,
      "http.response.status_code": 200,
      "server.address": "reviews.default",
      "server.port": 9080,
      "trellis.upstream_cluster": "outbound|9080|v2|reviews.default",
      "trellis.route": "reviews-canary",
      "trellis.route.source": "Route/default/reviews",
      "network.peer.address": "10.0.1.12",
      "network.peer.port": 15006,
      "trellis.peer.workload": "reviews-v2-5c4b",
      "trellis.peer.service": "reviews",
      "trellis.peer.namespace": "default",
      "trellis.peer.version": "v2",
      "http.request.resend_count": 2,
    });
    const startNs = s.startTime[0] * 1e9 + s.startTime[1];
    assert.ok(Math.abs(startNs / 1e6 - Date.now()) < 5_000, "start is wall-clock time");
  });

  test("inbound: a server span whose peer is the caller", () => {
    const ctx = routedContext("inbound");
    const s = toReadableSpan({ ...span, parentSpanId: undefined }, ctx, req, { status: 404, durationMs: 1 }, origin);
    assert.equal(s.kind, 1);
    assert.equal(s.parentSpanContext, undefined);
    assert.equal(s.attributes["trellis.peer.workload"], "productpage-v1-7d9f");
    assert.equal(s.attributes["client.address"], "10.0.0.7:43122");
    assert.equal(s.attributes["http.request.resend_count"], undefined);
    assert.deepEqual(s.status, { code: 0 }, "a 4xx from the app is not the server span's error");
  });

  test("a local failure, a 5xx or no response at all is an error", () => {
    const timedOut = routedContext("outbound");
    timedOut.error = new UpstreamTimeoutError("upstream request timeout after 100 ms");
    const s = toReadableSpan(span, timedOut, req, { status: 504, durationMs: 100 }, origin);
    assert.deepEqual(s.status, { code: 2, message: "upstream request timeout after 100 ms" });
    assert.equal(s.attributes["error.type"], "TRELLIS_UPSTREAM_TIMEOUT");
    assert.equal(toReadableSpan(span, routedContext("inbound"), req, { status: 503, durationMs: 1 }, origin).status.code, 2);
    assert.equal(toReadableSpan(span, routedContext("inbound"), req, { status: 0, durationMs: 1 }, origin).status.code, 2);
    assert.equal(toReadableSpan(span, routedContext("outbound", "grpc"), req, { status: 200, grpcStatus: "14", durationMs: 1 }, origin).status.code, 2);
  });
});
