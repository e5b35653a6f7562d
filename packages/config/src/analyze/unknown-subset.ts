import { hostKey, resolveHost } from "./hosts";
import { finding, p } from "./finding";
import { routeDestinations } from "./destinations";
import { indexMesh, listNames, ofKind } from "./mesh";
import type { DestinationPolicy } from "../resource";
import type { Analyzer, Finding } from "./types";

export const UNKNOWN_SUBSET = "TRELLIS_UNKNOWN_SUBSET";

/**
 * A destination's subset must be defined by a DestinationPolicy of its host, else the proxy
 * has no endpoints for it and answers 503. Destinations to unknown hosts are left to
 * unknownHost: one root cause, one finding.
 */
export const unknownSubset: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  const policies = new Map<string, DestinationPolicy[]>();
  for (const dp of ofKind(resources, "DestinationPolicy")) {
    const key = hostKey(dp.spec.host, dp.metadata.namespace, mesh);
    policies.set(key, [...(policies.get(key) ?? []), dp]);
  }
  return ofKind(resources, "Route").flatMap((route) =>
    routeDestinations(route).flatMap(({ destination, path }): Finding[] => {
      const { host, subset } = destination;
      const ns = route.metadata.namespace;
      if (subset === undefined || !resolveHost(host, ns, mesh)) return [];
      const dps = policies.get(hostKey(host, ns, mesh)) ?? [];
      const defined = dps.flatMap((dp) => dp.spec.subsets.map((s) => s.name));
      if (defined.includes(subset)) return [];
      const where = p(...path, "subset");
      const message =
        dps.length === 0
          ? `subset '${subset}' at ${where} needs a DestinationPolicy for host '${host}', and none exists; add one defining subset '${subset}' or remove the subset`
          : `subset '${subset}' at ${where} is not defined by ${dps.map((dp) => `DestinationPolicy ${dp.metadata.namespace}/${dp.metadata.name}`).join(" or ")}` +
            (defined.length ? ` (it defines ${listNames(defined)})` : " (it defines no subsets)") +
            `; use a defined subset or add '${subset}' to the policy`;
      return [finding(UNKNOWN_SUBSET, "error", route, [...path, "subset"], message)];
    }),
  );
};
