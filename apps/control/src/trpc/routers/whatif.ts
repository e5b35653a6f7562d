import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { WhatIfError } from "../../whatif/what-if";
import { viewerProcedure, router } from "../trpc";
import { ChangeInputSchema } from "./resources";

const WhatIfInputSchema = z
  .object({
    /** The calling workload, `namespace/workload` of a live proxy. */
    source: z.string().regex(/^[a-z0-9-]+\/[^/\s]+$/, "must be namespace/workload of a live proxy"),
    /** What the app addresses: `reviews`, `reviews:9080`, `api.example.com`. */
    authority: z.string().min(1).max(300),
    method: z.string().regex(/^[A-Z]{1,16}$/, "must be an HTTP method in capitals, e.g. GET").default("GET"),
    /** Path with query. */
    path: z.string().min(1).max(4096).default("/"),
    /** Request headers; names are lower-cased. */
    headers: z.record(z.string().max(256), z.string().max(8192)).default({}),
    /** A token the request carries, taken as valid (its issuer must still be accepted). */
    jwt: z.object({ issuer: z.string().min(1), subject: z.string().min(1), claims: z.record(z.string(), z.unknown()).default({}) }).optional(),
    /** Evaluate against the config as this change would make it. */
    change: ChangeInputSchema.optional(),
  })
  .strict();

export const whatIfRouter = router({
  /**
   * Where a described request would go — route, rule, subsets and their shares — and whether
   * each destination's proxy would let it in (mTLS mode, JWT issuer, authorization), computed
   * by the routing and authorization code the proxies run; against the current config or a
   * proposed change.
   */
  evaluate: viewerProcedure.input(WhatIfInputSchema).mutation(async ({ ctx, input }) => {
    const headers = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v]));
    try {
      return await ctx.proxies.whatIf({ source: input.source, authority: input.authority, method: input.method, path: input.path, headers, jwt: input.jwt }, input.change);
    } catch (err) {
      if (err instanceof WhatIfError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
      throw err;
    }
  }),
  /**
   * What a change would do to the calls of the last `windowSec`: each flow seen (caller →
   * service) through the destination's inbound decision before and after, with requests
   * sampled from its traces (method, path); flows the change would deny come first.
   */
  impact: viewerProcedure.input(z.object({ change: ChangeInputSchema, windowSec: z.number().int().min(10).max(86_400).default(600) }).strict()).mutation(({ ctx, input }) => ctx.proxies.impact(input.change, input.windowSec)),
});
