import { ROOT_NAMESPACE } from "../resource";
import type { AuthorizationPolicy, RequestAuthentication } from "../resource";
import { finding, p } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const AUTHZ_NO_REQUEST_AUTH = "TRELLIS_AUTHZ_NO_REQUEST_AUTH";

/**
 * Rules on JWT attributes (`request.auth.*` conditions, `requestPrincipals`) only see a token
 * when a RequestAuthentication covers the workload; without one they never match. A warning:
 * coverage is judged by selector service only, so it errs on the side of silence.
 */
export const authzRequestAuth: Analyzer = (resources) => {
  const ras = ofKind(resources, "RequestAuthentication");
  return ofKind(resources, "AuthorizationPolicy").flatMap((policy): Finding[] => {
    if (ras.some((ra) => covers(ra, policy))) return [];
    const where = policy.spec.selector?.service ? `service ${policy.spec.selector.service} in ${policy.metadata.namespace}` : `namespace ${policy.metadata.namespace}`;
    const hint = `it never matches without a token; add a RequestAuthentication for ${where}`;
    return policy.spec.rules.flatMap((rule, i) => [
      ...(rule.from ?? []).flatMap(({ source }, j) => {
        if (!source.requestPrincipals) return [];
        const path = ["spec", "rules", i, "from", j, "source", "requestPrincipals"];
        return [finding(AUTHZ_NO_REQUEST_AUTH, "warning", policy, path, `${p(...path)} needs a validated JWT but no RequestAuthentication covers ${where}; ${hint}`)];
      }),
      ...(rule.when ?? []).flatMap((cond, j) => {
        if (!cond.key.startsWith("request.auth.")) return [];
        const path = ["spec", "rules", i, "when", j, "key"];
        return [finding(AUTHZ_NO_REQUEST_AUTH, "warning", policy, path, `${p(...path)} '${cond.key}' reads a JWT but no RequestAuthentication covers ${where}; ${hint}`)];
      }),
    ]);
  });
};

/**
 * Whether `ra` validates tokens on (at least some of) the workloads `policy` governs: the two
 * share a namespace (or one of them is mesh-wide, in the root namespace) and, where both
 * select a service, the same one.
 */
function covers(ra: RequestAuthentication, policy: AuthorizationPolicy): boolean {
  const raNs = ra.metadata.namespace;
  const policyNs = policy.metadata.namespace;
  if (raNs !== policyNs && raNs !== ROOT_NAMESPACE && policyNs !== ROOT_NAMESPACE) return false;
  const raService = ra.spec.selector?.service;
  const policyService = policy.spec.selector?.service;
  return raService === undefined || policyService === undefined || raService === policyService;
}
