import { createRequire } from "node:module";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from "@opentelemetry/otlp-exporter-base/node-http";
import type { ISerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/**
 * The OpenTelemetry SDK's OTLP/HTTP protobuf trace exporter, pointed at `url` (the control
 * plane's `/v1/traces` or any collector). It retries 429/502/503/504 with backoff within its
 * timeout; SpanQueue bounds how many of its exports run at once. OTEL_EXPORTER_OTLP_HEADERS and
 * the other standard OTEL_EXPORTER_OTLP_* variables still apply (an authenticated collector);
 * the URL given here wins over the endpoint variables.
 *
 * Assembled from the parts @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter is made
 * of (the same base, HTTP delegate, options and serializer), except that the serializer comes
 * from its own module file instead of the otlp-transformer package index: the index also loads
 * the metrics and logs serializers and, through them, @opentelemetry/sdk-metrics, sdk-logs and
 * api-logs (~300 modules a sidecar never runs). The package has no exports map, so the path
 * loads as it is; the version is pinned in package.json, and otlp-exporter.test.ts decodes what
 * this exporter sends, so a release that moves the file fails a test.
 */
const requireOtel = createRequire(import.meta.url);
const { ProtobufTraceSerializer } = requireOtel("@opentelemetry/otlp-transformer/build/src/trace/protobuf/trace.js") as {
  ProtobufTraceSerializer: ISerializer<ReadableSpan[], unknown>;
};

export function createOtlpExporter(url: string): SpanExporter {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url, timeoutMillis: 10_000, concurrencyLimit: 4 }, "TRACES", "v1/traces", { "Content-Type": "application/x-protobuf" }),
    ProtobufTraceSerializer,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}
