import { NameSchema } from "@trellis/config";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { CanaryError } from "../../canary/canary-controller";
import { operatorProcedure, viewerProcedure, router } from "../trpc";

const Id = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, "must be a canary id (12 hex digits)") });

const StartSchema = z
  .object({
    namespace: NameSchema,
    /** The Route (in `namespace`) whose rule is shifted. */
    route: NameSchema,
    /** The rule; default: the first naming both subsets. */
    ruleIndex: z.number().int().min(0).optional(),
    stableSubset: NameSchema,
    canarySubset: NameSchema,
    /** Weight added to the canary per step, percent. */
    stepPercent: z.number().int().min(1, "must be 1 to 100").max(100, "must be 1 to 100").default(10),
    /** Seconds between steps (each judged on that many seconds of traffic). */
    intervalSec: z.number().int().min(5, "must be at least 5 s").max(3600, "must be at most 3600 s").default(30),
    gates: z
      .object({
        /** The canary's error rate may exceed stable's by at most this many percentage points. */
        maxErrorRateDelta: z.number().min(0).max(100).default(1),
        /** The canary's p99 may be at most this many times stable's. */
        maxP99Ratio: z.number().min(1, "must be at least 1").max(100).default(1.5),
        /** Fewer canary requests per interval: no verdict, the step waits. */
        minRequests: z.number().int().min(1).max(1_000_000).default(20),
      })
      .strict()
      .default({ maxErrorRateDelta: 1, maxP99Ratio: 1.5, minRequests: 20 }),
  })
  .strict();

const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CanaryError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message, cause: err });
    throw err;
  }
};

export const canariesRouter = router({
  /** The latest runs, newest first, with every step. */
  list: viewerProcedure.query(({ ctx }) => ctx.canaries.list()),
  get: viewerProcedure.input(Id).query(({ ctx, input }) => wrap(() => ctx.canaries.get(input.id))),
  /** Starts a canary: the first step's weight goes out at once, then one step per interval while the gates hold. */
  start: operatorProcedure.input(StartSchema).mutation(({ ctx, input }) => wrap(() => ctx.canaries.begin({ ...input, author: ctx.author }))),
  pause: operatorProcedure.input(Id).mutation(({ ctx, input }) => wrap(() => ctx.canaries.pause(input.id, ctx.author))),
  resume: operatorProcedure.input(Id).mutation(({ ctx, input }) => wrap(() => ctx.canaries.resume(input.id, ctx.author))),
  /** Ends the run with every request back on the stable subset. */
  abort: operatorProcedure.input(Id).mutation(({ ctx, input }) => wrap(() => ctx.canaries.abort(input.id, ctx.author))),
});
