import type { Resource } from "../resource";
import { authzRequestAuth } from "./authz-request-auth";
import { authzSource } from "./authz-source";
import { danglingHost } from "./dangling-host";
import { destinationPort } from "./destination-port";
import { destinationTls } from "./destination-tls";
import { duplicateDestinationPolicy } from "./duplicate-destination-policy";
import { duplicateSubset } from "./duplicate-subset";
import { gatewayHostConflict } from "./gateway-host-conflict";
import { gatewayRouteHost } from "./gateway-route-host";
import { invalidRegex } from "./invalid-regex";
import { rateLimitRoute } from "./rate-limit-route";
import { retryTimeout } from "./retry-timeout";
import { routeHostConflict } from "./route-host-conflict";
import { routeWeights } from "./route-weights";
import { shadowedRule } from "./shadowed-rule";
import { strictMtlsNoSidecar } from "./strict-mtls-no-sidecar";
import { unknownGateway } from "./unknown-gateway";
import { unknownHost } from "./unknown-host";
import { unknownSelectorService } from "./unknown-selector-service";
import { unknownSubset } from "./unknown-subset";
import { workloadUnknownService } from "./workload-unknown-service";
import type { Analyzer, Finding } from "./types";

/** Every analyzer analyze runs, one family of findings each. */
const analyzers: readonly Analyzer[] = [
  // traffic
  unknownHost,
  unknownSubset,
  destinationPort,
  routeWeights,
  shadowedRule,
  routeHostConflict,
  retryTimeout,
  invalidRegex,
  duplicateDestinationPolicy,
  duplicateSubset,
  danglingHost,
  workloadUnknownService,
  rateLimitRoute,
  // gateways
  unknownGateway,
  gatewayRouteHost,
  gatewayHostConflict,
  // security
  strictMtlsNoSidecar,
  destinationTls,
  authzSource,
  authzRequestAuth,
  unknownSelectorService,
];

/**
 * Cross-resource validation of a whole mesh configuration. Schema validation (parseResource)
 * must already have passed; analyze finds what no single resource shows on its own.
 * Findings are ordered by resource key, then path, so output is stable across runs.
 */
export function analyze(resources: readonly Resource[]): Finding[] {
  return analyzers
    .flatMap((a) => a(resources))
    .sort((a, b) => compare(a.resource, b.resource) || compare(a.path, b.path) || compare(a.code, b.code));
}

/** True when any finding is an error (the control plane refuses such a change). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export { applyChange } from "./apply-change";
export type { Analyzer, Finding, Severity } from "./types";
export { effectivePeerAuthentication } from "./peer-auth";
