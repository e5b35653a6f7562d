import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";
import type { Logger } from "../log";
import type { RetryOptions } from "./connect-retry";
import { migrate, type MigrateResult } from "./migrate";
import { PgBackend } from "./pg-backend";
import type { Row, SqlSession } from "./session";

export interface OpenDatabaseOptions {
  /** A postgres:// URL; unset → the embedded PGlite database in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Where the embedded database lives (ignored with databaseUrl). */
  dataDir: string;
  log?: Logger | undefined;
  /** Apply prisma/migrations before returning (default true). */
  migrate?: boolean;
  /** How long to wait for an unreachable PostgreSQL at start (default: retry forever). */
  retry?: Pick<RetryOptions, "attempts" | "initialDelayMs" | "maxDelayMs" | "signal">;
}

/** An open database: the Prisma client plus raw SQL for what Prisma does not do well. */
export interface Database {
  prisma: PrismaClient;
  backend: "postgres" | "pglite";
  /** `host:port` or `pglite:<dir>`: safe to log, names the database in errors. */
  target: string;
  /** One raw statement on any connection. Connection failures throw DatabaseUnavailableError. */
  sql<R extends object = Row>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs `fn` on one dedicated connection (session advisory locks, multi-statement scripts). */
  withSession<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  /** Maps a driver/Prisma connection failure to DatabaseUnavailableError; returns others unchanged. */
  mapError(err: unknown): unknown;
  /** What start-up migration did (undefined when `migrate: false`). */
  migrations: MigrateResult | undefined;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL (DATABASE_URL, through a pg Pool and @prisma/adapter-pg) or the embedded
 * PGlite database persisted in `dataDir` (through pglite-prisma-adapter), waits for it with
 * backoff, and applies pending migrations.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts);
}

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<Database> {
  const backend = new PgBackend(url, opts.log);
  return assemble("postgres", backend, opts, async () => {
    await backend.waitUntilReachable(opts.retry);
    return new PrismaPg(backend.pool);
  });
}

async function openPglite(opts: OpenDatabaseOptions): Promise<Database> {
  // Loaded only when used: PGlite's WebAssembly PostgreSQL costs ~40 MB a replica on PostgreSQL never needs.
  const [{ PgliteBackend }, { PrismaPGlite }] = await Promise.all([import("./pglite-backend"), import("pglite-prisma-adapter")]);
  const backend = await PgliteBackend.open(opts.dataDir);
  const db = await assemble("pglite", backend, opts, async () => new PrismaPGlite(backend.client));
  opts.log?.info("using the embedded database", { dataDir: backend.target.slice("pglite:".length) });
  return db;
}

/** The driver adapter Prisma is constructed with (adapter-pg or the PGlite adapter). */
type DriverAdapter = NonNullable<NonNullable<ConstructorParameters<typeof PrismaClient>[0]>["adapter"]>;

/** What both backends offer: raw SQL, dedicated sessions, a loggable target, close. */
interface SqlBackend extends Pick<Database, "target" | "withSession" | "close"> {
  query: Database["sql"];
  mapError?(err: unknown): unknown;
}

/** Waits for the backend (`connect`), applies migrations and wraps it with a Prisma client; closes it on failure. */
async function assemble(kind: Database["backend"], backend: SqlBackend, opts: OpenDatabaseOptions, connect: () => Promise<DriverAdapter>): Promise<Database> {
  try {
    const adapter = await connect();
    const migrations = opts.migrate === false ? undefined : await backend.withSession((s) => migrate(s, { log: opts.log }));
    // Prisma caches a compiled plan per query shape, 1000 by default and bounded by count only;
    // bulk writes are chunked (revisions/store.ts) so no plan is large, and 256 shapes is several
    // times what the control plane issues.
    const prisma = new PrismaClient({ adapter, queryPlanCacheMaxSize: 256 });
    return {
      prisma,
      backend: kind,
      target: backend.target,
      sql: (text, params) => backend.query(text, params),
      withSession: (fn) => backend.withSession(fn),
      mapError: (err) => (backend.mapError ? backend.mapError(err) : err),
      migrations,
      close: async () => {
        await prisma.$disconnect();
        await backend.close();
      },
    };
  } catch (err) {
    await backend.close().catch(() => {});
    throw err;
  }
}
