import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { register } from "prom-client";
import { HTTP_LABEL_NAMES, ISTIO_BYTE_BUCKETS, ISTIO_DURATION_BUCKETS_MS, ProxyMetrics, TCP_LABEL_NAMES } from "./metrics";

const httpValues = (over: Partial<Record<(typeof HTTP_LABEL_NAMES)[number], string>> = {}): string[] =>
  HTTP_LABEL_NAMES.map((n) => over[n] ?? (n === "reporter" ? "source" : n === "response_code" ? "200" : `${n}-x`));

/** One exported value; histograms name their _bucket/_sum/_count rows. */
type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

async function values(m: ProxyMetrics, name: string) {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values as Sample[];
}

describe("ProxyMetrics", () => {
  test("each instance has its own registry; the global one stays empty", async () => {
    const a = new ProxyMetrics();
    const b = new ProxyMetrics();
    a.http(httpValues()).requests.inc();
    assert.equal((await values(a, "istio_requests_total"))[0]?.value, 1);
    assert.deepEqual(await values(b, "istio_requests_total"), []);
    assert.equal(register.getSingleMetric("istio_requests_total"), undefined);
  });

  test("Istio's metric names, types and buckets", async () => {
    const m = new ProxyMetrics();
    const json = await m.registry.getMetricsAsJSON();
    const types = Object.fromEntries(json.map((x) => [x.name, String(x.type)]));
    assert.deepEqual(types, {
      istio_requests_total: "counter",
      istio_request_duration_milliseconds: "histogram",
      istio_request_bytes: "histogram",
      istio_response_bytes: "histogram",
      istio_tcp_sent_bytes_total: "counter",
      istio_tcp_received_bytes_total: "counter",
      istio_tcp_connections_opened_total: "counter",
      istio_tcp_connections_closed_total: "counter",
      trellis_proxy_config_version_info: "gauge",
      trellis_proxy_config_applies_total: "counter",
      trellis_proxy_inbound_connections_refused_total: "counter",
      trellis_upstream_rq_active: "gauge",
      trellis_upstream_rq_pending_overflow_total: "counter",
      trellis_outlier_ejections_active: "gauge",
    });
    const s = m.http(httpValues());
    s.durationMs.observe(3);
    s.requestBytes.observe(3);
    const le = async (name: string) =>
      (await values(m, name)).filter((v) => v.metricName === `${name}_bucket`).map((v) => v.labels.le);
    assert.deepEqual(await le("istio_request_duration_milliseconds"), [...ISTIO_DURATION_BUCKETS_MS, "+Inf"]);
    assert.deepEqual(await le("istio_request_bytes"), [...ISTIO_BYTE_BUCKETS, "+Inf"]);
  });

  test("TCP metrics carry no response_code or grpc_response_status, as Istio's", () => {
    assert.ok(!(TCP_LABEL_NAMES as readonly string[]).includes("response_code"));
    assert.ok(!(TCP_LABEL_NAMES as readonly string[]).includes("grpc_response_status"));
    assert.ok(HTTP_LABEL_NAMES.includes("grpc_response_status"));
  });

  test("bound series are cached per label combination and their values add up", async () => {
    const m = new ProxyMetrics();
    const first = m.http(httpValues());
    assert.equal(m.http(httpValues()), first, "same values, same cached handles");
    assert.notEqual(m.http(httpValues({ response_code: "503" })), first);
    for (let i = 0; i < 3; i++) m.http(httpValues()).requests.inc();
    m.http(httpValues({ response_code: "503" })).requests.inc();
    const v = await values(m, "istio_requests_total");
    assert.deepEqual(v.map((x) => [x.labels.response_code, x.value]).sort(), [["200", 3], ["503", 1]]);
  });

  test("values that would collide when naively joined stay distinct series", () => {
    const m = new ProxyMetrics();
    const a = m.http(httpValues({ source_workload: "a,b", source_app: "c" }));
    const b = m.http(httpValues({ source_workload: "a", source_app: "b,c" }));
    assert.notEqual(a, b);
  });

  test("config applies count acks and nacks; the version info follows the last ack", async () => {
    const m = new ProxyMetrics();
    m.configApplied("ack", "00000000000000a1");
    m.configApplied("nack", "00000000000000b2");
    m.configApplied("ack", "00000000000000c3");
    const applies = await values(m, "trellis_proxy_config_applies_total");
    assert.deepEqual(Object.fromEntries(applies.map((x) => [x.labels.result, x.value])), { ack: 2, nack: 1 });
    const info = await values(m, "trellis_proxy_config_version_info");
    assert.deepEqual(info.map((x) => [x.labels.version, x.value]), [["00000000000000c3", 1]]);
  });

  test("cluster series come from the data plane at scrape time; a cluster it stops reporting disappears", async () => {
    const m = new ProxyMetrics();
    const c = "outbound|9080|v2|reviews.default";
    let samples = [{ cluster: c, active: 1, ejected: 2, overflows: 3 }];
    m.collectClusters(() => samples);
    const get = async (name: string) => (await values(m, name)).find((x) => x.labels.cluster === c)?.value;
    assert.equal(await get("trellis_upstream_rq_active"), 1);
    assert.equal(await get("trellis_upstream_rq_pending_overflow_total"), 3);
    assert.equal(await get("trellis_outlier_ejections_active"), 2);
    samples = [{ cluster: c, active: 0, ejected: 0, overflows: 5 }];
    assert.equal(await get("trellis_upstream_rq_pending_overflow_total"), 5, "the counter follows the data plane's total");
    assert.equal(await get("trellis_upstream_rq_active"), 0);
    samples = [];
    assert.equal(await get("trellis_upstream_rq_active"), undefined);
    assert.equal(await get("trellis_upstream_rq_pending_overflow_total"), undefined);
  });
});
