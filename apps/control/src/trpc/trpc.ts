import { initTRPC, TRPCError } from "@trpc/server";
import { formatPath } from "@trellis/config";
import { ZodError } from "zod";
import type { ControlServices } from "../services";

/** Per-request context: the control plane's modules plus who is asking. */
export interface Context extends ControlServices {
  /** The operator making the request (authentication arrives with the security issue; until then the `x-trellis-user` header or "anonymous"). */
  author: string;
}

/** Details added to every error so the dashboard and CLI can point at the bad field. */
interface ErrorData {
  /** Stable Trellis error code (`TRELLIS_CONFLICT`, …) when the cause has one. */
  trellisCode?: string;
  /** Field-level problems: path inside the input and message. */
  issues?: { path: string; message: string }[];
  /** analyze findings that refused the change. */
  findings?: unknown[];
}

function dataOf(cause: unknown): ErrorData {
  if (cause instanceof ZodError) return { issues: cause.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  if (cause && typeof cause === "object") {
    const c = cause as { code?: unknown; issues?: unknown; findings?: unknown };
    const data: ErrorData = {};
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

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);
export const createCallerFactory = t.createCallerFactory;
