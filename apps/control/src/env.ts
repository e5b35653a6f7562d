import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * Every environment variable the control plane reads, validated in one place. Nothing else
 * reads process.env.
 */
const EnvSchema = z.object({
  /** PostgreSQL connection string; unset → embedded PGlite in TRELLIS_DATA_DIR. */
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgres:// URL").optional(),
  /** Where the embedded database (and other local state) lives. */
  TRELLIS_DATA_DIR: z.string().default(path.join(process.cwd(), ".data", "control")),
  /** Host the API and gRPC servers bind to. */
  TRELLIS_HOST: z.string().default("127.0.0.1"),
  /** tRPC/HTTP API port (0 = any free port). */
  TRELLIS_API_PORT: z.coerce.number().int().min(0).max(65535).default(15080),
  /** gRPC config-stream port (0 = any free port). */
  TRELLIS_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(15010),
  /** This replica's id, unique among control-plane replicas. */
  TRELLIS_REPLICA_ID: z.string().min(1).default(`${hostname()}-${randomUUID().slice(0, 8)}`),
  /** How long a disconnected proxy's endpoint is kept before removal, in ms. */
  TRELLIS_ENDPOINT_GRACE_MS: z.coerce.number().int().min(0).default(5000),
  /** Quiet window for coalescing bursts of edits into one push, in ms. */
  TRELLIS_PUSH_DEBOUNCE_MS: z.coerce.number().int().min(0).default(10),
  /** Longest a push may be delayed by a continuing burst, in ms. */
  TRELLIS_PUSH_MAX_DELAY_MS: z.coerce.number().int().min(0).default(100),
  /** debug | info | warn | error */
  TRELLIS_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
export type Env = z.infer<typeof EnvSchema>;

/** Parses the environment; throws an error naming each bad variable. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const r = EnvSchema.safeParse(source);
  if (r.success) return r.data;
  throw new Error(`invalid environment: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
}

/** A connection string with its password replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable url>";
  }
}
