import { z } from "zod";
import { DurationSchema, HostSchema, NameSchema, PercentageSchema, PortNumberSchema, StringMatchSchema } from "../common";

/** What an HTTP request must look like for a rule to apply; all set fields must match. */
export const HttpMatchSchema = z
  .object({
    /** Optional name, reported in metrics and traces as the matched route. */
    name: z.string().max(63).optional(),
    /** Match on the request path (without the query string). */
    path: StringMatchSchema.optional(),
    /** Match on the HTTP method (`GET`, `POST`, …), upper-case. */
    method: z.string().regex(/^[A-Z]+$/, "must be an upper-case HTTP method such as 'GET'").optional(),
    /** Header name (lower-case) → how its value must match. */
    headers: z.record(z.string().regex(/^[a-z0-9-]+$/, "header names are lower-case"), StringMatchSchema).optional(),
  })
  .strict();
export type HttpMatch = z.infer<typeof HttpMatchSchema>;

/** Where traffic goes: a host, optionally one subset of its workloads and a port. */
export const DestinationSchema = z
  .object({
    /** The Service or ServiceEntry host. */
    host: HostSchema,
    /** A subset defined by the host's DestinationPolicy (e.g. `v2`). */
    subset: NameSchema.optional(),
    /** The destination port; needed only when the host exposes several. */
    port: PortNumberSchema.optional(),
  })
  .strict();
export type Destination = z.infer<typeof DestinationSchema>;

/** A destination and the share of traffic it receives. */
export const WeightedDestinationSchema = z
  .object({
    /** Where this share goes. */
    destination: DestinationSchema,
    /** Share in percent (0–100); the weights of one rule sum to 100. Omitted on a single destination: 100. */
    weight: z.number().int("weights are whole percentages").min(0).max(100).optional(),
  })
  .strict();

/** Conditions under which a failed attempt is retried (Envoy's retry-on vocabulary). */
export const RetryOnSchema = z.enum(["5xx", "gateway-error", "connect-failure", "reset", "retriable-4xx", "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted"]);

/** How failed attempts are retried. */
export const RetryPolicySchema = z
  .object({
    /** Retries after the first attempt (0 disables retries). */
    attempts: z.number().int().min(0).max(10),
    /** Timeout of each attempt; defaults to the route timeout. */
    perTryTimeout: DurationSchema.optional(),
    /** Which failures are retried. */
    retryOn: z.array(RetryOnSchema).min(1).default(["connect-failure", "reset", "unavailable"]),
    /** Exponential backoff with full jitter between attempts. */
    backoff: z
      .object({
        /** First backoff interval. */
        baseInterval: DurationSchema.default("25ms"),
        /** Upper bound of any one backoff interval. */
        maxInterval: DurationSchema.default("250ms"),
      })
      .strict()
      .optional(),
    /** Retries may add at most this percentage of extra load over original requests (a retry budget). */
    budgetPercent: PercentageSchema.default(20),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/** Deliberate failures for testing resilience (Istio fault injection). */
export const FaultSchema = z
  .object({
    /** Delay a share of requests before forwarding them. */
    delay: z
      .object({
        /** How long to delay. */
        fixedDelay: DurationSchema,
        /** Share of requests delayed, 0–100. */
        percentage: PercentageSchema,
      })
      .strict()
      .optional(),
    /** Answer a share of requests with an error without forwarding them. */
    abort: z
      .object({
        /** HTTP status returned (e.g. 503). */
        httpStatus: z.number().int().min(200).max(599).optional(),
        /** gRPC status code returned to gRPC callers (e.g. 14 = UNAVAILABLE). */
        grpcStatus: z.number().int().min(1).max(16).optional(),
        /** Share of requests aborted, 0–100. */
        percentage: PercentageSchema,
      })
      .strict()
      .refine((a) => a.httpStatus !== undefined || a.grpcStatus !== undefined, { message: "set httpStatus or grpcStatus" })
      .optional(),
  })
  .strict();
export type Fault = z.infer<typeof FaultSchema>;

const HeaderOpsSchema = z
  .object({
    /** Headers set (replacing any existing value). */
    set: z.record(z.string(), z.string()).optional(),
    /** Headers appended. */
    add: z.record(z.string(), z.string()).optional(),
    /** Header names removed. */
    remove: z.array(z.string()).optional(),
  })
  .strict();

/** One HTTP routing rule: first matching rule wins, in order. */
export const HttpRouteRuleSchema = z
  .object({
    /** Rule name, shown in metrics, traces and the dashboard. */
    name: z.string().max(63).optional(),
    /** Alternatives (OR); within one, every field must match (AND). Absent: matches everything. */
    match: z.array(HttpMatchSchema).optional(),
    /** Weighted destinations (a canary split); at least one. */
    route: z.array(WeightedDestinationSchema).min(1, "a rule needs at least one destination"),
    /** Overall timeout for the request, retries included. */
    timeout: DurationSchema.optional(),
    /** Retry policy. */
    retries: RetryPolicySchema.optional(),
    /** Fault injection. */
    fault: FaultSchema.optional(),
    /** Copy a share of requests to another destination, fire-and-forget. */
    mirror: z
      .object({
        /** Where copies go. */
        destination: DestinationSchema,
        /** Share of requests copied, 0–100. */
        percentage: PercentageSchema.default(100),
      })
      .strict()
      .optional(),
    /** Header rewrites on the request and the response. */
    headers: z
      .object({
        /** Applied to the request before forwarding. */
        request: HeaderOpsSchema.optional(),
        /** Applied to the response before returning it. */
        response: HeaderOpsSchema.optional(),
      })
      .strict()
      .optional(),
    /** Rewrite the path prefix or the authority before forwarding. */
    rewrite: z
      .object({
        /** Replaces the matched path prefix (or the whole path for exact matches). */
        uri: z.string().optional(),
        /** Replaces the Host / :authority header. */
        authority: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type HttpRouteRule = z.infer<typeof HttpRouteRuleSchema>;

/** An L4 rule for TCP services. */
export const TcpRouteRuleSchema = z
  .object({
    /** Only connections to this port; absent: every port. */
    port: PortNumberSchema.optional(),
    /** Weighted destinations. */
    route: z.array(WeightedDestinationSchema).min(1, "a rule needs at least one destination"),
  })
  .strict();

/** Traffic rules for one or more hosts (Istio VirtualService). */
export const RouteSpecSchema = z
  .object({
    /** The hosts whose traffic these rules govern. */
    hosts: z.array(HostSchema).min(1, "a Route needs at least one host"),
    /** Gateways (by name, `ns/name` elsewhere) this route binds to; absent: mesh traffic only. */
    gateways: z.array(z.string().min(1)).optional(),
    /** HTTP rules, evaluated in order. */
    http: z.array(HttpRouteRuleSchema).optional(),
    /** TCP rules, evaluated in order. */
    tcp: z.array(TcpRouteRuleSchema).optional(),
  })
  .strict()
  .refine((r) => (r.http?.length ?? 0) + (r.tcp?.length ?? 0) > 0, { message: "a Route needs at least one http or tcp rule", path: ["http"] });
export type RouteSpec = z.infer<typeof RouteSpecSchema>;
