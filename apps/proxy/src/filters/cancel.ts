import type { ProxyResponse } from "../core/types";

/** setTimeout fires at once for delays above this (a 32-bit overflow), so longer waits are treated as "never". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A signal of its own for one piece of work, also aborted (with the parent's reason) when the parent aborts. */
export interface ChildSignal {
  readonly signal: AbortSignal;
  /** Aborts the child only. */
  abort(reason: unknown): void;
  /** Unlinks the child from the parent once its work is done, so long-lived parents collect no listeners. */
  dispose(): void;
}

/** A child of `parent` (see ChildSignal). Cheaper than AbortSignal.any and explicitly disposable. */
export function childSignal(parent: AbortSignal): ChildSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => parent.removeEventListener("abort", onAbort),
  };
}

/** Waits `ms`; rejects with `signal.reason` as soon as the signal aborts. A delay ≤ 0 takes no timer. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Throws away a response nobody will read (a retried attempt, a reply that lost a race with a
 * timeout). The body is destroyed rather than drained: a 5xx from an overloaded upstream may be
 * large, and destroying it lets the transport drop or reuse the connection as it sees fit.
 */
export function discardResponse(res: ProxyResponse): void {
  const body = res.body;
  if (!body || body.destroyed) return;
  body.on("error", () => {});
  body.destroy();
}
