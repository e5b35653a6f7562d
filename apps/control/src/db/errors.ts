/**
 * Database failures the rest of the control plane can act on. A driver's connection errors
 * (socket refused/reset, pg "Connection terminated", SQLSTATE class 08 and 57P0x, Prisma's
 * P1001/P1017/P2024) all become DatabaseUnavailableError so callers (tRPC, the registry)
 * answer "database unreachable" instead of leaking a driver stack trace.
 */
export class DatabaseUnavailableError extends Error {
  readonly code = "TRELLIS_DATABASE_UNAVAILABLE";
  constructor(
    /** `host:port` of the server, or `pglite:<dir>`; never a URL with credentials. */
    readonly target: string,
    readonly causeMessage: string,
  ) {
    super(`database unreachable at ${target}: ${causeMessage}`);
    this.name = "DatabaseUnavailableError";
  }
}

/** Thrown at start-up when the migration history in the database disagrees with prisma/migrations. */
export class MigrationError extends Error {
  readonly code = "TRELLIS_MIGRATION_FAILED";
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);
const PRISMA_CONNECTION_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);
const PG_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /client has encountered a connection error/i, /cannot use a pool after calling end/i, /server closed the connection/i, /can't reach database server/i];
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

/** True when `err` (or an error it wraps) says the connection to the database failed, not the query. */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown; meta?: { driverAdapterError?: unknown } };
  const code = typeof e.code === "string" ? e.code : "";
  if (SOCKET_CODES.has(code) || PRISMA_CONNECTION_CODES.has(code)) return true;
  if (/^08/.test(code) || ["57P01", "57P02", "57P03"].includes(code)) return true;
  if (typeof e.message === "string" && PG_MESSAGES.some((re) => re.test(e.message as string))) return true;
  const kind = (e.cause as { kind?: unknown } | undefined)?.kind;
  if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionError(x, depth + 1))) return true;
  return isConnectionError(e.cause, depth + 1) || isConnectionError(e.meta?.driverAdapterError, depth + 1);
}

/** A one-line cause for logs and DatabaseUnavailableError, with `secret` (a password) scrubbed. */
export function describeCause(err: unknown, secret?: string): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  let message = typeof e?.message === "string" ? e.message : "";
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  if (!message && Array.isArray(e?.errors)) message = e.errors.map((x) => describeCause(x)).join(", ");
  if (!message) message = typeof e?.code === "string" ? e.code : String(err);
  // Prisma prefixes its reason with "Invalid `x.y()` invocation in <file>" and a code excerpt.
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  message = (lines[0]?.startsWith("Invalid `") ? lines.at(-1) : lines[0]) ?? message;
  return secret ? message.split(secret).join("***") : message;
}

/** Rethrows connection failures as DatabaseUnavailableError; anything else unchanged. */
export function mapDatabaseError(err: unknown, target: string, secret?: string): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  return isConnectionError(err) ? new DatabaseUnavailableError(target, describeCause(err, secret)) : err;
}
