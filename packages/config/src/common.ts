import { z } from "zod";

/** A DNS-1123 label: lower-case alphanumerics and '-', 1–63 characters, as Kubernetes names are. */
export const NameSchema = z
  .string()
  .min(1, "must not be empty")
  .max(63, "must be at most 63 characters")
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");

/**
 * A reference to a mesh host: `name` (a Service in the referring resource's namespace),
 * `name.namespace` (a Service elsewhere) or a ServiceEntry host such as `api.stripe.com`.
 */
export const HostSchema = z
  .string()
  .min(1, "must not be empty")
  .max(253, "must be at most 253 characters")
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a host name such as 'reviews', 'reviews.prod' or 'api.example.com'");

/** A duration written as Istio writes it: `250ms`, `1.5s`, `2m`, `1h`. */
export const DurationSchema = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, "must be a duration such as '250ms', '1.5s', '2m' or '1h'");

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Converts a validated duration string to milliseconds. Throws on a string DurationSchema would refuse. */
export function durationMs(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`invalid duration '${d}': expected e.g. '250ms', '1.5s', '2m' or '1h'`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** A percentage of requests, 0–100, fractions allowed (0.1 = one request in a thousand). */
export const PercentageSchema = z.number().min(0, "must be at least 0").max(100, "must be at most 100");

/** A TCP/UDP port number. */
export const PortNumberSchema = z.number().int("must be an integer").min(1, "must be at least 1").max(65535, "must be at most 65535");

/** Label keys and values, Kubernetes-style (`version: v2`, `app: reviews`). */
export const LabelsSchema = z.record(
  z.string().min(1).max(63).regex(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/, "label keys are alphanumerics with '-', '_', '.', '/'"),
  z.string().max(63),
);

/** How a string is matched: exactly one of exact, prefix or regex (RE2-style syntax, checked by analyze). */
export const StringMatchSchema = z
  .object({
    /** Matches when the value equals this string. */
    exact: z.string().optional(),
    /** Matches when the value starts with this string. */
    prefix: z.string().optional(),
    /** Matches when the whole value matches this regular expression. */
    regex: z.string().optional(),
  })
  .strict()
  .refine((m) => [m.exact, m.prefix, m.regex].filter((v) => v !== undefined).length === 1, {
    message: "set exactly one of exact, prefix or regex",
  });
export type StringMatch = z.infer<typeof StringMatchSchema>;

/** Selects the workloads a policy applies to. Absent: every workload in the policy's namespace. */
export const WorkloadSelectorSchema = z
  .object({
    /** The Service whose workloads the policy applies to (in the policy's namespace). */
    service: NameSchema.optional(),
    /** Further narrows to workloads carrying all of these labels (e.g. `version: v2`). */
    matchLabels: LabelsSchema.optional(),
  })
  .strict();
export type WorkloadSelector = z.infer<typeof WorkloadSelectorSchema>;

/** Application protocols a Service port may speak. */
export const ProtocolSchema = z.enum(["http", "http2", "grpc", "tcp"]);
export type Protocol = z.infer<typeof ProtocolSchema>;
