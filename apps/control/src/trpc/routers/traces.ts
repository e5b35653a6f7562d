import { z } from "zod";
import { viewerProcedure, router } from "../trpc";

/** How far back a search looks when it gives no `from` (Jaeger's default lookback). */
const DEFAULT_LOOKBACK_MS = 60 * 60_000;

const Time = z.union([z.string(), z.number()]).pipe(z.coerce.date({ message: "must be an ISO time (2026-11-21T17:00:00Z) or epoch milliseconds" }));

/** A trace search. Each filter applies to one span of a trace: a trace matches when one of its spans matches them all. */
export const TraceSearchSchema = z
  .object({
    /** A span's service (resource `service.name`, the Service name for a Trellis proxy). */
    service: z.string().min(1, "must not be empty").max(253).optional(),
    /** A span's operation (span name), e.g. `reviews.default:9080/*`. */
    operation: z.string().min(1, "must not be empty").max(1024).optional(),
    /** A span at least this long, in ms. */
    minDurationMs: z.number().min(0, "must be 0 or more").optional(),
    /** Only traces with an error span. */
    errorsOnly: z.boolean().default(false),
    /** Spans starting at or after this time (default: an hour before `to`). */
    from: Time.optional(),
    /** Spans starting at or before this time (default: now). */
    to: Time.optional(),
    /** Most traces returned, newest first. */
    limit: z.number().int("must be a whole number").min(1, "must be 1 to 1000").max(1000, "must be 1 to 1000").default(20),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: "must not be after `to`", path: ["from"] });
export type TraceSearch = z.infer<typeof TraceSearchSchema>;

export const TraceGetSchema = z.object({
  /** 32 hex digits, as in traceparent. */
  traceId: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, "must be 32 hex digits, as in traceparent")
    .transform((s) => s.toLowerCase()),
});

export const tracesRouter = router({
  /** Trace summaries (root service and operation, start, duration, span count, error, services), newest first. */
  search: viewerProcedure.input(TraceSearchSchema.default({ errorsOnly: false, limit: 20 })).query(({ ctx, input }) => {
    const to = input.to ?? new Date();
    const from = input.from ?? new Date(to.getTime() - DEFAULT_LOOKBACK_MS);
    return ctx.traces.search({ ...input, from, to });
  }),
  /** One trace as a tree: spans nested under their parents, orphans (parent not received) at the top level. */
  get: viewerProcedure.input(TraceGetSchema).query(({ ctx, input }) => ctx.traces.get(input.traceId)),
  /** The OTLP receiver's counters (accepted spans, refusals by reason) and the retention sweep's. */
  stats: viewerProcedure.query(({ ctx }) => ctx.traces.stats()),
});
