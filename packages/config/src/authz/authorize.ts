import type { z } from "zod";
import type { AuthzConditionSchema, AuthzOperationSchema, AuthzRuleSchema, AuthzSourceSchema } from "../resources/authorization-policy";

/**
 * AuthorizationPolicy evaluation with Istio's semantics, as a pure function: the proxy runs it
 * on every inbound request, and the dashboard's what-if runs the same code.
 *
 * 1. DENY policies first: one matching rule denies.
 * 2. Then ALLOW: with no ALLOW policy selecting the workload, the request is allowed; with
 *    some, one matching rule must allow it (an ALLOW with no rules allows nothing).
 * 3. AUDIT policies change nothing; the matching ones are reported (for the access log).
 *
 * A rule matches when any of its `from`, any of its `to` and all of its `when` match (an absent
 * part matches everything). Within a source or operation every field set must match; `not*`
 * fields match when the value is in none of them. Principals, request principals, paths and
 * header values take `*` as a whole value, a prefix (`/api/*`) or a suffix (`*.png`).
 * Source principal and namespace come from the peer's mTLS certificate: a plaintext request has
 * neither, so it matches no `principals`/`namespaces` (but does match `notPrincipals`).
 */

type Rule = z.infer<typeof AuthzRuleSchema>;
type Source = z.infer<typeof AuthzSourceSchema>;
type Operation = z.infer<typeof AuthzOperationSchema>;
type Condition = z.infer<typeof AuthzConditionSchema>;

export interface AuthzPolicy {
  /** The policy's resource key, `AuthorizationPolicy/<ns>/<name>`. */
  source: string;
  action: "ALLOW" | "DENY" | "AUDIT";
  rules: readonly Rule[];
}

/** What a request is, as far as authorization is concerned. */
export interface AuthzRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The destination (service) port. */
  port: number;
  /** Lower-case header names; arrays for repeated headers. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The peer's SPIFFE ID from its certificate; undefined over plaintext. */
  sourcePrincipal?: string | undefined;
  /** The peer's namespace from that certificate. */
  sourceNamespace?: string | undefined;
  sourceIp?: string | undefined;
  /** `<iss>/<sub>` of a validated JWT (RequestAuthentication). */
  requestPrincipal?: string | undefined;
  /** The validated JWT's claims. */
  claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface AuthzDecision {
  allowed: boolean;
  /** The policy that decided a denial (DENY that matched, or the first ALLOW when none matched); undefined when allowed. */
  policy: string | undefined;
  /** Why, for logs and the what-if; never sent to the caller. */
  reason: string;
  /** AUDIT policies that matched. */
  audited: string[];
}

export function authorize(policies: readonly AuthzPolicy[], req: AuthzRequest): AuthzDecision {
  const audited = policies.filter((p) => p.action === "AUDIT" && matchingRule(p, req) >= 0).map((p) => p.source);
  for (const p of policies) {
    if (p.action !== "DENY") continue;
    const rule = matchingRule(p, req);
    if (rule >= 0) return { allowed: false, policy: p.source, reason: `denied by ${p.source} (DENY, rule ${rule})`, audited };
  }
  const allows = policies.filter((p) => p.action === "ALLOW");
  if (allows.length === 0) return { allowed: true, policy: undefined, reason: "no ALLOW policy applies", audited };
  for (const p of allows) {
    const rule = matchingRule(p, req);
    if (rule >= 0) return { allowed: true, policy: undefined, reason: `allowed by ${p.source} (rule ${rule})`, audited };
  }
  return { allowed: false, policy: allows[0]!.source, reason: `no rule of the ALLOW policies (${allows.map((p) => p.source).join(", ")}) matches`, audited };
}

/** The index of the first rule of `p` that matches, or -1. */
function matchingRule(p: AuthzPolicy, req: AuthzRequest): number {
  return p.rules.findIndex((r) => ruleMatches(r, req));
}

function ruleMatches(r: Rule, req: AuthzRequest): boolean {
  if (r.from && r.from.length > 0 && !r.from.some((f) => sourceMatches(f.source, req))) return false;
  if (r.to && r.to.length > 0 && !r.to.some((t) => operationMatches(t.operation, req))) return false;
  return (r.when ?? []).every((c) => conditionMatches(c, req));
}

function sourceMatches(s: Source, req: AuthzRequest): boolean {
  if (s.principals && !anyPattern(s.principals, req.sourcePrincipal)) return false;
  if (s.notPrincipals && anyPattern(s.notPrincipals, req.sourcePrincipal)) return false;
  if (s.namespaces && !anyPattern(s.namespaces, req.sourceNamespace)) return false;
  if (s.notNamespaces && anyPattern(s.notNamespaces, req.sourceNamespace)) return false;
  if (s.requestPrincipals && !anyPattern(s.requestPrincipals, req.requestPrincipal)) return false;
  if (s.notRequestPrincipals && anyPattern(s.notRequestPrincipals, req.requestPrincipal)) return false;
  return true;
}

function operationMatches(o: Operation, req: AuthzRequest): boolean {
  if (o.methods && !o.methods.some((m) => m === "*" || m === req.method)) return false;
  if (o.paths && !anyPattern(o.paths, req.path)) return false;
  if (o.notPaths && anyPattern(o.notPaths, req.path)) return false;
  if (o.notMethods && o.notMethods.some((m) => m === "*" || m === req.method)) return false;
  if (o.ports && !o.ports.includes(req.port)) return false;
  if (o.notPorts && o.notPorts.includes(req.port)) return false;
  return true;
}

function conditionMatches(c: Condition, req: AuthzRequest): boolean {
  const values = attribute(c.key, req);
  if (c.values && !values.some((v) => anyPattern(c.values!, v))) return false;
  if (c.notValues && values.some((v) => anyPattern(c.notValues!, v))) return false;
  return true;
}

/** The values of a condition key for this request (none when absent). */
function attribute(key: string, req: AuthzRequest): string[] {
  const bracket = /^(request\.headers|request\.auth\.claims)\[(.+)\]$/.exec(key);
  if (bracket) {
    if (bracket[1] === "request.headers") {
      const h = req.headers[bracket[2]!.toLowerCase()];
      return h === undefined ? [] : typeof h === "string" ? [h] : [h.join(",")];
    }
    const claim = req.claims?.[bracket[2]!];
    if (claim === undefined || claim === null) return [];
    return Array.isArray(claim) ? claim.map(String) : [String(claim)];
  }
  switch (key) {
    case "request.auth.principal":
      return req.requestPrincipal ? [req.requestPrincipal] : [];
    case "request.auth.audiences": {
      const aud = req.claims?.["aud"];
      return aud === undefined ? [] : Array.isArray(aud) ? aud.map(String) : [String(aud)];
    }
    case "source.ip":
      return req.sourceIp ? [req.sourceIp] : [];
    case "source.namespace":
      return req.sourceNamespace ? [req.sourceNamespace] : [];
    case "source.principal":
      return req.sourcePrincipal ? [req.sourcePrincipal] : [];
    case "destination.port":
      return [String(req.port)];
    default:
      return [];
  }
}

/** Whether `value` matches any pattern: exact, `*` (any present value), `prefix*` or `*suffix`. An absent value matches nothing. */
export function anyPattern(patterns: readonly string[], value: string | undefined): boolean {
  if (value === undefined || value === "") return false;
  return patterns.some((p) => {
    if (p === "*") return true;
    if (p.endsWith("*")) return value.startsWith(p.slice(0, -1));
    if (p.startsWith("*")) return value.endsWith(p.slice(1));
    return value === p;
  });
}
