import type { RequestContext } from "../core/context";
import type { Logger } from "../core/log";
import type { AccessLog, AccessLogRequest } from "./access-log";
import type { LiveDeltas } from "./live-deltas";
import type { ProxyMetrics } from "./metrics";
import type { TapRecorder } from "./tap-recorder";
import { recordRequest, recordTcpClose } from "./request-record";
import type { RequestOutcome, TcpBytes } from "./request-record";

/** What a listener reports finished requests and connections to. */
export interface Telemetry {
  metrics: ProxyMetrics;
  accessLog: AccessLog;
  /** Per-second deltas for the control plane's live graph (absent in tests that do not need them). */
  live?: LiveDeltas | undefined;
  /** Live taps the control plane asked for (absent in tests that do not need them). */
  tap?: TapRecorder | undefined;
  /** Where a failure to record (a bug) is reported; it never reaches the request path. */
  log?: Logger | undefined;
}

/**
 * Reports one request to the metrics and the access log. The edge calls it once the response
 * is finished, or when the downstream went away first (the edge then sets DC on ctx.flags
 * and passes status 0 if no response was sent). A second call for the same context does
 * nothing.
 */
export function finishRequest(telemetry: Telemetry, ctx: RequestContext, req: AccessLogRequest, outcome: RequestOutcome): void {
  if (ctx.reported) return;
  ctx.reported = true;
  try {
    recordRequest(telemetry.metrics, ctx, outcome);
    telemetry.live?.request(ctx, outcome);
    // With no tap running this test is all a request pays.
    if (telemetry.tap?.active) telemetry.tap.record(ctx, req, outcome);
  } catch (err) {
    telemetry.log?.error("recording request metrics failed", { error: String(err) });
  }
  telemetry.accessLog.logRequest(ctx, req, outcome);
}

/** Reports a closed TCP connection (metrics: the close and the bytes not yet counted; one access log line). Once per context. */
export function finishTcp(telemetry: Telemetry, ctx: RequestContext, bytes: TcpBytes & { durationMs: number }): void {
  if (ctx.reported) return;
  ctx.reported = true;
  try {
    recordTcpClose(telemetry, ctx, bytes);
  } catch (err) {
    telemetry.log?.error("recording TCP metrics failed", { error: String(err) });
  }
  telemetry.accessLog.logTcp(ctx, bytes);
}
