import { TapWatchInputSchema } from "@trellis/config";
import { TRPCError } from "@trpc/server";
import { TapLimitError } from "../../telemetry/tap/tap-hub";
import { viewerProcedure, router } from "../trpc";

export const tapRouter = router({
  /**
   * Live tap: summaries of the requests matching the filter, from every proxy of the mesh
   * (whichever replica holds its stream), sampled and capped per proxy; never bodies, with
   * credentials redacted and no query strings. The tap runs while the subscriber stays.
   */
  watch: viewerProcedure.input(TapWatchInputSchema).subscription(async function* ({ ctx, input, signal }) {
    try {
      yield* ctx.tap.watch(input, signal);
    } catch (err) {
      if (err instanceof TapLimitError) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: err.message, cause: err });
      throw err;
    }
  }),
  /** This replica's tap counters: taps running, events taken, refused, relayed and dropped. */
  stats: viewerProcedure.query(({ ctx }) => ctx.tap.stats()),
});
