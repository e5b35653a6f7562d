import { GROUP_LABELS } from "./istio-labels";

/**
 * The PromQL the history source runs for a range: each Istio counter summed by the labels a
 * series key needs (istio-labels.ts) plus what the row needs on top (response code, gRPC status,
 * mTLS, histogram bound), evaluated as plain counters at the step boundaries; the step
 * increments are computed from those values (counter-increments.ts).
 */

const by = (...extra: string[]) => `sum by (${[...GROUP_LABELS, ...extra].join(", ")})`;

export const ISTIO_QUERIES = {
  requests: `${by("response_code", "grpc_response_status", "connection_security_policy")} (istio_requests_total)`,
  latencyBuckets: `${by("le")} (istio_request_duration_milliseconds_bucket)`,
  latencySum: `${by()} (istio_request_duration_milliseconds_sum)`,
  requestBytes: `${by()} (istio_request_bytes_sum)`,
  responseBytes: `${by()} (istio_response_bytes_sum)`,
  tcpOpened: `${by("connection_security_policy")} (istio_tcp_connections_opened_total)`,
  tcpClosed: `${by()} (istio_tcp_connections_closed_total)`,
  tcpSent: `${by()} (istio_tcp_sent_bytes_total)`,
  tcpReceived: `${by()} (istio_tcp_received_bytes_total)`,
} as const;

export type IstioQueryName = keyof typeof ISTIO_QUERIES;
