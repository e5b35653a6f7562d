/**
 * What tracing costs the sidecar pair: the fixed-rate run through client → server sidecar,
 * once per sampling rate (`--tracing 0,1,100`), the rate set the way an operator sets it
 * (the calling Service's `traceSampling`, pushed by the control plane). Every sampled request
 * makes two spans (client and server sidecar), exported over OTLP/HTTP: by default to a null
 * receiver (otlp-sink.mjs), so the figures are the proxies' own; with `--otlp control-plane`
 * to the control plane's /v1/traces, which stores them on the same two CPUs (at 100 % its
 * storing 2500 spans/s disturbs everything, the next rounds included). 0 % is tracing off for
 * this traffic: the layer only looks for trace headers and finds none.
 *
 * Both Services (the caller's and the callee's) get the rate, so 0 % is off on both sidecars.
 * The rates run round-robin `--tracing-rounds` times (the machine's noise moves CPU per request
 * by more than tracing costs; rounds side by side let the report take medians).
 *
 * Figures per run: latency, proxy CPU per request (both sidecars), and the spans exported,
 * dropped and failed during the run (from each proxy's /stats), so a run that exported nothing
 * cannot pass for a cheap one.
 */
import { applyResources } from "../../apps/proxy/test/helpers/control-plane";
import { waitFor } from "./children";
import { fixedRate } from "./measure";
import type { CpuWindow, Target } from "./measure";
import type { FixedRateResult } from "./fixed-rate";
import type { Mesh, TrellisProxy } from "./mesh";
import { benchClientService, benchServerService } from "./mesh";
import type { Options } from "./options";

export interface SpanCounts {
  exported: number;
  dropped: number;
  failed: number;
}

export interface TracingRun {
  percent: number;
  fixed: FixedRateResult & { window: CpuWindow };
  /** Spans of both sidecars from just before the run until their queues drained after it. */
  spans: SpanCounts;
  /** Proxy CPU (both sidecars) per answered request, µs. */
  proxyCpuUsPerRequest: number;
  /** The control plane's CPU in the run, cores: it stores the spans, on the same two CPUs. */
  controlPlaneCores: number;
}

async function spanCounts(p: TrellisProxy): Promise<SpanCounts & { queued: number }> {
  const s = (await (await fetch(`http://127.0.0.1:${p.admin}/stats?format=json`)).json()) as Record<string, number>;
  return { exported: s["tracing.spans_exported"] ?? 0, dropped: s["tracing.spans_dropped"] ?? 0, failed: s["tracing.spans_failed"] ?? 0, queued: s["tracing.spans_queued"] ?? 0 };
}

async function sampling(p: TrellisProxy): Promise<number | undefined> {
  const dump = (await (await fetch(`http://127.0.0.1:${p.admin}/config_dump`)).json()) as { snapshot?: { tracing?: { samplingPercent?: number } } };
  return dump.snapshot?.tracing?.samplingPercent;
}

export async function measureTracing(mesh: Mesh, pair: Target, o: Options, appPids: number[], bodyBytes: number, log: (s: string) => void): Promise<TracingRun[]> {
  const runs: TracingRun[] = [];
  const proxies = [mesh.client, mesh.server];
  const order = Array.from({ length: o.tracingRounds }, () => o.tracing).flat();
  for (const [i, percent] of order.entries()) {
    await applyResources(mesh.controlPlane.api, [benchClientService(percent), benchServerService(percent)], `proxy benchmark: trace ${percent} % of requests`);
    for (const p of proxies) await waitFor(`${p.name} to sample ${percent} %`, async () => ((await sampling(p)) === percent ? true : undefined), 30_000);
    const drained = () => waitFor("the sidecars' span queues to drain", async () => ((await Promise.all(proxies.map(spanCounts))).every((c) => c.queued === 0) ? true : undefined), 30_000);
    await drained(); // the previous run's spans are not this one's
    const before = await Promise.all(proxies.map(spanCounts));
    const opts = { host: "127.0.0.1", port: pair.h1.port, authority: pair.h1.authority, path: "/", rate: o.rate, durationS: o.fixedS, warmupS: o.warmupS, connections: o.fixedConnections, maxConnections: 256, expectBodyBytes: bodyBytes };
    const controlPlane = { name: "control plane", pids: [mesh.controlPlane.pid] };
    const fixed = await fixedRate(opts, [...pair.processes, controlPlane], appPids, (o.fixedS + o.warmupS + 60) * 1000);
    // The exporters send every few seconds: wait for both queues to drain before counting.
    await drained();
    const after = await Promise.all(proxies.map(spanCounts));
    const delta = (k: keyof SpanCounts) => after.reduce((n, c, i) => n + c[k] - before[i]![k], 0);
    const cpuS = pair.processes.reduce((n, g) => n + (fixed.window.cpuS[g.name] ?? 0), 0);
    const run: TracingRun = {
      percent,
      fixed,
      spans: { exported: delta("exported"), dropped: delta("dropped"), failed: delta("failed") },
      proxyCpuUsPerRequest: (cpuS / Math.max(fixed.completed, 1)) * 1e6,
      controlPlaneCores: (fixed.window.cpuS[controlPlane.name] ?? 0) / fixed.window.wallS,
    };
    log(`  round ${Math.floor(i / o.tracing.length) + 1}/${o.tracingRounds}, tracing ${percent} %: p50 ${fixed.service.p50.toFixed(3)} p99 ${fixed.service.p99.toFixed(3)} ms, ${run.proxyCpuUsPerRequest.toFixed(1)} µs proxy CPU a request, control plane ${run.controlPlaneCores.toFixed(2)} cores, ${run.spans.exported} spans exported, ${run.spans.dropped} dropped, ${run.spans.failed} failed`);
    runs.push(run);
  }
  return runs;
}
