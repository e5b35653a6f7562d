import { durationMs } from "../common";
import { finding } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const RETRY_TIMEOUT = "TRELLIS_RETRY_TIMEOUT";

/**
 * The route timeout bounds the whole request, retries included: a per-try timeout longer
 * than it means the first attempt is cut by the route timeout and no retry ever runs.
 */
export const retryTimeout: Analyzer = (resources) =>
  ofKind(resources, "Route").flatMap((route) =>
    (route.spec.http ?? []).flatMap((rule, i): Finding[] => {
      const perTry = rule.retries?.perTryTimeout;
      if (perTry === undefined || rule.timeout === undefined || rule.retries?.attempts === 0) return [];
      if (durationMs(perTry) <= durationMs(rule.timeout)) return [];
      return [
        finding(RETRY_TIMEOUT, "error", route, ["spec", "http", i, "retries", "perTryTimeout"],
          `spec.http[${i}].retries.perTryTimeout (${perTry}) is longer than spec.http[${i}].timeout (${rule.timeout}), so no retry could ever run; make perTryTimeout at most ${rule.timeout} or raise the timeout`),
      ];
    }),
  );
