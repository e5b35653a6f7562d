import { analyze, applyChange, ResourceKindSchema, ResourceRefSchema, ResourceSchema, NameSchema, resourceKey } from "@trellis/config";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { operatorProcedure, viewerProcedure, router } from "../trpc";

/** A change: resources to create or replace, and references of resources to delete. */
export const ChangeInputSchema = z.object({
  /** Resources to create or replace, validated by the mesh's zod schemas (errors name the field). */
  upserts: z.array(ResourceSchema).default([]),
  /** Resources to delete. */
  deletes: z.array(ResourceRefSchema).default([]),
});

const WriteInputSchema = ChangeInputSchema.extend({
  /** The head revision the change was based on; a newer edit of a touched resource → CONFLICT. */
  baseRevision: z.number().int().min(0),
  /** Why: kept in the revision. */
  message: z.string().max(2000).default(""),
});

export const resourcesRouter = router({
  list: viewerProcedure
    .input(z.object({ kind: ResourceKindSchema.optional(), namespace: NameSchema.optional() }).default({}))
    .query(async ({ ctx, input }) => ({ revision: await ctx.store.head(), items: await ctx.store.list(input) })),
  get: viewerProcedure.input(ResourceRefSchema).query(async ({ ctx, input }) => {
    const r = await ctx.store.get(input);
    if (!r) throw new TRPCError({ code: "NOT_FOUND", message: `${resourceKey(input)} does not exist` });
    return r;
  }),
  /** Creates, replaces and deletes resources in one revision (`trellis apply`). */
  write: operatorProcedure
    .input(WriteInputSchema)
    .mutation(({ ctx, input }) => ctx.store.apply({ upserts: input.upserts, deletes: input.deletes, baseRevision: input.baseRevision, author: ctx.author, message: input.message })),
  delete: operatorProcedure
    .input(z.object({ refs: z.array(ResourceRefSchema).min(1), baseRevision: z.number().int().min(0), message: z.string().max(2000).default("") }))
    .mutation(({ ctx, input }) => ctx.store.apply({ deletes: input.refs, baseRevision: input.baseRevision, author: ctx.author, message: input.message })),
  /** Dry run: the findings the change would produce on the current mesh, writing nothing. */
  analyze: viewerProcedure.input(ChangeInputSchema).mutation(async ({ ctx, input }) => {
    const { revision, resources } = await ctx.store.snapshot();
    const after = applyChange(resources, input.upserts, input.deletes.map((d) => resourceKey(d)));
    const findings = analyze(after);
    return { baseRevision: revision, findings, valid: !findings.some((f) => f.severity === "error") };
  }),
  /**
   * Preview before save: the findings (as analyze) and the blast radius — every live proxy
   * whose snapshot the change would alter, with the field-level diff of that snapshot.
   */
  preview: viewerProcedure.input(ChangeInputSchema).mutation(({ ctx, input }) => ctx.proxies.preview(input.upserts, input.deletes)),
});
