import { UpstreamTimeoutError } from "../core/errors";
import type { Handler, Layer, ProxyResponse } from "../core/types";
import { childSignal, discardResponse, MAX_TIMER_MS } from "./cancel";

/**
 * The route timeout: `next` must produce the response *headers* within `ms`. On expiry the
 * child signal handed to `next` aborts (reason: the UpstreamTimeoutError, so the transport
 * resets the upstream request) and the layer throws UpstreamTimeoutError (504, flag UT). A
 * response that arrives after that is discarded.
 *
 * Why headers only: once headers are back, the body may legitimately stream for as long as
 * it likes (downloads, server-sent events, gRPC server streams), and Envoy's route timeout
 * likewise stops at the end of the request rather than of the response. A stuck body is the
 * idle timeout's job, not this one's.
 *
 * `ms` ≤ 0 (Istio's "0s") or beyond a timer's range means no timeout: `next` is returned as is.
 * Used per attempt too: the retry layer's per-try timeout is this layer around one attempt.
 */
export function timeoutLayer(ms: number): Layer {
  if (!(ms > 0) || ms > MAX_TIMER_MS) return (next) => next;
  return (next: Handler): Handler =>
    (req, ctx, signal) => {
      if (signal.aborted) return Promise.reject(signal.reason);
      const child = childSignal(signal);
      return new Promise<ProxyResponse>((resolve, reject) => {
        let done = false;
        const timer = setTimeout(() => {
          done = true;
          const err = new UpstreamTimeoutError("upstream request timeout");
          child.abort(err);
          child.dispose();
          reject(err);
        }, ms);
        next(req, ctx, child.signal).then(
          (res) => {
            if (done) return discardResponse(res);
            done = true;
            clearTimeout(timer);
            child.dispose();
            resolve(res);
          },
          (err: unknown) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            child.dispose();
            reject(err);
          },
        );
      });
    };
}
