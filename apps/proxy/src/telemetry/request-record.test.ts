import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProxyMetrics } from "./metrics";
import { recordRequest, recordTcpBytes, recordTcpClose, recordTcpOpen } from "./request-record";
import { REVIEWS, routedContext } from "./test-context";

/** One exported value; histograms name their _bucket/_sum/_count rows. */
type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

async function series(m: ProxyMetrics, name: string) {
  return (await m.registry.getSingleMetric(name)!.get()).values as Sample[];
}

describe("recordRequest", () => {
  test("outbound: reported by the source; labels from the context; security policy unknown", async () => {
    const m = new ProxyMetrics();
    const ctx = routedContext("outbound");
    ctx.peerPrincipal = "spiffe://trellis.local/ns/default/sa/reviews"; // what the upstream sidecar proved
    ctx.requestBytes = 120;
    ctx.responseBytes = 4000;
    recordRequest(m, ctx, { status: 200, durationMs: 12.5 });
    const [v] = await series(m, "istio_requests_total");
    assert.deepEqual(v?.labels, {
      reporter: "source",
      source_workload: "productpage-v1-7d9f",
      source_workload_namespace: "default",
      source_principal: "spiffe://trellis.local/ns/default/sa/productpage",
      source_app: "productpage",
      source_version: "v1",
      source_canonical_service: "productpage",
      source_canonical_revision: "v1",
      destination_workload: "reviews-v2-5c4b",
      destination_workload_namespace: "default",
      destination_principal: "spiffe://trellis.local/ns/default/sa/reviews",
      destination_app: "reviews",
      destination_version: "v2",
      destination_canonical_service: "reviews",
      destination_canonical_revision: "v2",
      destination_service: "reviews.default",
      destination_service_name: "reviews",
      destination_service_namespace: "default",
      request_protocol: "http",
      response_flags: "-",
      connection_security_policy: "unknown",
      response_code: "200",
      grpc_response_status: "",
    });
    assert.equal(v?.value, 1);
    const sum = async (name: string) => (await series(m, name)).find((x) => x.metricName === `${name}_sum`)?.value;
    assert.equal(await sum("istio_request_duration_milliseconds"), 12.5);
    assert.equal(await sum("istio_request_bytes"), 120);
    assert.equal(await sum("istio_response_bytes"), 4000);
  });

  test("inbound: reported by the destination with its connection security", async () => {
    const m = new ProxyMetrics();
    const ctx = routedContext("inbound");
    ctx.connectionSecurity = "mutual_tls";
    ctx.peerPrincipal = "spiffe://trellis.local/ns/default/sa/caller";
    recordRequest(m, ctx, { status: 403, durationMs: 1 });
    const [v] = await series(m, "istio_requests_total");
    assert.equal(v?.labels.reporter, "destination");
    assert.equal(v?.labels.source_principal, "spiffe://trellis.local/ns/default/sa/caller", "the caller's certificate, not what its metadata claims");
    assert.equal(v?.labels.connection_security_policy, "mutual_tls");
    assert.equal(v?.labels.response_code, "403");
  });

  test("response flags: '-' when none, Envoy's order whatever order they were set in", async () => {
    const m = new ProxyMetrics();
    const a = routedContext("outbound");
    a.flags.add("URX");
    a.flags.add("UH");
    const b = routedContext("outbound");
    b.flags.add("UH");
    b.flags.add("URX");
    recordRequest(m, a, { status: 503, durationMs: 1 });
    recordRequest(m, b, { status: 503, durationMs: 1 });
    const v = await series(m, "istio_requests_total");
    assert.deepEqual(v.map((x) => [x.labels.response_flags, x.value]), [["UH,URX", 2]]);
  });

  test("unknown destination and no route: unknown labels, never the Host header", async () => {
    const m = new ProxyMetrics();
    const ctx = routedContext("outbound");
    ctx.destination = undefined;
    ctx.target = undefined;
    ctx.flags.add("NR");
    recordRequest(m, ctx, { status: 404, durationMs: 0.2 });
    const [v] = await series(m, "istio_requests_total");
    assert.equal(v?.labels.destination_workload, "unknown");
    assert.equal(v?.labels.destination_principal, "unknown");
    assert.equal(v?.labels.destination_service, "unknown");
    assert.equal(v?.labels.destination_service_name, "unknown");
    assert.equal(v?.labels.response_flags, "NR");
  });

  test("destination service: external hosts name themselves; .svc FQDNs split like the canonical form", async () => {
    const m = new ProxyMetrics();
    const ext = routedContext("outbound");
    ext.target = { host: "api.payments.example.com", port: 443, cluster: "outbound|443||api.payments.example.com" };
    const fqdn = routedContext("outbound");
    fqdn.target = { host: "ratings.shop.svc.cluster.local", port: 9080, cluster: "outbound|9080||ratings.shop.svc.cluster.local" };
    recordRequest(m, ext, { status: 200, durationMs: 1 });
    recordRequest(m, fqdn, { status: 200, durationMs: 1 });
    const v = await series(m, "istio_requests_total");
    const by = Object.fromEntries(v.map((x) => [x.labels.destination_service, [x.labels.destination_service_name, x.labels.destination_service_namespace]]));
    assert.deepEqual(by["api.payments.example.com"], ["api.payments.example.com", "unknown"]);
    assert.deepEqual(by["ratings.shop.svc.cluster.local"], ["ratings", "shop"]);
  });

  test("gRPC: the status the response carried; mapped from HTTP when missing; bounded to gRPC's codes", async () => {
    const m = new ProxyMetrics();
    recordRequest(m, routedContext("outbound", "grpc"), { status: 200, grpcStatus: "5", durationMs: 1 });
    recordRequest(m, routedContext("outbound", "grpc"), { status: 503, durationMs: 1 });
    recordRequest(m, routedContext("outbound", "grpc"), { status: 200, grpcStatus: "not-a-code", durationMs: 1 });
    const v = await series(m, "istio_requests_total");
    assert.deepEqual(v.map((x) => [x.labels.request_protocol, x.labels.response_code, x.labels.grpc_response_status]).sort(), [
      ["grpc", "200", "2"],
      ["grpc", "200", "5"],
      ["grpc", "503", "14"],
    ]);
  });

  test("requests of one shape share a series; any label that differs gets its own, shared objects or not", async () => {
    const m = new ProxyMetrics();
    const target = { host: "reviews.default", port: 9080, cluster: "outbound|9080||reviews.default" };
    const base = () => {
      const ctx = routedContext("outbound");
      ctx.target = target;
      return ctx;
    };
    recordRequest(m, base(), { status: 200, durationMs: 1 });
    recordRequest(m, base(), { status: 200, durationMs: 1 });
    const other = base();
    other.peerPrincipal = "spiffe://trellis.local/ns/default/sa/reviews";
    recordRequest(m, other, { status: 200, durationMs: 1 });
    const flagged = base();
    flagged.flags.add("URX");
    recordRequest(m, flagged, { status: 200, durationMs: 1 });
    recordRequest(m, base(), { status: 503, durationMs: 1 });
    const moved = base();
    moved.destination = { ...REVIEWS, version: "v3" };
    recordRequest(m, moved, { status: 200, durationMs: 1 });
    // A new router's target object with the same host counts in the same series (a config swap keeps the series).
    const swapped = base();
    swapped.target = { ...target };
    recordRequest(m, swapped, { status: 200, durationMs: 1 });
    const rows = (await series(m, "istio_requests_total")).map((v) => `${v.labels.destination_principal}|${v.labels.response_flags}|${v.labels.response_code}|${v.labels.destination_version}=${v.value}`);
    assert.deepEqual(rows.sort(), ["spiffe://trellis.local/ns/default/sa/reviews|-|200|v2=1", "unknown|-|200|v2=3", "unknown|-|200|v3=1", "unknown|-|503|v2=1", "unknown|URX|200|v2=1"].sort());
  });

  test("odd numbers never throw: NaN duration and negative bytes count as 0", async () => {
    const m = new ProxyMetrics();
    const ctx = routedContext("outbound");
    ctx.requestBytes = -5;
    recordRequest(m, ctx, { status: Number.NaN, durationMs: Number.NaN });
    const [v] = await series(m, "istio_requests_total");
    assert.equal(v?.labels.response_code, "0");
  });
});

describe("TCP", () => {
  test("open, periodic bytes as deltas of running totals, close once", async () => {
    const m = new ProxyMetrics();
    const ctx = routedContext("inbound", "tcp");
    ctx.connectionSecurity = "mutual_tls";
    recordTcpOpen({ metrics: m }, ctx);
    recordTcpBytes({ metrics: m }, ctx, { sent: 100, received: 10 });
    recordTcpClose({ metrics: m }, ctx, { sent: 250, received: 10 });
    recordTcpClose({ metrics: m }, ctx, { sent: 999, received: 999 });
    const one = async (name: string) => {
      const v = await series(m, name);
      assert.equal(v.length, 1, name);
      return v[0]!;
    };
    assert.equal((await one("istio_tcp_connections_opened_total")).value, 1);
    assert.equal((await one("istio_tcp_connections_closed_total")).value, 1);
    assert.equal((await one("istio_tcp_sent_bytes_total")).value, 250);
    const received = await one("istio_tcp_received_bytes_total");
    assert.equal(received.value, 10);
    assert.equal(received.labels.request_protocol, "tcp");
    assert.equal(received.labels.reporter, "destination");
    assert.equal(received.labels.connection_security_policy, "mutual_tls");
    assert.ok(!("response_code" in received.labels));
  });
});
