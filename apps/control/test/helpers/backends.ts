/**
 * Runs one suite against both databases the control plane supports: a fresh database on
 * the real PostgreSQL server and a fresh PGlite directory. Each suite gets its own database
 * (opened and migrated in `before`, dropped in `after`); `reset()` empties the tables so
 * tests in a suite start from nothing without paying for a new database each.
 */
import { after, before, describe } from "node:test";
import { openDatabase, type Database, type OpenDatabaseOptions } from "../../src/db/open-database";
import { createTestDatabase, tempDataDir } from "./pg";

export const BACKENDS = ["postgres", "pglite"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface TestDatabaseHandle {
  db: Database;
  /** The PostgreSQL URL or the PGlite directory, to open it again (e.g. a second replica). */
  location: { databaseUrl?: string; dataDir: string };
  /** Closes and deletes the database. */
  destroy(): Promise<void>;
}

/** A new, migrated database on `backend`. */
export async function openTestDatabase(backend: BackendName, opts: Partial<OpenDatabaseOptions> = {}): Promise<TestDatabaseHandle> {
  if (backend === "postgres") {
    const pg = await createTestDatabase();
    const location = { databaseUrl: pg.url, dataDir: "" };
    const db = await openDatabase({ ...opts, ...location }).catch(async (err) => {
      await pg.drop();
      throw err;
    });
    return { db, location, destroy: async () => void (await db.close(), await pg.drop()) };
  }
  const dir = await tempDataDir();
  const location = { dataDir: dir.path };
  const db = await openDatabase({ ...opts, ...location });
  return { db, location, destroy: async () => void (await db.close(), await dir.remove()) };
}

export class BackendContext {
  private handle: TestDatabaseHandle | undefined;
  constructor(readonly backend: BackendName) {}

  get db(): Database {
    if (!this.handle) throw new Error("the database is opened in before(); use ctx.db inside tests and hooks");
    return this.handle.db;
  }

  get location(): TestDatabaseHandle["location"] {
    return this.handle!.location;
  }

  async open(): Promise<void> {
    this.handle = await openTestDatabase(this.backend);
  }

  async destroy(): Promise<void> {
    await this.handle?.destroy();
    this.handle = undefined;
  }

  /** Empties every application table (the migration history stays). */
  async reset(): Promise<void> {
    await this.db.sql("TRUNCATE resources, revisions, endpoints, proxy_statuses RESTART IDENTITY");
  }
}

/** `describe(title [backend])` once per backend, with the database opened around it. */
export function describeEachBackend(title: string, body: (ctx: BackendContext) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      const ctx = new BackendContext(backend);
      before(() => ctx.open());
      after(() => ctx.destroy());
      body(ctx);
    });
  }
}
