import { z } from "zod";
import { DurationSchema, StringMatchSchema, WorkloadSelectorSchema } from "../common";

/** A token bucket: `maxTokens` burst, refilled with `tokensPerFill` every `fillInterval`. */
export const TokenBucketSchema = z
  .object({
    /** Bucket capacity (the burst). */
    maxTokens: z.number().int().min(1),
    /** Tokens added each interval. */
    tokensPerFill: z.number().int().min(1),
    /** Refill interval. */
    fillInterval: DurationSchema,
  })
  .strict();

/** One limit: requests matching `match` draw from a bucket; empty buckets answer 429. */
export const RateLimitSchema = z
  .object({
    /** Limit name, reported in metrics. */
    name: z.string().max(63).optional(),
    /** Only requests matching this; absent: all inbound requests. */
    match: z
      .object({
        /** Path match. */
        path: StringMatchSchema.optional(),
        /** Method match. */
        method: z.string().regex(/^[A-Z]+$/).optional(),
        /** Route rule name (as named in the Route). */
        route: z.string().optional(),
      })
      .strict()
      .optional(),
    /** One bucket per calling identity (principal, else source address) instead of one shared bucket. */
    perCaller: z.boolean().default(false),
    /** The bucket. */
    bucket: TokenBucketSchema,
  })
  .strict();

/** Local token-bucket rate limits on a workload's inbound traffic (Envoy local rate limit). */
export const RateLimitPolicySpecSchema = z
  .object({
    /** Workloads governed; absent: the whole namespace. */
    selector: WorkloadSelectorSchema.optional(),
    /** Limits; a request must pass every matching one. */
    limits: z.array(RateLimitSchema).min(1, "at least one limit"),
  })
  .strict();
export type RateLimitPolicySpec = z.infer<typeof RateLimitPolicySpecSchema>;
