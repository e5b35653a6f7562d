import { finding } from "./finding";
import { indexMesh } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const SELECTOR_UNKNOWN_SERVICE = "TRELLIS_SELECTOR_UNKNOWN_SERVICE";

const SELECTING = new Set(["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "RateLimitPolicy", "Gateway"]);

/**
 * A policy (or Gateway) selecting a Service that does not exist in its namespace applies to
 * nothing. A warning, since the Service may be about to be created.
 */
export const unknownSelectorService: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return resources.flatMap((r): Finding[] => {
    if (!SELECTING.has(r.kind) || !("selector" in r.spec)) return [];
    const service = r.spec.selector?.service;
    if (service === undefined || mesh.service(r.metadata.namespace, service)) return [];
    const effect = r.kind === "Gateway" ? "no gateway proxy runs this Gateway" : "the policy applies to no workload";
    return [finding(SELECTOR_UNKNOWN_SERVICE, "warning", r, ["spec", "selector", "service"], `spec.selector.service names Service ${r.metadata.namespace}/${service}, which does not exist, so ${effect}; select a Service of namespace ${r.metadata.namespace}`)];
  });
};
