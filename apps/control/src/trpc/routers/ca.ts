import { z } from "zod";
import { adminProcedure, operatorProcedure, viewerProcedure, router } from "../trpc";

const Name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label (lower-case letters, digits, '-')");

export const JoinTokenInputSchema = z
  .object({
    /** The namespace the proxy joins. */
    namespace: Name,
    /** The one service it may join as; omitted = any service of the namespace. */
    service: Name.optional(),
    /** How long the token works, hours (default 24, at most 30 days). */
    ttlHours: z.number().positive("must be above 0").max(720, "must be at most 720 (30 days)").default(24),
    description: z.string().max(200).default(""),
  })
  .strict();

/**
 * The mesh CA: the trust bundle and the authorities (certificates and fingerprints, never a
 * key), root rotation, and the join tokens proxies bootstrap their identity with. Join-token
 * secrets are returned once, by `joinTokens.create`.
 */
export const caRouter = router({
  /** The roots every workload trusts now (PEM), and the trust domain. */
  bundle: viewerProcedure.query(async ({ ctx }) => ({ trustDomain: ctx.ca.authority.trustDomain, pem: await ctx.ca.authority.trustBundlePem() })),
  authorities: viewerProcedure.query(({ ctx }) => ctx.ca.authority.describe()),
  /** A new root signs from now on; the old one stays trusted for one workload-certificate lifetime. */
  rotateRoot: adminProcedure.mutation(({ ctx }) => ctx.ca.authority.rotate()),
  joinTokens: router({
    list: operatorProcedure.query(({ ctx }) => ctx.ca.joinTokens.list()),
    /** `token` is shown this once: only its hash is stored. */
    create: operatorProcedure.input(JoinTokenInputSchema).mutation(({ ctx, input }) =>
      ctx.ca.joinTokens.create({ namespace: input.namespace, service: input.service, ttlMs: input.ttlHours * 3_600_000, description: input.description, createdBy: ctx.author }),
    ),
    revoke: operatorProcedure.input(z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "must be a join token id (16 hex digits)") }).strict()).mutation(async ({ ctx, input }) => ({ revoked: await ctx.ca.joinTokens.revoke(input.id) })),
  }),
});
