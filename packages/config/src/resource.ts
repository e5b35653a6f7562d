import { z } from "zod";
import { LabelsSchema, NameSchema } from "./common";
import { AuthorizationPolicySpecSchema } from "./resources/authorization-policy";
import { DestinationPolicySpecSchema } from "./resources/destination-policy";
import { GatewaySpecSchema } from "./resources/gateway";
import { PeerAuthenticationSpecSchema } from "./resources/peer-authentication";
import { RateLimitPolicySpecSchema } from "./resources/rate-limit-policy";
import { RequestAuthenticationSpecSchema } from "./resources/request-authentication";
import { RouteSpecSchema } from "./resources/route";
import { ServiceSpecSchema } from "./resources/service";
import { ServiceEntrySpecSchema } from "./resources/service-entry";
import { WorkloadSpecSchema } from "./resources/workload";

/** Identity of a resource: its name and namespace, plus free-form labels. */
export const MetadataSchema = z
  .object({
    /** Name, unique per kind within the namespace. */
    name: NameSchema,
    /** Namespace; default `default`. The root namespace `trellis-system` makes policies mesh-wide. */
    namespace: NameSchema.default("default"),
    /** Free-form labels for selection and display. */
    labels: LabelsSchema.optional(),
  })
  .strict();
export type Metadata = z.infer<typeof MetadataSchema>;

/** The namespace whose policies apply to the whole mesh (Istio's root namespace). */
export const ROOT_NAMESPACE = "trellis-system";

function envelope<K extends string, S extends z.ZodType>(kind: K, spec: S) {
  return z
    .object({
      /** The resource kind. */
      kind: z.literal(kind),
      /** Name, namespace, labels. */
      metadata: MetadataSchema,
      /** The kind's specification. */
      spec,
    })
    .strict();
}

export const ServiceSchema = envelope("Service", ServiceSpecSchema);
export const WorkloadSchema = envelope("Workload", WorkloadSpecSchema);
export const RouteSchema = envelope("Route", RouteSpecSchema);
export const DestinationPolicySchema = envelope("DestinationPolicy", DestinationPolicySpecSchema);
export const AuthorizationPolicySchema = envelope("AuthorizationPolicy", AuthorizationPolicySpecSchema);
export const PeerAuthenticationSchema = envelope("PeerAuthentication", PeerAuthenticationSpecSchema);
export const RequestAuthenticationSchema = envelope("RequestAuthentication", RequestAuthenticationSpecSchema);
export const RateLimitPolicySchema = envelope("RateLimitPolicy", RateLimitPolicySpecSchema);
export const ServiceEntrySchema = envelope("ServiceEntry", ServiceEntrySpecSchema);
export const GatewaySchema = envelope("Gateway", GatewaySpecSchema);

export type Service = z.infer<typeof ServiceSchema>;
export type Workload = z.infer<typeof WorkloadSchema>;
export type Route = z.infer<typeof RouteSchema>;
export type DestinationPolicy = z.infer<typeof DestinationPolicySchema>;
export type AuthorizationPolicy = z.infer<typeof AuthorizationPolicySchema>;
export type PeerAuthentication = z.infer<typeof PeerAuthenticationSchema>;
export type RequestAuthentication = z.infer<typeof RequestAuthenticationSchema>;
export type RateLimitPolicy = z.infer<typeof RateLimitPolicySchema>;
export type ServiceEntry = z.infer<typeof ServiceEntrySchema>;
export type Gateway = z.infer<typeof GatewaySchema>;

/** Any mesh resource, discriminated by `kind`. */
export const ResourceSchema = z.discriminatedUnion("kind", [
  ServiceSchema,
  WorkloadSchema,
  RouteSchema,
  DestinationPolicySchema,
  AuthorizationPolicySchema,
  PeerAuthenticationSchema,
  RequestAuthenticationSchema,
  RateLimitPolicySchema,
  ServiceEntrySchema,
  GatewaySchema,
]);
export type Resource = z.infer<typeof ResourceSchema>;
/** A resource as written by a user, before defaults are filled in. */
export type ResourceInput = z.input<typeof ResourceSchema>;

export const RESOURCE_KINDS = [
  "Service",
  "Workload",
  "Route",
  "DestinationPolicy",
  "AuthorizationPolicy",
  "PeerAuthentication",
  "RequestAuthentication",
  "RateLimitPolicy",
  "ServiceEntry",
  "Gateway",
] as const;
export const ResourceKindSchema = z.enum(RESOURCE_KINDS);
export type ResourceKind = z.infer<typeof ResourceKindSchema>;
export type ResourceOfKind<K extends ResourceKind> = Extract<Resource, { kind: K }>;

/** Identifies one resource: kind, namespace, name. */
export const ResourceRefSchema = z
  .object({
    /** The kind. */
    kind: ResourceKindSchema,
    /** The namespace; default `default`. */
    namespace: NameSchema.default("default"),
    /** The name. */
    name: NameSchema,
  })
  .strict();
export type ResourceRef = z.infer<typeof ResourceRefSchema>;

/** The stable key of a resource, `Kind/namespace/name`. */
export function resourceKey(r: { kind: string; metadata: { namespace: string; name: string } } | ResourceRef): string {
  return "metadata" in r ? `${r.kind}/${r.metadata.namespace}/${r.metadata.name}` : `${r.kind}/${r.namespace}/${r.name}`;
}

/** Splits a key made by resourceKey. */
export function parseResourceKey(key: string): ResourceRef {
  const [kind, namespace, name] = key.split("/");
  return ResourceRefSchema.parse({ kind, namespace, name });
}

/** Thrown by parseResource with every problem and the path of the field it concerns. */
export class ResourceValidationError extends Error {
  readonly code = "TRELLIS_INVALID_RESOURCE";
  constructor(readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path || "(resource)"}: ${i.message}`).join("; "));
    this.name = "ResourceValidationError";
  }
}

/** Renders a zod issue path as `spec.http[0].route[1].weight`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Validates and fills defaults; throws ResourceValidationError naming each bad field. */
export function parseResource(input: unknown): Resource {
  const r = ResourceSchema.safeParse(input);
  if (r.success) return r.data;
  throw new ResourceValidationError(r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
}
