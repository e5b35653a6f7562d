import { z } from "zod";
import { DurationSchema, HostSchema, LabelsSchema, NameSchema, PercentageSchema } from "../common";

/** Load-balancing algorithm across the endpoints of a host or subset. */
export const LoadBalancerSchema = z
  .object({
    /** ROUND_ROBIN, LEAST_REQUEST (power of two choices), RANDOM or CONSISTENT_HASH. */
    kind: z.enum(["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "CONSISTENT_HASH"]),
    /** For CONSISTENT_HASH: the request header whose value picks the endpoint. */
    hashHeader: z.string().regex(/^[a-z0-9-]+$/, "header names are lower-case").optional(),
  })
  .strict()
  .refine((lb) => lb.kind !== "CONSISTENT_HASH" || lb.hashHeader !== undefined, { message: "CONSISTENT_HASH needs hashHeader", path: ["hashHeader"] });

/** Limits on connections and requests towards a host; overflow fails fast with 503. */
export const ConnectionPoolSchema = z
  .object({
    /** TCP-level limits. */
    tcp: z
      .object({
        /** Maximum connections to the host across all its endpoints. */
        maxConnections: z.number().int().min(1).optional(),
        /** Connect timeout. */
        connectTimeout: DurationSchema.optional(),
      })
      .strict()
      .optional(),
    /** HTTP-level limits. */
    http: z
      .object({
        /** Requests waiting for a connection before new ones are refused. */
        maxPendingRequests: z.number().int().min(0).optional(),
        /** Concurrent requests towards the host. */
        maxRequests: z.number().int().min(1).optional(),
        /** Requests per connection before it is recycled (0: unlimited). */
        maxRequestsPerConnection: z.number().int().min(0).optional(),
        /** Concurrent retries towards the host. */
        maxRetries: z.number().int().min(0).optional(),
        /** Idle connections are closed after this long. */
        idleTimeout: DurationSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Passive health checking: eject endpoints that keep failing (Envoy outlier detection). */
export const OutlierDetectionSchema = z
  .object({
    /** Consecutive 5xx (or connect failures) that eject an endpoint. */
    consecutive5xxErrors: z.number().int().min(1).default(5),
    /** How often ejections are evaluated. */
    interval: DurationSchema.default("10s"),
    /** Ejection time; multiplied by the number of times the endpoint was ejected. */
    baseEjectionTime: DurationSchema.default("30s"),
    /** At most this share of a host's endpoints is ejected at once. */
    maxEjectionPercent: PercentageSchema.default(10),
  })
  .strict();

/** A named group of a host's workloads, selected by labels (e.g. `v2`). */
export const SubsetSchema = z
  .object({
    /** Subset name, referred to by Route destinations. */
    name: NameSchema,
    /** Workloads carrying all these labels belong to the subset. */
    labels: LabelsSchema,
    /** Overrides the policy-wide load balancer for this subset. */
    loadBalancer: LoadBalancerSchema.optional(),
  })
  .strict();

/** How traffic to one host is treated once routed (Istio DestinationRule). */
export const DestinationPolicySpecSchema = z
  .object({
    /** The Service or ServiceEntry host this policy governs. */
    host: HostSchema,
    /** Subsets by labels. */
    subsets: z.array(SubsetSchema).default([]),
    /** Load balancer; default ROUND_ROBIN. */
    loadBalancer: LoadBalancerSchema.optional(),
    /** Connection-pool limits (circuit breaking). */
    connectionPool: ConnectionPoolSchema.optional(),
    /** Outlier detection. */
    outlierDetection: OutlierDetectionSchema.optional(),
    /** TLS towards the host: mesh mTLS (ISTIO_MUTUAL), plain (DISABLE), or TLS to an external host (SIMPLE/MUTUAL). */
    tls: z
      .object({
        /** DISABLE, ISTIO_MUTUAL, SIMPLE or MUTUAL. */
        mode: z.enum(["DISABLE", "ISTIO_MUTUAL", "SIMPLE", "MUTUAL"]),
        /** SNI to send for SIMPLE/MUTUAL. */
        sni: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type DestinationPolicySpec = z.infer<typeof DestinationPolicySpecSchema>;
