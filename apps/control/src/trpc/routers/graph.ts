import { on } from "node:events";
import { GraphQuerySchema } from "../../graph/types";
import { viewerProcedure, router } from "../trpc";

export const graphRouter = router({
  /** The traffic graph of a window (default: the last 60 s). */
  get: viewerProcedure.input(GraphQuerySchema).query(({ ctx, input }) => ctx.telemetry.graph(input, { stale: true })),
  /** The same graph, pushed again after every complete second (live view; a long window when it is rebuilt, see liveRefreshSec); `until` is ignored. */
  watch: viewerProcedure.input(GraphQuerySchema).subscription(async function* ({ ctx, input, signal }) {
    const query = { ...input, until: undefined };
    let last = await ctx.telemetry.graph(query);
    yield last;
    try {
      for await (const _ of on(ctx.telemetry.window, "second", { signal })) {
        const g = await ctx.telemetry.graph(query);
        if (g === last) continue; // a long window's graph is rebuilt every few seconds (liveRefreshSec): no push without news
        yield (last = g);
      }
    } catch (err) {
      if (!signal?.aborted) throw err; // the subscriber left: a normal end
    }
  }),
});
