import { SignalsQuerySchema } from "../../telemetry/golden-signals";
import { viewerProcedure, router } from "../trpc";

export const metricsRouter = router({
  /** Golden signals of a service, workload or route over a window, with a time series. */
  signals: viewerProcedure.input(SignalsQuerySchema).query(({ ctx, input }) => ctx.telemetry.signals(input)),
  /** The live window's size, coverage and ingest counters (accepted and refused deltas, by field). */
  liveStats: viewerProcedure.query(({ ctx }) => ctx.telemetry.stats()),
});
