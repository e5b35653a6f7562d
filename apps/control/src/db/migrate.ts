import { randomUUID } from "node:crypto";
import type { Logger } from "../log";
import { MigrationError } from "./errors";
import { readMigrations } from "./migration-files";
import type { SqlSession } from "./session";

/**
 * Applies prisma/migrations at start-up, the way `prisma migrate deploy` would, on either
 * backend (Prisma's schema engine cannot run here). Each migration runs in one transaction
 * together with its `_prisma_migrations` row, so a failed one leaves nothing half-applied.
 * Replicas starting together on one PostgreSQL serialise on the advisory lock Prisma Migrate
 * itself takes, so a migration is never applied twice, not even alongside `prisma migrate`.
 */

/** Prisma Migrate's advisory lock key (schema-engine's postgres flavour). */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** `_prisma_migrations` exactly as Prisma's schema engine creates it on PostgreSQL. */
export const MIGRATIONS_TABLE_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

interface HistoryRow extends Record<string, unknown> {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export interface MigrateResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Names that were already applied. */
  alreadyApplied: string[];
}

/** Brings the database up to date with prisma/migrations; idempotent. Throws MigrationError on a mismatch. */
export async function migrate(session: SqlSession, opts: { log?: Logger | undefined; dir?: string } = {}): Promise<MigrateResult> {
  const files = readMigrations(opts.dir);
  await session.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    const [{ exists } = { exists: false }] = await session.query<{ exists: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists");
    if (!exists) await session.exec(MIGRATIONS_TABLE_DDL);
    const history = await session.query<HistoryRow>(
      "SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at",
    );
    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    const failed = history.find((h) => h.finished_at === null && h.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and is recorded as unfinished in _prisma_migrations; ` +
          `fix the database, then mark it with \`prisma migrate resolve --rolled-back ${failed.migration_name}\` (or --applied)`,
      );
    }
    const done = new Map(history.filter((h) => h.finished_at !== null && h.rolled_back_at === null).map((h) => [h.migration_name, h]));
    for (const file of files) {
      const row = done.get(file.name);
      if (row) {
        if (row.checksum !== file.checksum) {
          throw new MigrationError(
            `migration ${file.name} was modified after it was applied: the database recorded checksum ${row.checksum}, ` +
              `prisma/migrations/${file.name}/migration.sql now hashes to ${file.checksum}; restore the file and put the change in a new migration`,
          );
        }
        result.alreadyApplied.push(file.name);
        continue;
      }
      await applyOne(session, file.name, file.script, file.checksum);
      opts.log?.info("applied migration", { migration: file.name });
      result.applied.push(file.name);
    }
    const unknown = [...done.keys()].filter((name) => !files.some((f) => f.name === name));
    if (unknown.length) opts.log?.warn("database has migrations this build does not know (a newer replica ran them?)", { migrations: unknown });
    return result;
  } finally {
    await session.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]).catch(() => {});
  }
}

async function applyOne(session: SqlSession, name: string, script: string, checksum: string): Promise<void> {
  const id = randomUUID();
  try {
    await session.transaction(async (tx) => {
      await tx.query(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)",
        [id, checksum, name],
      );
      await tx.exec(script);
      await tx.query("UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = $1", [id]);
    });
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    // The transaction rolled the script back: record it as Prisma records a rolled-back
    // migration (retried on the next start), with the error in `logs` for `migrate status`.
    await session
      .query(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), now(), 0)",
        [id, checksum, name, cause],
      )
      .catch(() => {});
    throw new MigrationError(`migration ${name} failed and was rolled back: ${cause}`);
  }
}
