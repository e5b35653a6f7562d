import { Counter, Gauge, Registry } from "prom-client";
import { CounterFamily, HistogramFamily } from "./series";

/**
 * The proxy's Prometheus metrics: Istio's standard metrics under Istio's names, buckets and
 * labels (so Istio's Grafana dashboards, Kiali queries and alerts work unchanged) and a few
 * `trellis_` metrics of the proxy itself.
 *
 * Each instance owns its Registry; nothing touches prom-client's global one, so many proxies
 * can run in one process (tests) without sharing series.
 *
 * Hot path: `http(values)` / `tcp(values)` return the series of one label combination,
 * cached in a Map keyed by the joined values, so a request costs one string join, one Map
 * lookup and a few additions; the Istio families are plain counters and bucket arrays
 * serialized only when scraped (see series.ts).
 */

/** Istio's default buckets of `istio_request_duration_milliseconds`. */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** Istio's buckets of `istio_request_bytes` and `istio_response_bytes`. */
export const ISTIO_BYTE_BUCKETS: readonly number[] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** Labels every Istio metric carries (HTTP and TCP), in the order `tcp(values)` takes them. */
export const PEER_LABEL_NAMES = [
  "reporter",
  "source_workload",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_canonical_service",
  "source_canonical_revision",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "request_protocol",
  "response_flags",
  "connection_security_policy",
] as const;

/** Labels of the HTTP/gRPC metrics: the peer labels plus the response's code and gRPC status (Istio has neither on TCP metrics). */
export const HTTP_LABEL_NAMES = [...PEER_LABEL_NAMES, "response_code", "grpc_response_status"] as const;

/** Labels of the TCP metrics. */
export const TCP_LABEL_NAMES = PEER_LABEL_NAMES;

export type HttpLabelName = (typeof HTTP_LABEL_NAMES)[number];
export type TcpLabelName = (typeof TCP_LABEL_NAMES)[number];

/** Bound handles for one HTTP label combination. */
export interface HttpSeries {
  requests: { inc(value?: number): void };
  durationMs: { observe(value: number): void };
  requestBytes: { observe(value: number): void };
  responseBytes: { observe(value: number): void };
}

/** Bound handles for one TCP label combination. */
export interface TcpSeries {
  opened: { inc(value?: number): void };
  closed: { inc(value?: number): void };
  sentBytes: { inc(value?: number): void };
  receivedBytes: { inc(value?: number): void };
}

/** One cluster's saturation figures at scrape time. */
export interface ClusterSample {
  cluster: string;
  /** Requests in flight now. */
  active: number;
  /** Endpoints ejected by outlier detection now. */
  ejected: number;
  /** Requests refused by connection-pool limits since the proxy started (a counter). */
  overflows: number;
}

// Joins label values into a cache key. A control character cannot arrive in an HTTP header (Node refuses
// them) nor in config names, so keys of different combinations do not collide.
const SEP = "\u0001";

/** Most request shapes remembered (each a key of a few ids); past it the cache starts afresh. */
const MAX_SHAPES = 4096;

export class ProxyMetrics {
  /** This proxy's registry: what /metrics serves. */
  readonly registry = new Registry();

  private readonly requests = new CounterFamily("istio_requests_total", "Requests handled by the proxy (Istio standard metric).", HTTP_LABEL_NAMES, this.registry);
  private readonly duration = new HistogramFamily("istio_request_duration_milliseconds", "Request duration in milliseconds (Istio standard metric).", HTTP_LABEL_NAMES, this.registry, ISTIO_DURATION_BUCKETS_MS);
  private readonly requestBytes = new HistogramFamily("istio_request_bytes", "Request body size in bytes (Istio standard metric).", HTTP_LABEL_NAMES, this.registry, ISTIO_BYTE_BUCKETS);
  private readonly responseBytes = new HistogramFamily("istio_response_bytes", "Response body size in bytes (Istio standard metric).", HTTP_LABEL_NAMES, this.registry, ISTIO_BYTE_BUCKETS);
  private readonly tcpSent = this.tcpCounter("istio_tcp_sent_bytes_total", "Bytes sent during response on TCP connections (Istio standard metric).");
  private readonly tcpReceived = this.tcpCounter("istio_tcp_received_bytes_total", "Bytes received during request on TCP connections (Istio standard metric).");
  private readonly tcpOpened = this.tcpCounter("istio_tcp_connections_opened_total", "TCP connections opened (Istio standard metric).");
  private readonly tcpClosed = this.tcpCounter("istio_tcp_connections_closed_total", "TCP connections closed (Istio standard metric).");

  private readonly configVersion = new Gauge({
    name: "trellis_proxy_config_version_info",
    help: "1 for the version of the configuration snapshot currently served.",
    labelNames: ["version"] as const,
    registers: [this.registry],
  });
  private readonly configApplies = new Counter({
    name: "trellis_proxy_config_applies_total",
    help: "Configuration snapshots received, by result: ack (applied) or nack (rejected).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  private readonly mtlsRefusals = new Counter({
    name: "trellis_proxy_inbound_connections_refused_total",
    help: "Inbound connections refused before any request: plaintext under STRICT mTLS, TLS under DISABLE or without a workload identity, and failed mTLS handshakes (untrusted, expired or missing client certificate).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  // Cluster series are computed when scraped (see collectClusters): the request path pays nothing.
  private readonly activeGauge: Gauge<"cluster"> = new Gauge({
    name: "trellis_upstream_rq_active",
    help: "Requests in flight to the cluster (saturation).",
    labelNames: ["cluster"] as const,
    registers: [this.registry],
    collect: (): void => this.collectCluster((c) => this.activeGauge.set({ cluster: c.cluster }, c.active), this.activeGauge),
  });
  private readonly overflowCounter: Counter<"cluster"> = new Counter({
    name: "trellis_upstream_rq_pending_overflow_total",
    help: "Requests refused fast because a connection-pool limit of the cluster was full (UO).",
    labelNames: ["cluster"] as const,
    registers: [this.registry],
    collect: (): void => this.collectCluster((c) => this.overflowCounter.inc({ cluster: c.cluster }, c.overflows), this.overflowCounter),
  });
  private readonly ejectionsGauge: Gauge<"cluster"> = new Gauge({
    name: "trellis_outlier_ejections_active",
    help: "Endpoints of the cluster currently ejected by outlier detection.",
    labelNames: ["cluster"] as const,
    registers: [this.registry],
    collect: (): void => this.collectCluster((c) => this.ejectionsGauge.set({ cluster: c.cluster }, c.ejected), this.ejectionsGauge),
  });
  private clusterSource: () => Iterable<ClusterSample> = () => [];

  /**
   * Where the cluster series come from at scrape time: the data plane's own counters (requests
   * in flight, endpoints ejected, connection-pool refusals so far). Clusters the configuration
   * no longer has simply stop being reported.
   */
  collectClusters(source: () => Iterable<ClusterSample>): void {
    this.clusterSource = source;
  }

  private collectCluster(set: (c: ClusterSample) => void, metric: { reset(): void }): void {
    metric.reset();
    for (const c of this.clusterSource()) set(c);
  }

  private readonly httpCache = new Map<string, HttpSeries>();
  private readonly tcpCache = new Map<string, TcpSeries>();
  private currentVersion: string | undefined;

  /** Series by a request's shape key (request-record.ts), filled by `http(values, shape)`; bounded, since shapes of old snapshots go stale. */
  private readonly httpShapes = new Map<string, HttpSeries>();

  /** The HTTP series a request of this shape was counted in before, if any. */
  httpByShape(shape: string): HttpSeries | undefined {
    return this.httpShapes.get(shape);
  }

  /** The HTTP series of one label combination; `values` in HTTP_LABEL_NAMES order; remembered for `shape` when given. */
  http(values: readonly string[], shape?: string): HttpSeries {
    const s = this.httpSeries(values);
    if (shape !== undefined) {
      if (this.httpShapes.size >= MAX_SHAPES) this.httpShapes.clear();
      this.httpShapes.set(shape, s);
    }
    return s;
  }

  private httpSeries(values: readonly string[]): HttpSeries {
    const key = values.join(SEP);
    let s = this.httpCache.get(key);
    if (s === undefined) {
      const requests = this.requests.state(key, values);
      const duration = this.duration.state(key, values);
      const reqBytes = this.requestBytes.state(key, values);
      const respBytes = this.responseBytes.state(key, values);
      s = {
        requests: { inc: (v = 1) => void (requests.value += v) },
        durationMs: { observe: (v) => this.duration.observe(duration, v) },
        requestBytes: { observe: (v) => this.requestBytes.observe(reqBytes, v) },
        responseBytes: { observe: (v) => this.responseBytes.observe(respBytes, v) },
      };
      this.httpCache.set(key, s);
    }
    return s;
  }

  /** The TCP series of one label combination; `values` in TCP_LABEL_NAMES order. */
  tcp(values: readonly string[]): TcpSeries {
    const key = values.join(SEP);
    let s = this.tcpCache.get(key);
    if (s === undefined) {
      const counter = (f: CounterFamily) => {
        const state = f.state(key, values);
        return { inc: (v = 1) => void (state.value += v) };
      };
      s = { opened: counter(this.tcpOpened), closed: counter(this.tcpClosed), sentBytes: counter(this.tcpSent), receivedBytes: counter(this.tcpReceived) };
      this.tcpCache.set(key, s);
    }
    return s;
  }

  /** Counts a snapshot received; an ack also makes `version` the one `trellis_proxy_config_version_info` reports. */
  /** An inbound connection refused by the mTLS mode or its handshake. */
  mtlsRefused(reason: "plaintext" | "tls_disabled" | "no_identity" | "handshake"): void {
    this.mtlsRefusals.inc({ reason });
  }

  configApplied(result: "ack" | "nack", version: string): void {
    this.configApplies.inc({ result });
    if (result !== "ack" || version === this.currentVersion) return;
    this.configVersion.reset();
    this.configVersion.set({ version }, 1);
    this.currentVersion = version;
  }

  private tcpCounter(name: string, help: string): CounterFamily {
    return new CounterFamily(name, help, TCP_LABEL_NAMES, this.registry);
  }
}
