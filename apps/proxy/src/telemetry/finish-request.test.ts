import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AccessLog } from "./access-log";
import { finishRequest, finishTcp } from "./finish-request";
import { ProxyMetrics } from "./metrics";
import { routedContext } from "./test-context";

describe("finishRequest", () => {
  test("records the metrics and the access log line once, even when called twice (finish and close)", async () => {
    const chunks: string[] = [];
    const telemetry = { metrics: new ProxyMetrics(), accessLog: new AccessLog({ sink: { write: (c: string) => chunks.push(c) } }) };
    const ctx = routedContext("outbound");
    ctx.flags.add("DC");
    const req = { method: "POST", path: "/x", authority: "reviews", headers: {} };
    finishRequest(telemetry, ctx, req, { status: 0, durationMs: 3 });
    finishRequest(telemetry, ctx, req, { status: 0, durationMs: 4 });
    telemetry.accessLog.flush();
    const v = (await telemetry.metrics.registry.getSingleMetric("istio_requests_total")!.get()).values;
    assert.deepEqual(v.map((x) => [x.labels.response_code, x.labels.response_flags, x.value]), [["0", "DC", 1]]);
    const lines = chunks.join("").trim().split("\n");
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).response_flags, "DC");
  });

  test("finishTcp counts the close and logs the connection once", async () => {
    const chunks: string[] = [];
    const telemetry = { metrics: new ProxyMetrics(), accessLog: new AccessLog({ sink: { write: (c: string) => chunks.push(c) } }) };
    const ctx = routedContext("inbound", "tcp");
    finishTcp(telemetry, ctx, { sent: 5, received: 6, durationMs: 10 });
    finishTcp(telemetry, ctx, { sent: 5, received: 6, durationMs: 10 });
    telemetry.accessLog.flush();
    const closed = (await telemetry.metrics.registry.getSingleMetric("istio_tcp_connections_closed_total")!.get()).values;
    assert.equal(closed[0]?.value, 1);
    assert.equal(chunks.join("").trim().split("\n").length, 1);
  });
});
