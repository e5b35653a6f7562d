import { z } from "zod";
import { WorkloadSelectorSchema } from "../common";

/** One accepted JWT issuer. */
export const JwtRuleSchema = z
  .object({
    /** The `iss` claim tokens must carry. */
    issuer: z.string().min(1, "must not be empty"),
    /** Accepted `aud` values; absent: any audience. */
    audiences: z.array(z.string().min(1)).optional(),
    /** Where the issuer's JSON Web Key Set is fetched from (https, or http inside the mesh). */
    jwksUri: z.string().url("must be a URL").optional(),
    /** An inline JSON Web Key Set (a JSON string), instead of jwksUri. */
    jwks: z.string().optional(),
    /** Headers the token is read from; default `authorization: Bearer <token>`. */
    fromHeaders: z.array(z.object({ /** Header name. */ name: z.string().min(1), /** Prefix before the token, e.g. `Bearer `. */ prefix: z.string().optional() }).strict()).optional(),
    /** Keep the token on the request forwarded to the application. */
    forwardOriginalToken: z.boolean().default(false),
  })
  .strict()
  .refine((r) => (r.jwksUri === undefined) !== (r.jwks === undefined), { message: "set exactly one of jwksUri or jwks", path: ["jwksUri"] });

/** Which JWTs a workload accepts (Istio RequestAuthentication). Invalid tokens are refused; absent tokens pass unless authorization requires a principal. */
export const RequestAuthenticationSpecSchema = z
  .object({
    /** Workloads governed; absent: the whole namespace. */
    selector: WorkloadSelectorSchema.optional(),
    /** Accepted issuers. */
    jwtRules: z.array(JwtRuleSchema).min(1, "at least one jwtRule"),
  })
  .strict();
export type RequestAuthenticationSpec = z.infer<typeof RequestAuthenticationSpecSchema>;
