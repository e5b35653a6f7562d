import { on } from "node:events";
import { GraphQuerySchema } from "../../graph/types";
import { viewerProcedure, router } from "../trpc";

export const graphRouter = router({
  /** The traffic graph of a window (default: the last 60 s). */
  get: viewerProcedure.input(GraphQuerySchema).query(({ ctx, input }) => ctx.telemetry.graph(input)),
  /** The same graph, pushed again after every complete second (live view); `until` is ignored. */
  watch: viewerProcedure.input(GraphQuerySchema).subscription(async function* ({ ctx, input, signal }) {
    const query = { ...input, until: undefined };
    yield await ctx.telemetry.graph(query);
    try {
      for await (const _ of on(ctx.telemetry.window, "second", { signal })) yield await ctx.telemetry.graph(query);
    } catch (err) {
      if (!signal?.aborted) throw err; // the subscriber left: a normal end
    }
  }),
});
