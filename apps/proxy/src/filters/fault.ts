import type { Fault } from "@trellis/config";
import { durationMs } from "@trellis/config";
import { FaultAbortError } from "../core/errors";
import type { Layer } from "../core/types";
import { sleep } from "./cancel";
import { grpcToHttpStatus, httpToGrpcStatus } from "./status-mapping";

/** Whether a request falls in a `percentage` share (0–100, fractions allowed) given a uniform draw in [0, 1). */
export function inShare(percentage: number, random: () => number): boolean {
  return percentage > 0 && random() * 100 < percentage;
}

/**
 * Istio fault injection: delay a share of requests, then abort a share (each decided
 * independently, delay first, as Envoy's fault filter does). A delay sets response flag DI and
 * gives up at once if the downstream goes away (rejecting with `signal.reason`); an abort throws
 * FaultAbortError (flag FI) without calling `next`.
 *
 * An abort configured with only `httpStatus` answers gRPC callers with the mapped gRPC status
 * (httpToGrpcStatus: 503 → UNAVAILABLE); one with only `grpcStatus` answers HTTP callers with
 * google.rpc's HTTP equivalent (grpcToHttpStatus: 14 → 503, 4 → 504).
 */
export function faultLayer(fault: Fault, opts: { random?: () => number } = {}): Layer {
  const random = opts.random ?? Math.random;
  const delay = fault.delay ? { ms: durationMs(fault.delay.fixedDelay), percentage: fault.delay.percentage } : undefined;
  const abort = fault.abort;
  const abortStatus = abort ? (abort.httpStatus ?? grpcToHttpStatus(abort.grpcStatus ?? 2)) : 500;
  const abortGrpc = abort ? (abort.grpcStatus ?? httpToGrpcStatus(abort.httpStatus ?? 500)) : 2;
  return (next) => async (req, ctx, signal) => {
    if (delay && inShare(delay.percentage, random)) {
      ctx.flags.add("DI");
      await sleep(delay.ms, signal);
    }
    if (abort && inShare(abort.percentage, random)) throw new FaultAbortError(abortStatus, abortGrpc);
    return next(req, ctx, signal);
  };
}
