import type { RetryPolicy } from "@trellis/config";
import { durationMs } from "@trellis/config";
import { ProxyError, UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from "../core/errors";
import type { Layer, ProxyResponse } from "../core/types";
import { backoffMs, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS } from "./backoff";
import { discardResponse, sleep } from "./cancel";
import type { RetryBudget } from "./retry-budget";
import { timeoutLayer } from "./timeout";

type RetryOn = RetryPolicy["retryOn"][number];

/**
 * Caps concurrent retries towards a cluster (connection-pool `maxRetries`; see
 * CircuitBreaker.retries). A slot is held from the decision to retry until the retried attempt
 * has its response headers or failed.
 */
export interface RetryLimiter {
  tryAcquire(): boolean;
  release(): void;
}

export interface RetryLayerOptions {
  /** The route's budget; the caller keeps it across config swaps. */
  budget: RetryBudget;
  /** Jitter source for backoff (tests). */
  random?: () => number;
  /** Concurrent-retry limit of the destination cluster, if it has one. */
  retryLimiter?: RetryLimiter;
}

/** grpc-status values (in response headers: a trailers-only reply) and the retryOn condition that retries them. */
const GRPC_RETRY_ON: Record<string, RetryOn> = { "14": "unavailable", "1": "cancelled", "4": "deadline-exceeded", "8": "resource-exhausted" };

/**
 * Retries failed attempts as the route's RetryPolicy says (Envoy's retry-on vocabulary):
 *
 * - `5xx`: a response status ≥ 500, or a connect failure, reset or expired per-try timeout;
 * - `gateway-error`: 502, 503 or 504, or the same errors;
 * - `reset`: reset, connect failure or expired per-try timeout (Envoy counts a connect
 *   failure as a reset too: the upstream never answered);
 * - `connect-failure`: UpstreamConnectError only; `retriable-4xx`: 409;
 * - `unavailable` / `cancelled` / `deadline-exceeded` / `resource-exhausted`: grpc-status
 *   14 / 1 / 4 / 8 in the response headers.
 *
 * Other errors (overflow, no healthy upstream, bugs) are never retried. Each attempt gets its
 * own child signal, aborted by the per-try timeout (if set) or when `signal` aborts; retries
 * wait an exponentially growing, fully jittered backoff and stop as soon as `signal` aborts,
 * rejecting with its reason. A retried response's body is destroyed.
 *
 * The request body is kept for replay before the first attempt; once it outgrew the replay
 * buffer, the first failure is final. A retry must also fit the route's RetryBudget and the
 * cluster's retry limiter: if either refuses, the last outcome is returned with flag UO
 * (Envoy's retry overflow). When every retry was used up, flag URX is set and the last
 * response returned or the last error thrown (UpstreamTimeoutError if the last try expired).
 * `ctx.attempts` is left to the endpoint layer, which sees each attempt.
 */
export function retryLayer(policy: RetryPolicy, opts: RetryLayerOptions): Layer {
  const retryOn = new Set<RetryOn>(policy.retryOn);
  const perTry = policy.perTryTimeout ? timeoutLayer(durationMs(policy.perTryTimeout)) : undefined;
  const baseMs = policy.backoff ? durationMs(policy.backoff.baseInterval) : DEFAULT_BACKOFF_BASE_MS;
  const maxMs = policy.backoff ? durationMs(policy.backoff.maxInterval) : DEFAULT_BACKOFF_MAX_MS;
  const random = opts.random ?? Math.random;
  const { budget, retryLimiter } = opts;

  return (next) => {
    const attempt = perTry ? perTry(next) : next;
    if (policy.attempts === 0) return attempt;
    return async (req, ctx, signal) => {
      req.body.keepForReplay();
      budget.recordRequest();
      let releaseRetry: (() => void) | undefined;
      for (let retry = 0; ; retry++) {
        let res: ProxyResponse | undefined;
        let err: unknown;
        try {
          res = await attempt(req, ctx, signal);
        } catch (e) {
          err = e;
        } finally {
          releaseRetry?.();
          releaseRetry = undefined;
        }
        if (signal.aborted) {
          if (res) discardResponse(res);
          throw signal.reason;
        }
        const last = () => {
          if (res) return res;
          throw err;
        };
        if (!(res ? responseRetryable(res, retryOn) : errorRetryable(err, retryOn))) return last();
        if (retry >= policy.attempts) {
          ctx.flags.add("URX");
          return last();
        }
        if (!req.body.replayable) return last();
        if (retryLimiter && !retryLimiter.tryAcquire()) {
          ctx.flags.add("UO");
          return last();
        }
        if (!budget.tryRetry(policy.budgetPercent)) {
          retryLimiter?.release();
          ctx.flags.add("UO");
          return last();
        }
        if (retryLimiter) releaseRetry = once(() => retryLimiter.release());
        if (res) discardResponse(res);
        try {
          await sleep(backoffMs(retry, baseMs, maxMs, random), signal);
        } catch (e) {
          releaseRetry?.();
          throw e;
        }
      }
    };
  };
}

/** Whether a response is a failure the conditions retry. */
export function responseRetryable(res: ProxyResponse, retryOn: ReadonlySet<RetryOn>): boolean {
  const s = res.status;
  if (s >= 500 && retryOn.has("5xx")) return true;
  if ((s === 502 || s === 503 || s === 504) && retryOn.has("gateway-error")) return true;
  if (s === 409 && retryOn.has("retriable-4xx")) return true;
  const raw = res.headers["grpc-status"];
  const grpc = Array.isArray(raw) ? raw[0] : raw;
  const condition = grpc === undefined ? undefined : GRPC_RETRY_ON[grpc.trim()];
  return condition !== undefined && retryOn.has(condition);
}

/** Whether a thrown failure is one the conditions retry. */
export function errorRetryable(err: unknown, retryOn: ReadonlySet<RetryOn>): boolean {
  if (!(err instanceof ProxyError)) return false;
  const connect = err instanceof UpstreamConnectError;
  const noAnswer = connect || err instanceof UpstreamResetError || err instanceof UpstreamTimeoutError;
  if (!noAnswer) return false;
  if (retryOn.has("5xx") || retryOn.has("gateway-error") || retryOn.has("reset")) return true;
  return connect && retryOn.has("connect-failure");
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}
