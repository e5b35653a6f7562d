import { ROOT_NAMESPACE } from "../resource";
import { finding } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const SELECTOR_UNKNOWN_SERVICE = "TRELLIS_SELECTOR_UNKNOWN_SERVICE";

const SELECTING = new Set(["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "RateLimitPolicy", "Gateway"]);

/**
 * A policy (or Gateway) selecting a Service that does not exist applies to nothing. Where the
 * Service is looked for follows the snapshot compiler: a policy's own namespace, any namespace
 * for root-namespace policies and for Gateways (their proxies are selected by service name).
 * A warning, since the Service may be about to be created.
 */
export const unknownSelectorService: Analyzer = (resources) => {
  const services = ofKind(resources, "Service");
  return resources.flatMap((r): Finding[] => {
    if (!SELECTING.has(r.kind) || !("selector" in r.spec)) return [];
    const name = r.spec.selector?.service;
    if (name === undefined) return [];
    const anywhere = r.kind === "Gateway" || r.metadata.namespace === ROOT_NAMESPACE;
    if (services.some((s) => s.metadata.name === name && (anywhere || s.metadata.namespace === r.metadata.namespace))) return [];
    const where = anywhere ? "in any namespace" : `in namespace ${r.metadata.namespace}`;
    const effect = r.kind === "Gateway" ? "no gateway proxy runs this Gateway" : "the policy applies to no workload";
    return [finding(SELECTOR_UNKNOWN_SERVICE, "warning", r, ["spec", "selector", "service"], `spec.selector.service names Service '${name}', which does not exist ${where}, so ${effect}; select an existing Service`)];
  });
};
