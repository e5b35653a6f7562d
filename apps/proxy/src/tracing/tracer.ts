import type { InstrumentationScope } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { PeerInfo, RequestContext } from "../core/context";
import type { Logger } from "../core/log";
import type { Headers, Layer } from "../core/types";
import type { RequestOutcome } from "../telemetry/request-record";
import { extract, inject, W3C } from "./propagation";
import { Sampler } from "./sampler";
import { newSpanId, newTraceId } from "./span-ids";
import { SpanQueue } from "./span-queue";
import type { SpanQueueOptions, SpanQueueStats } from "./span-queue";
import { toReadableSpan } from "./span-record";
import type { SpanOrigin, SpanRequest } from "./span-record";
import { formatTraceparent } from "./trace-context";

/**
 * Distributed tracing for one proxy, the way Envoy does it in Istio: the tracing layer (first
 * on both sides, rebuilt with each snapshot's sampling rate) continues the caller's trace or
 * starts one, records a server span inbound and a client span outbound, and rewrites the
 * trace headers so the next hop's parent is this proxy's span. The application must copy
 * the trace headers from its incoming request to its outgoing ones, as under Istio; then
 * app A → proxy → proxy → app B → proxy → proxy → app C is one tree.
 *
 * Unsampled requests cost a few header reads, plus new ids when this proxy makes the
 * decision (so the next hops keep it instead of rolling their own dice).
 */

export interface TracerOptions {
  /** This workload: the spans' resource (service.name, service.namespace, …). */
  self: PeerInfo;
  /** Where spans go: an OTLP exporter in production, a fake in tests. */
  exporter: SpanExporter;
  /** The proxy's version, as the instrumentation scope's. */
  proxyVersion: string;
  queue?: Omit<SpanQueueOptions, "exporter" | "log"> | undefined;
  log?: Logger | undefined;
  random?: (() => number) | undefined;
}

export class Tracer {
  private readonly queue: SpanQueue;
  private readonly origin: SpanOrigin;

  constructor(private readonly opts: TracerOptions) {
    this.queue = new SpanQueue({ ...opts.queue, exporter: opts.exporter, log: opts.log });
    const { self } = opts;
    const scope: InstrumentationScope = { name: "trellis-proxy", version: opts.proxyVersion };
    this.origin = {
      scope,
      resource: resourceFromAttributes({
        "service.name": self.app,
        "service.namespace": self.namespace,
        "service.version": self.version,
        "service.instance.id": self.workload,
        "trellis.workload": `${self.namespace}/${self.workload}`,
      }),
    };
  }

  /** The tracing layer for routers built from a snapshot whose Service samples `percent` % of new traces. */
  layer(percent: number): Layer {
    const sampler = new Sampler(percent, this.opts.random);
    return (next) => (req, ctx, signal) => {
      startSpan(sampler, req.headers, ctx);
      return next(req, ctx, signal);
    };
  }

  /** Records the span of a finished request, if it was sampled; once per request. */
  end(ctx: RequestContext, req: SpanRequest, outcome: RequestOutcome): void {
    const span = ctx.span;
    if (span === undefined) return;
    ctx.span = undefined;
    try {
      this.queue.push(toReadableSpan(span, ctx, req, outcome, this.origin));
    } catch (err) {
      this.opts.log?.error("recording a span failed", { error: String((err as Error)?.stack ?? err) });
    }
  }

  get stats(): SpanQueueStats {
    return this.queue.stats;
  }

  /** Sends what is queued (up to `timeoutMs`) and stops the exporter. */
  shutdown(timeoutMs?: number): Promise<void> {
    return this.queue.shutdown(timeoutMs);
  }
}

/**
 * Decides whether the request is sampled and rewrites its trace headers; a sampled request
 * gets `ctx.span`. Malformed trace headers count as absent (a new trace starts) and are
 * overwritten, never passed on half-valid.
 */
export function startSpan(sampler: Sampler, h: Headers, ctx: RequestContext): void {
  const ex = extract(h);
  if (ex === undefined) {
    if (sampler.percent === 0) return; // tracing is off here and nothing came: nothing to do
    const traceId = newTraceId();
    if (sampler.sampleNew()) open(ctx, h, traceId, undefined, undefined, W3C, false);
    // Not sampled: say so downstream, so the next hops do not start a trace of their own.
    else h["traceparent"] = formatTraceparent(traceId, newSpanId(), false);
    return;
  }
  const p = ex.parsed;
  if (!sampler.decide(p)) {
    if (ex.fromW3C) return; // the decision already travels in a valid traceparent
    // Add traceparent; when B3 was valid leave it as it came, else overwrite the broken headers.
    const formats = p?.traceId !== undefined ? W3C : ex.formats | W3C;
    inject(h, { traceId: p?.traceId ?? newTraceId(), spanId: p?.spanId ?? newSpanId(), parentSpanId: undefined, sampled: false, debug: false }, formats);
    return;
  }
  const traceState = ex.fromW3C ? h["tracestate"] : undefined;
  open(ctx, h, p?.traceId ?? newTraceId(), p?.spanId, typeof traceState === "string" && traceState.length <= 512 ? traceState : undefined, ex.formats | W3C, p?.debug ?? false);
}

function open(ctx: RequestContext, h: Headers, traceId: string, parentSpanId: string | undefined, traceState: string | undefined, formats: number, debug: boolean): void {
  const spanId = newSpanId();
  ctx.span = { traceId, spanId, parentSpanId, traceState };
  inject(h, { traceId, spanId, parentSpanId, sampled: true, debug }, formats);
}
