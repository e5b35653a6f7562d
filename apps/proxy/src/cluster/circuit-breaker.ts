import type { ConnectionPoolSchema } from "@trellis/config";
import type { z } from "zod";
import { OverflowError } from "../core/errors";
import type { RetryLimiter } from "../filters/retry";

/** A DestinationPolicy's `connectionPool` (@trellis/config exports the schema only). */
export type ConnectionPool = z.infer<typeof ConnectionPoolSchema>;

/** Counters for metrics and the admin page (Envoy's circuit-breaker gauges and overflow counters). */
export interface CircuitBreakerStats {
  /** Requests in flight (maxRequests). */
  activeRequests: number;
  /** Requests holding a connection slot (maxConnections). */
  activeConnections: number;
  /** Requests waiting for a connection slot (maxPendingRequests). */
  pendingRequests: number;
  /** Retries in flight (maxRetries). */
  activeRetries: number;
  /** Refusals since creation, by limit (upstream_rq_pending_overflow and friends). */
  overflows: { requests: number; pending: number; retries: number };
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A cluster's connection-pool limits (Istio's circuit breaking): past a limit, requests fail
 * fast with OverflowError (503, flag UO) instead of queueing behind a struggling upstream. An
 * unset limit is unlimited (Istio's defaults are 2³²−1).
 *
 * - `acquireRequest()`: every request towards the cluster, for `http.maxRequests`.
 * - `acquireConnectionSlot(signal)`: for HTTP/1.1, where each request in flight holds a
 *   connection, so `tcp.maxConnections` is a cap on concurrent exchanges: the transport awaits
 *   a slot before sending; when all are taken the request waits in FIFO order, and more than
 *   `http.maxPendingRequests` waiting (0: none may wait) overflow. Release the slot when the
 *   exchange ends; it passes straight to the oldest waiter. A multiplexed (HTTP/2) transport
 *   has no per-request connection and skips this.
 * - `retries`: the retry layer's limiter, for `http.maxRetries`.
 *
 * Every acquire returns a release function, safe to call more than once. Safe use: one breaker
 * per cluster, kept across snapshots while the pool config is unchanged; when it changes, a new
 * breaker serves new requests and in-flight ones release on the old one.
 */
export class CircuitBreaker {
  readonly retries: RetryLimiter;
  private readonly maxRequests: number;
  private readonly maxConnections: number;
  private readonly maxPending: number;
  private readonly maxRetries: number;
  private activeRequests = 0;
  private activeConnections = 0;
  private activeRetries = 0;
  private readonly waiters: Waiter[] = [];
  private readonly overflows = { requests: 0, pending: 0, retries: 0 };

  constructor(pool: ConnectionPool = {}) {
    this.maxRequests = pool.http?.maxRequests ?? Infinity;
    this.maxConnections = pool.tcp?.maxConnections ?? Infinity;
    this.maxPending = pool.http?.maxPendingRequests ?? Infinity;
    this.maxRetries = pool.http?.maxRetries ?? Infinity;
    this.retries = {
      tryAcquire: () => {
        if (this.activeRetries >= this.maxRetries) {
          this.overflows.retries++;
          return false;
        }
        this.activeRetries++;
        return true;
      },
      release: () => {
        if (this.activeRetries > 0) this.activeRetries--;
      },
    };
  }

  /** Admits one request, or throws OverflowError when maxRequests are in flight. */
  acquireRequest(): () => void {
    this.admitRequest();
    return once(() => this.releaseRequest());
  }

  /**
   * acquireRequest without the release function, for the request path, which gives one back
   * through its own once-only release: call `releaseRequest()` exactly once per admission.
   */
  admitRequest(): void {
    if (this.activeRequests >= this.maxRequests) {
      this.overflows.requests++;
      throw new OverflowError("upstream overflow: too many concurrent requests");
    }
    this.activeRequests++;
  }

  /** Gives back one admission of admitRequest. */
  releaseRequest(): void {
    if (this.activeRequests > 0) this.activeRequests--;
  }

  /**
   * A connection slot for one HTTP/1.1 exchange: at once if one is free, else after waiting
   * behind earlier requests. Rejects with OverflowError when the pending queue is full, and
   * with `signal.reason` if the signal aborts while waiting.
   */
  acquireConnectionSlot(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.activeConnections < this.maxConnections && this.waiters.length === 0) {
      this.activeConnections++;
      return Promise.resolve(this.slotRelease());
    }
    if (this.waiters.length >= this.maxPending) {
      this.overflows.pending++;
      return Promise.reject(new OverflowError("upstream overflow: too many requests waiting for a connection"));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** maxRequests (Infinity when unlimited). */
  get requestLimit(): number {
    return this.maxRequests;
  }

  stats(): CircuitBreakerStats {
    return {
      activeRequests: this.activeRequests,
      activeConnections: this.activeConnections,
      pendingRequests: this.waiters.length,
      activeRetries: this.activeRetries,
      overflows: { ...this.overflows },
    };
  }

  private slotRelease(): () => void {
    return once(() => {
      const next = this.waiters.shift();
      if (!next) {
        this.activeConnections--;
        return;
      }
      // The slot passes to the oldest waiter: activeConnections stays as it is.
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.slotRelease());
    });
  }
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
