import type { RequestContext } from "../core/context";
import { AccessDeniedError, JwtAuthenticationError } from "../core/errors";
import type { Headers } from "../core/types";
import type { RequestOutcome, TcpBytes } from "./request-record";

/**
 * Envoy-like access log: one JSON object per line, per request or TCP connection, on stdout
 * by default (the structured process log goes to stderr, see core/log.ts).
 *
 * Lines are buffered and written every `flushEveryMs` (default 100 ms, as Envoy's and nginx's
 * file logs flush on an interval), or at once past maxBufferBytes: one write per batch, not one
 * per request. Per event-loop turn was a write and an extra zero-timeout poll per request at
 * sidecar rates (1000 rps: ~1 request per turn; strace of a bench/proxy pair). Call `flush()`
 * before the process exits. When the sink reports more than maxPendingBytes not yet written (stdout to a
 * slow pipe), lines are dropped and counted in `dropped` rather than buffered without bound.
 *
 * Nothing here throws: a line that cannot be built or written is dropped and counted.
 * Only facts safe to keep are logged: for a denial the deciding policy's key, never tokens or
 * header values other than authority, user agent and request id.
 */

/** Where lines go: process.stdout, or anything with a `write` (tests). */
export interface AccessLogSink {
  write(chunk: string): unknown;
  /** Bytes accepted but not yet written (a Writable's); drives dropping under backpressure. */
  readonly writableLength?: number;
}

export interface AccessLogOptions {
  /** Default process.stdout. */
  sink?: AccessLogSink;
  /** Write the batch at once when it grows past this many characters. Default 64 KiB. */
  maxBufferBytes?: number;
  /** Drop lines while the sink holds more than this many unwritten bytes. Default 16 MiB. */
  maxPendingBytes?: number;
  /** Longest a line waits in the buffer, ms. Default 100; 0: written at the end of its event-loop turn. */
  flushEveryMs?: number;
}

/** The parts of a request the log shows (a ProxyRequest fits). */
export interface AccessLogRequest {
  method: string;
  path: string;
  authority: string;
  headers: Headers;
}

/** String fields longer than this are cut (a 1 MB path must not become a 1 MB log line). */
const MAX_FIELD = 2048;

export class AccessLog {
  private readonly sink: AccessLogSink;
  private readonly maxBufferBytes: number;
  private readonly maxPendingBytes: number;
  private buffer = "";
  private readonly flushEveryMs: number;
  private scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Lines dropped (unbuildable, sink failing, or sink backed up). */
  dropped = 0;

  constructor(options: AccessLogOptions = {}) {
    this.sink = options.sink ?? process.stdout;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    this.flushEveryMs = options.flushEveryMs ?? 100;
  }

  /** Logs a finished (or abandoned) HTTP/gRPC request. */
  logRequest(ctx: RequestContext, req: AccessLogRequest, outcome: RequestOutcome): void {
    this.write(ctx, req, outcome, ctx.requestBytes, ctx.responseBytes, outcome.durationMs);
  }

  /** Logs a closed TCP connection: the same fields, less the HTTP ones. */
  logTcp(ctx: RequestContext, bytes: TcpBytes & { durationMs: number }): void {
    this.write(ctx, undefined, undefined, bytes.received, bytes.sent, bytes.durationMs);
  }

  /**
   * One line: one flat object literal (one shape, V8's fast stringify path; no closure and no
   * second object spread in). Fields left undefined (the HTTP ones of a TCP line, audit
   * policies when none matched) are left out of the JSON.
   */
  private write(ctx: RequestContext, req: AccessLogRequest | undefined, outcome: RequestOutcome | undefined, received: number, sent: number, durationMs: number): void {
    let line: string;
    try {
      line = JSON.stringify({
        start_time: isoTime(ctx.startTime),
        method: req && str(req.method),
        path: req && str(req.path),
        protocol: ctx.protocol,
        response_code: outcome?.status,
        grpc_status: outcome && (outcome.grpcStatus ?? null),
        response_flags: ctx.flags.format(),
        bytes_received: received,
        bytes_sent: sent,
        duration: ms(durationMs),
        authority: req && str(req.authority),
        user_agent: req && header(req.headers, "user-agent"),
        x_request_id: req && header(req.headers, "x-request-id"),
        upstream_host: ctx.upstreamAddress ?? null,
        upstream_cluster: ctx.target?.cluster || null,
        route_name: ctx.route?.name ?? null,
        downstream_remote_address: ctx.downstreamAddress,
        direction: ctx.direction,
        source_workload: ctx.source.workload,
        destination_workload: ctx.destination?.workload ?? null,
        attempts: ctx.attempts,
        // mutual_tls when the hop (inbound: from the caller; outbound: to the peer sidecar) ran over
        // mesh mTLS, with the SPIFFE ID the other side proved.
        connection_security_policy: ctx.connectionSecurity,
        peer_principal: ctx.peerPrincipal ?? null,
        reason: reason(ctx),
        // AUDIT AuthorizationPolicies that matched (Istio logs them the same way): only when some did.
        audit_policies: ctx.audited,
      });
    } catch {
      this.dropped++;
      return;
    }
    this.push(line);
  }

  /** Writes buffered lines now. */
  flush(): void {
    if (this.scheduled !== undefined) {
      if (this.flushEveryMs > 0) clearTimeout(this.scheduled as NodeJS.Timeout);
      else clearImmediate(this.scheduled as NodeJS.Immediate);
      this.scheduled = undefined;
    }
    if (this.buffer === "") return;
    const chunk = this.buffer;
    this.buffer = "";
    try {
      this.sink.write(chunk);
    } catch {
      this.dropped += countLines(chunk);
    }
  }

  private push(line: string): void {
    if ((this.sink.writableLength ?? 0) > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    this.buffer += line + "\n";
    if (this.buffer.length >= this.maxBufferBytes) this.flush();
    else if (this.scheduled === undefined) {
      if (this.flushEveryMs > 0) {
        const timer = setTimeout(() => this.flush(), this.flushEveryMs);
        timer.unref(); // the sidecar's stop flushes (sidecar.ts); a pending batch must not hold the process up
        this.scheduled = timer;
      } else this.scheduled = setImmediate(() => this.flush());
    }
  }
}

function reason(ctx: RequestContext): string | null {
  const err = ctx.error;
  if (err === undefined) return null;
  if (err instanceof AccessDeniedError) return err.policy ?? err.code;
  if (err instanceof JwtAuthenticationError) return `${err.policy ?? err.code}: ${err.message}`;
  return err.code;
}

function header(headers: Headers, name: string): string | null {
  const v = headers?.[name];
  if (v === undefined) return null;
  return str(typeof v === "string" ? v : v[0]);
}

function str(v: unknown): string | null {
  if (typeof v !== "string") return v === undefined || v === null ? null : str(String(v));
  return v.length > MAX_FIELD ? v.slice(0, MAX_FIELD) + "…" : v;
}

// Requests finishing within the same millisecond share one formatted time (Date + toISOString per line showed in profiles).
let lastEpoch = NaN;
let lastIso: string | null = null;

function isoTime(epochMs: number): string | null {
  if (epochMs === lastEpoch) return lastIso;
  const d = new Date(epochMs);
  lastEpoch = epochMs;
  lastIso = Number.isNaN(d.getTime()) ? null : d.toISOString();
  return lastIso;
}

/** Milliseconds to the microsecond: sub-millisecond requests do not all log as 0. */
function ms(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0;
}

function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf("\n"); i !== -1; i = chunk.indexOf("\n", i + 1)) n++;
  return n;
}
