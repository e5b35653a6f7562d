/**
 * The Prometheus history source could not answer: Prometheus was unreachable or too slow
 * (TRELLIS_PROMETHEUS_UNAVAILABLE), or what it sent back was not a valid query result
 * (TRELLIS_PROMETHEUS_BAD_RESPONSE). The message names PROMETHEUS_URL, since that is what an
 * operator would fix.
 */
export class PrometheusError extends Error {
  constructor(
    readonly code: "TRELLIS_PROMETHEUS_UNAVAILABLE" | "TRELLIS_PROMETHEUS_BAD_RESPONSE",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PrometheusError";
  }
}
