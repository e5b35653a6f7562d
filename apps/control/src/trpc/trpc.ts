import { initTRPC, TRPCError } from "@trpc/server";
import { formatPath } from "@trellis/config";
import { ZodError } from "zod";
import { AuthService, roleAtLeast } from "../auth/auth-service";
import type { Principal, Role } from "../auth/auth-service";
import type { ControlServices } from "../services";

/** Per-request context: the control plane's modules plus who is asking. */
export interface Context extends ControlServices {
  /** Who is calling (session cookie or API token), undefined when anonymous. */
  principal: Principal | undefined;
  /** The principal's username (the author of revisions), or "anonymous". */
  author: string;
  /** The caller's address (audit, sign-in throttling). */
  remote: string;
  /** The session token from the cookie (sign-out). */
  sessionToken: string | undefined;
  /** The `x-trellis-csrf` header. */
  csrfHeader: string | undefined;
  /** Adds Set-Cookie headers to the response. */
  setCookies(cookies: string[]): void;
}

/** Details added to every error so the dashboard and CLI can point at the bad field. */
interface ErrorData {
  /** Stable Trellis error code (`TRELLIS_CONFLICT`, …) when the cause has one. */
  trellisCode?: string;
  /** Field-level problems: path inside the input and message. */
  issues?: { path: string; message: string }[];
  /** analyze findings that refused the change. */
  findings?: unknown[];
  /** Throttled sign-in: seconds until the next attempt. */
  retryAfterS?: number;
}

function dataOf(cause: unknown): ErrorData {
  if (cause instanceof ZodError) return { issues: cause.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  if (cause && typeof cause === "object") {
    const c = cause as { code?: unknown; issues?: unknown; findings?: unknown; retryAfterS?: unknown };
    const data: ErrorData = {};
    if (typeof c.retryAfterS === "number") data.retryAfterS = c.retryAfterS;
    if (typeof c.code === "string" && c.code.startsWith("TRELLIS_")) data.trellisCode = c.code;
    if (Array.isArray(c.issues)) data.issues = c.issues as ErrorData["issues"];
    if (Array.isArray(c.findings)) data.findings = c.findings;
    return data;
  }
  return {};
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const data = dataOf(error.cause);
    // zod's default message is a JSON dump; say instead which field is wrong and why.
    const message = error.cause instanceof ZodError && data.issues ? `invalid input: ${data.issues.map((i) => `${i.path || "(input)"}: ${i.message}`).join("; ")}` : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined, ...data } };
  },
});

/** Maps the modules' typed errors (by their stable code) to tRPC error codes. */
const TRELLIS_TO_TRPC: Record<string, TRPCError["code"]> = {
  TRELLIS_INVALID_RESOURCE: "BAD_REQUEST",
  TRELLIS_ANALYZE_FAILED: "BAD_REQUEST",
  TRELLIS_CONFLICT: "CONFLICT",
  TRELLIS_JOIN_TOKEN: "BAD_REQUEST",
  TRELLIS_NOT_FOUND: "NOT_FOUND",
  TRELLIS_DATABASE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  TRELLIS_PROMETHEUS_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  TRELLIS_PROMETHEUS_BAD_RESPONSE: "BAD_GATEWAY",
  TRELLIS_UNAUTHENTICATED: "UNAUTHORIZED",
  TRELLIS_RATE_LIMITED: "TOO_MANY_REQUESTS",
  TRELLIS_INVALID_USER: "BAD_REQUEST",
  TRELLIS_FORBIDDEN: "FORBIDDEN",
};

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause as { code?: unknown; message?: string } | undefined;
    const code = typeof cause?.code === "string" ? TRELLIS_TO_TRPC[cause.code] : undefined;
    if (code) throw new TRPCError({ code, message: cause?.message ?? result.error.message, cause: result.error.cause });
  }
  return result;
});

/** The revision a mutation's result names (config writes, rollbacks), for the audit trail. */
function revisionOf(data: unknown): number | undefined {
  const r = (data as { revision?: unknown } | null)?.revision;
  return typeof r === "number" ? r : undefined;
}

/**
 * Every procedure but sign-in runs behind this: anonymous callers get UNAUTHORIZED; a
 * browser session's mutations must carry the session's CSRF token in `x-trellis-csrf` (the
 * session cookie alone, which a browser attaches to forged cross-site requests, is not
 * enough); the principal's role must reach `need`. Mutations — refused or not — go to the
 * audit trail with the revision they created.
 */
function requireRole(need: Role) {
  return t.middleware(async ({ ctx, type, path, next }) => {
    const p = ctx.principal;
    if (!p) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first: no valid session cookie or API token (Authorization: Bearer trellis_…)" });
    const audit = (outcome: string, revision?: number) => (type === "mutation" ? ctx.auth.audit({ actor: p.username, via: p.via, action: path, outcome, revision, remote: ctx.remote }) : Promise.resolve());
    if (type === "mutation" && p.via === "session" && !AuthService.csrfMatches(p, ctx.csrfHeader)) {
      await audit("CSRF");
      throw new TRPCError({ code: "FORBIDDEN", message: "missing or wrong x-trellis-csrf header: send the csrfToken that auth.login returned (also in the trellis_csrf cookie)" });
    }
    if (!roleAtLeast(p.role, need)) {
      await audit("FORBIDDEN");
      throw new TRPCError({ code: "FORBIDDEN", message: `${path} needs the ${need} role; ${p.username} acts as ${p.role}` });
    }
    const result = await next();
    await audit(result.ok ? "ok" : result.error.code, result.ok ? revisionOf(result.data) : undefined);
    return result;
  });
}

export const router = t.router;
/** No authentication: sign-in only. */
export const anonymousProcedure = t.procedure.use(mapErrors);
/** Reads: every signed-in role. */
export const viewerProcedure = t.procedure.use(mapErrors).use(requireRole("viewer"));
/** Changes to the mesh (config, rollbacks, join tokens). */
export const operatorProcedure = t.procedure.use(mapErrors).use(requireRole("operator"));
/** Users, everyone's tokens, the audit trail, the CA root. */
export const adminProcedure = t.procedure.use(mapErrors).use(requireRole("admin"));
export const createCallerFactory = t.createCallerFactory;
