import type { AuthorizationPolicy } from "../resource";
import { finding, p } from "./finding";
import { knownNamespaces, ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const AUTHZ_BAD_PRINCIPAL = "TRELLIS_AUTHZ_BAD_PRINCIPAL";
export const AUTHZ_UNKNOWN_NAMESPACE = "TRELLIS_AUTHZ_UNKNOWN_NAMESPACE";

const SPIFFE = /^spiffe:\/\/[^/\s*]+\/ns\/([^/\s*]+)\/sa\/[^/\s*]+$/;
const PRINCIPAL_HELP = "write spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>, '*', or a single '*' as prefix or suffix (e.g. spiffe://cluster.local/ns/bookinfo/*)";

/** Why `principal` can never equal a workload identity, or undefined when it is well formed. */
export function principalProblem(principal: string): string | undefined {
  if (principal === "*") return undefined;
  const stars = principal.split("*").length - 1;
  if (stars === 0) return SPIFFE.test(principal) ? undefined : "is not a SPIFFE ID";
  if (stars > 1 || !(principal.startsWith("*") || principal.endsWith("*"))) return "uses '*' other than once as a prefix or suffix";
  const prefix = principal.slice(0, -1);
  if (principal.endsWith("*") && !prefix.startsWith("spiffe://") && !"spiffe://".startsWith(prefix)) return "is a prefix no SPIFFE ID starts with";
  return undefined;
}

/**
 * Sources of authorization rules: a malformed principal never matches anyone (so an ALLOW
 * silently allows nobody, a DENY silently denies nobody) — an error. A namespace in which no
 * resource exists is probably a typo, but may be a namespace yet to come — a warning.
 */
export const authzSource: Analyzer = (resources) => {
  const namespaces = knownNamespaces(resources);
  return ofKind(resources, "AuthorizationPolicy").flatMap((policy) => {
    const out: Finding[] = [];
    const principal = (value: string, path: (string | number)[]) => {
      const problem = principalProblem(value);
      if (problem) out.push(finding(AUTHZ_BAD_PRINCIPAL, "error", policy, path, `${p(...path)} '${value}' ${problem}; ${PRINCIPAL_HELP}`));
      else namespace(SPIFFE.exec(value)?.[1], path);
    };
    const namespace = (value: string | undefined, path: (string | number)[]) => {
      if (value === undefined || value.includes("*") || namespaces.has(value)) return;
      out.push(finding(AUTHZ_UNKNOWN_NAMESPACE, "warning", policy, path, `${p(...path)} names namespace '${value}', in which no resource exists; check the spelling (known: ${[...namespaces].sort().join(", ")})`));
    };
    forEachSource(policy, (value, field, path) => (field === "principals" || field === "notPrincipals" ? principal : namespace)(value, path));
    return out;
  });
};

/** Calls `visit` for every principal and namespace a policy's rules name (sources and `when` conditions). */
function forEachSource(policy: AuthorizationPolicy, visit: (value: string, field: string, path: (string | number)[]) => void): void {
  policy.spec.rules.forEach((rule, i) => {
    rule.from?.forEach(({ source }, j) => {
      for (const field of ["principals", "notPrincipals", "namespaces", "notNamespaces"] as const) {
        source[field]?.forEach((v, k) => visit(v, field, ["spec", "rules", i, "from", j, "source", field, k]));
      }
    });
    rule.when?.forEach((cond, j) => {
      const field = cond.key === "source.principal" ? "principals" : cond.key === "source.namespace" ? "namespaces" : undefined;
      if (!field) return;
      for (const list of ["values", "notValues"] as const) cond[list]?.forEach((v, k) => visit(v, field, ["spec", "rules", i, "when", j, list, k]));
    });
  });
}
