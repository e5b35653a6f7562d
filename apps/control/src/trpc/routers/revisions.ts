import { z } from "zod";
import { operatorProcedure, viewerProcedure, router } from "../trpc";

const RevisionNumber = z.number().int().min(0);

export const revisionsRouter = router({
  head: viewerProcedure.query(({ ctx }) => ctx.store.head()),
  list: viewerProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50), before: RevisionNumber.optional() }).default({ limit: 50 }))
    .query(({ ctx, input }) => ctx.store.listRevisions(input)),
  get: viewerProcedure.input(z.object({ number: RevisionNumber })).query(({ ctx, input }) => ctx.store.getRevision(input.number)),
  /** What changed from revision `from` to revision `to`, resource by resource and field by field. */
  diff: viewerProcedure.input(z.object({ from: RevisionNumber, to: RevisionNumber })).query(({ ctx, input }) => ctx.store.diff(input.from, input.to)),
  /** Restores the content of revision `to` as a new revision. */
  rollback: operatorProcedure
    .input(z.object({ to: RevisionNumber, baseRevision: RevisionNumber, message: z.string().max(2000).optional() }))
    .mutation(({ ctx, input }) => ctx.store.rollback({ to: input.to, baseRevision: input.baseRevision, author: ctx.author, message: input.message ?? `rollback to revision ${input.to}` })),
});
