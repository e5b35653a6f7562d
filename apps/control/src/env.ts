import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_HEAP_GROWTH_PERCENT } from "./heap";

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
  /**
   * gRPC over TLS (0 = any free port): the config stream for proxies with a mesh certificate
   * (mTLS) and the Identity service that issues them (join token or renewal). The plaintext
   * port above serves the config stream only.
   */
  TRELLIS_GRPC_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(15012),
  /**
   * Whether the plaintext config port (TRELLIS_GRPC_PORT) opens at all. With every proxy
   * joined to the mesh CA, `false` leaves only the mTLS port: no unauthenticated config stream.
   */
  TRELLIS_GRPC_PLAINTEXT: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  /** This replica's id, unique among control-plane replicas. */
  TRELLIS_REPLICA_ID: z.string().min(1).default(`${hostname()}-${randomUUID().slice(0, 8)}`),
  /** How often running canaries are checked for a due step, in ms. */
  TRELLIS_CANARY_TICK_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** How long a disconnected proxy's endpoint is kept before removal, in ms. */
  TRELLIS_ENDPOINT_GRACE_MS: z.coerce.number().int().min(0).default(5000),
  /** Quiet window for coalescing bursts of edits into one push, in ms. */
  TRELLIS_PUSH_DEBOUNCE_MS: z.coerce.number().int().min(0).default(10),
  /** Longest a push may be delayed by a continuing burst, in ms. */
  TRELLIS_PUSH_MAX_DELAY_MS: z.coerce.number().int().min(0).default(100),
  /** Most distinct series (reporter, kind, both sides, route) the live window keeps; past it new ones fold into an overflow series. */
  TRELLIS_TELEMETRY_MAX_SERIES: z.coerce.number().int().min(100).default(20_000),
  /** Memory budget of the live window's time slots, MiB; past it the oldest slots go early. */
  TRELLIS_TELEMETRY_MEMORY_MB: z.coerce.number().int().min(8).default(256),
  /** How long spans received on /v1/traces are kept, in hours (fractions allowed). */
  TRELLIS_TRACE_RETENTION_HOURS: z.coerce.number().positive("must be a number of hours above 0").default(24),
  /** Largest OTLP export body accepted on /v1/traces, in bytes (before and after gunzip); larger is 413. */
  TRELLIS_OTLP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(8 * 1024 * 1024),
  /**
   * Base URL of a Prometheus server that scrapes the proxies' /metrics (e.g. http://prometheus:9090);
   * when set, graph and golden-signal windows older than the live window are read from it. Unset: no history.
   */
  PROMETHEUS_URL: z.string().url("PROMETHEUS_URL must be an http(s):// URL of a Prometheus server").optional(),
  /** Longest wait for one Prometheus query, in ms. */
  TRELLIS_PROMETHEUS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** The mesh's SPIFFE trust domain: workload identities are spiffe://<trust domain>/ns/<namespace>/sa/<service>. */
  TRELLIS_TRUST_DOMAIN: z.string().regex(/^[a-z0-9._-]{1,255}$/, "TRELLIS_TRUST_DOMAIN must be lower-case letters, digits, '.', '-' or '_'").default("cluster.local"),
  /**
   * Key-encryption key of the CA's private keys: base64 of 32 random bytes (`openssl rand -base64 32`).
   * Every replica of one mesh needs the same. Unset: <data dir>/ca-kek, created on first start (one replica).
   */
  TRELLIS_CA_KEK: z.string().min(1).optional(),
  /** An operator-supplied CA certificate (root or intermediate, PEM file) to sign with instead of a generated root. */
  TRELLIS_CA_CERT_FILE: z.string().min(1).optional(),
  /** Its private key (PEM file, RSA); required with TRELLIS_CA_CERT_FILE. */
  TRELLIS_CA_KEY_FILE: z.string().min(1).optional(),
  /** For an intermediate: the certificates above it up to and including the root (PEM file). */
  TRELLIS_CA_CHAIN_FILE: z.string().min(1).optional(),
  /** Lifetime of workload certificates, hours; proxies renew at half of it. */
  TRELLIS_WORKLOAD_CERT_TTL_HOURS: z.coerce.number().positive("must be a number of hours above 0").max(24 * 90).default(24),
  /** Lifetime of a generated root, days. */
  TRELLIS_CA_ROOT_VALID_DAYS: z.coerce.number().int().min(2).default(3650),
  /**
   * The first admin's password, used only when the database has no user yet (first start);
   * unset, a random one is generated and printed once on stdout. At least 12 characters.
   */
  TRELLIS_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  /** How long a dashboard sign-in lasts, hours. */
  TRELLIS_SESSION_TTL_HOURS: z.coerce.number().positive("must be a number of hours above 0").max(24 * 30).default(12),
  /** Mark session cookies `Secure` (set when the API is served over HTTPS, e.g. behind a TLS ingress). */
  TRELLIS_COOKIE_SECURE: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /**
   * How far V8 lets the old generation grow past what the last full GC kept, in % (see heap.ts):
   * lower trades CPU for memory; 0 keeps V8's own adaptive factor (up to 300 %).
   */
  TRELLIS_HEAP_GROWTH_PERCENT: z.coerce.number().int("must be a whole number of percent").min(0).max(1000).default(DEFAULT_HEAP_GROWTH_PERCENT),
  /** debug | info | warn | error */
  TRELLIS_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
export type Env = z.infer<typeof EnvSchema>;

function checkPairs(env: Env): string[] {
  const errors: string[] = [];
  if (env.TRELLIS_CA_CERT_FILE && !env.TRELLIS_CA_KEY_FILE) errors.push("TRELLIS_CA_KEY_FILE: required with TRELLIS_CA_CERT_FILE");
  if (env.TRELLIS_CA_KEY_FILE && !env.TRELLIS_CA_CERT_FILE) errors.push("TRELLIS_CA_CERT_FILE: required with TRELLIS_CA_KEY_FILE");
  if (env.TRELLIS_CA_CHAIN_FILE && !env.TRELLIS_CA_CERT_FILE) errors.push("TRELLIS_CA_CHAIN_FILE: only meaningful with TRELLIS_CA_CERT_FILE");
  return errors;
}

/** Parses the environment; throws an error naming each bad variable. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const r = EnvSchema.safeParse(source);
  if (r.success) {
    const errors = checkPairs(r.data);
    if (errors.length === 0) return r.data;
    throw new Error(`invalid environment: ${errors.join("; ")}`);
  }
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
