import { z } from "zod";
import { PortNumberSchema, WorkloadSelectorSchema } from "../common";

/** A list that, when given, names at least one value: an empty list would silently match nothing (or, under `not*`, everything). */
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1, "must name at least one value; omit the field to match any");

/** Who is calling: all set fields must match. */
export const AuthzSourceSchema = z
  .object({
    /** SPIFFE IDs allowed (`spiffe://<trust-domain>/ns/<ns>/sa/<sa>`); `*` wildcards as prefix or suffix. */
    principals: list(z.string().min(1)).optional(),
    /** SPIFFE IDs excluded. */
    notPrincipals: list(z.string().min(1)).optional(),
    /** Caller namespaces. */
    namespaces: list(z.string().min(1)).optional(),
    /** Caller namespaces excluded. */
    notNamespaces: list(z.string().min(1)).optional(),
    /** JWT principals (`<iss>/<sub>`) from RequestAuthentication. */
    requestPrincipals: list(z.string().min(1)).optional(),
    /** JWT principals excluded. */
    notRequestPrincipals: list(z.string().min(1)).optional(),
  })
  .strict();

/** What is being called: all set fields must match. */
export const AuthzOperationSchema = z
  .object({
    /** HTTP methods. */
    methods: list(z.string().regex(/^[A-Z*]+$/, "methods are upper-case")).optional(),
    /** HTTP methods excluded. */
    notMethods: list(z.string().regex(/^[A-Z*]+$/, "methods are upper-case")).optional(),
    /** Paths; `*` wildcards as prefix or suffix (`/api/*`). */
    paths: list(z.string().min(1)).optional(),
    /** Paths excluded. */
    notPaths: list(z.string().min(1)).optional(),
    /** Destination (service) ports. */
    ports: list(PortNumberSchema).optional(),
    /** Destination ports excluded. */
    notPorts: list(PortNumberSchema).optional(),
  })
  .strict();

/** A condition on request attributes. */
export const AuthzConditionSchema = z
  .object({
    /** Attribute: `request.headers[<name>]`, `request.auth.claims[<claim>]`, `source.ip`, `source.namespace`, `source.principal`. */
    key: z.string().regex(/^(request\.headers\[[^\]]+\]|request\.auth\.claims\[[^\]]+\]|request\.auth\.principal|request\.auth\.audiences|source\.ip|source\.namespace|source\.principal|destination\.port)$/, "unknown condition key; use request.headers[<name>], request.auth.claims[<claim>], request.auth.principal, source.ip, source.namespace, source.principal or destination.port"),
    /** Any of these values matches. */
    values: list(z.string().min(1)).optional(),
    /** None of these values may match. */
    notValues: list(z.string().min(1)).optional(),
  })
  .strict()
  .refine((c) => c.values !== undefined || c.notValues !== undefined, { message: "a condition needs values or notValues (without either it would match every request)", path: ["values"] });

/** One rule: it matches when any `from`, any `to` and every `when` match. Absent parts match all. */
export const AuthzRuleSchema = z
  .object({
    /** Sources (OR). */
    from: z.array(z.object({ /** The source. */ source: AuthzSourceSchema }).strict()).optional(),
    /** Operations (OR). */
    to: z.array(z.object({ /** The operation. */ operation: AuthzOperationSchema }).strict()).optional(),
    /** Conditions (AND). */
    when: z.array(AuthzConditionSchema).optional(),
  })
  .strict();

/** Access control on a workload's inbound traffic (Istio AuthorizationPolicy). */
export const AuthorizationPolicySpecSchema = z
  .object({
    /** Workloads governed; absent: the whole namespace (or the mesh, in the root namespace). */
    selector: WorkloadSelectorSchema.optional(),
    /** ALLOW (only matching requests pass once any ALLOW exists), DENY (matching requests refused; checked first), AUDIT (matching requests logged). */
    action: z.enum(["ALLOW", "DENY", "AUDIT"]).default("ALLOW"),
    /** Rules (OR). An ALLOW with no rules allows nothing; `[{}]` allows everything. */
    rules: z.array(AuthzRuleSchema).default([]),
  })
  .strict();
export type AuthorizationPolicySpec = z.infer<typeof AuthorizationPolicySpecSchema>;
