import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";

/**
 * The OpenTelemetry SDK's OTLP/HTTP protobuf exporter, pointed at `url` (the control plane's
 * `/v1/traces` or any collector). It retries 429/502/503/504 with backoff within its timeout;
 * SpanQueue bounds how many of its exports run at once. OTEL_EXPORTER_OTLP_HEADERS and the
 * other standard OTEL_EXPORTER_OTLP_* variables still apply (an authenticated collector);
 * the URL given here wins over the endpoint variables.
 */
export function createOtlpExporter(url: string): SpanExporter {
  return new OTLPTraceExporter({ url, timeoutMillis: 10_000, concurrencyLimit: 4 });
}
