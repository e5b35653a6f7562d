import { finding } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const RATE_LIMIT_UNKNOWN_ROUTE = "TRELLIS_RATE_LIMIT_UNKNOWN_ROUTE";

/**
 * A rate limit keyed on a route rule name that no Route defines (as a rule or match name)
 * never counts a request, so the limit silently does nothing.
 */
export const rateLimitRoute: Analyzer = (resources) => {
  const names = new Set<string>();
  for (const route of ofKind(resources, "Route")) {
    for (const rule of route.spec.http ?? []) {
      if (rule.name) names.add(rule.name);
      for (const m of rule.match ?? []) if (m.name) names.add(m.name);
    }
  }
  return ofKind(resources, "RateLimitPolicy").flatMap((policy) =>
    policy.spec.limits.flatMap((limit, i): Finding[] => {
      const name = limit.match?.route;
      if (name === undefined || names.has(name)) return [];
      return [finding(RATE_LIMIT_UNKNOWN_ROUTE, "warning", policy, ["spec", "limits", i, "match", "route"], `spec.limits[${i}].match.route names route rule '${name}', which no Route defines, so this limit never applies; use the name of an http rule or match`)];
    }),
  );
};
