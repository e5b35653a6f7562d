import { z } from "zod";
import { ROLES } from "../../auth/auth-service";
import { adminProcedure, anonymousProcedure, router, viewerProcedure } from "../trpc";
import type { Context } from "../trpc";

/** Cookie names: the session (httpOnly) and its CSRF token (readable by the dashboard's script, sent back as x-trellis-csrf). */
export const SESSION_COOKIE = "trellis_session";
export const CSRF_COOKIE = "trellis_csrf";

const Role = z.enum(ROLES);
const Username = z.string().min(1).max(63);
const Password = z.string().min(1).max(1024);

function cookies(ctx: Context, session: string, csrf: string, maxAgeS: number): string[] {
  const common = `Path=/; SameSite=Strict; Max-Age=${maxAgeS}${ctx.cookies.secure ? "; Secure" : ""}`;
  return [`${SESSION_COOKIE}=${session}; HttpOnly; ${common}`, `${CSRF_COOKIE}=${csrf}; ${common}`];
}

/**
 * Signing in and out, the caller's own password and API tokens, and (admins) users and the
 * audit trail. Secrets (session, CSRF, API tokens) are returned once, to their owner.
 */
export const authRouter = router({
  /** Checks the password (throttled per user and address) and sets the session cookies; returns the CSRF token mutations must send. */
  login: anonymousProcedure.input(z.object({ username: Username, password: Password }).strict()).mutation(async ({ ctx, input }) => {
    const s = await ctx.auth.login(input.username, input.password, ctx.remote);
    ctx.setCookies(cookies(ctx, s.sessionToken, s.csrfToken, Math.floor((s.expiresAt.getTime() - Date.now()) / 1000)));
    return { username: s.user.username, role: s.user.role, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
  }),
  /** Ends this browser's session and clears its cookies. */
  logout: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await ctx.auth.logout(ctx.sessionToken);
    ctx.setCookies(cookies(ctx, "", "", 0));
    return { ok: true };
  }),
  /** Who the caller is: the dashboard's role-aware UI reads this. */
  me: viewerProcedure.query(({ ctx }) => ({ username: ctx.principal!.username, role: ctx.principal!.role, via: ctx.principal!.via })),
  changePassword: viewerProcedure.input(z.object({ currentPassword: Password, newPassword: Password }).strict()).mutation(async ({ ctx, input }) => {
    if (!(await ctx.auth.verifyOwnPassword(ctx.principal!.userId, input.currentPassword))) throw Object.assign(new Error("the current password is wrong"), { code: "TRELLIS_UNAUTHENTICATED" });
    await ctx.auth.setPassword(ctx.principal!.username, input.newPassword);
    return { ok: true, signedOut: true };
  }),
  tokens: router({
    /** A bearer token acting as the caller with `role` (at most the caller's); `token` is shown this once. */
    create: viewerProcedure
      .input(z.object({ name: z.string().min(1).max(100), role: Role, ttlHours: z.number().positive().max(24 * 365).optional() }).strict())
      .mutation(({ ctx, input }) => ctx.auth.createToken(ctx.principal!, input)),
    /** The caller's tokens; `all` (admins): everyone's. */
    list: viewerProcedure.input(z.object({ all: z.boolean().default(false) }).default({ all: false })).query(({ ctx, input }) => {
      if (input.all && ctx.principal!.role !== "admin") throw Object.assign(new Error("listing everyone's tokens needs the admin role"), { code: "TRELLIS_FORBIDDEN" });
      return ctx.auth.listTokens(input.all ? undefined : ctx.principal!.userId);
    }),
    revoke: viewerProcedure.input(z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "must be a token id (16 hex digits)") }).strict()).mutation(async ({ ctx, input }) => ({ revoked: await ctx.auth.revokeToken(ctx.principal!, input.id) })),
  }),
  users: router({
    list: adminProcedure.query(({ ctx }) => ctx.auth.listUsers()),
    create: adminProcedure.input(z.object({ username: Username, password: Password, role: Role }).strict()).mutation(({ ctx, input }) => ctx.auth.createUser({ ...input, createdBy: ctx.author })),
    /** Role change, disable (ends their sessions; their tokens stop working) or enable. */
    update: adminProcedure.input(z.object({ username: Username, role: Role.optional(), disabled: z.boolean().optional() }).strict()).mutation(({ ctx, input }) => ctx.auth.updateUser(input.username, input)),
    setPassword: adminProcedure.input(z.object({ username: Username, password: Password }).strict()).mutation(async ({ ctx, input }) => {
      await ctx.auth.setPassword(input.username, input.password);
      return { ok: true };
    }),
  }),
  /** The audit trail, newest first: sign-ins and every change, with who, how and the revision made. */
  audit: adminProcedure
    .input(z.object({ limit: z.number().int().min(1).max(1000).default(100), actor: z.string().max(63).optional(), beforeId: z.string().regex(/^\d+$/).optional() }).default({ limit: 100 }))
    .query(({ ctx, input }) => ctx.auth.auditLog(input)),
});
