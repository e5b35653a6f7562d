import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MigrationError } from "./errors";
import { migrationsDir } from "./paths";

/** One `prisma/migrations/<name>/migration.sql`. */
export interface MigrationFile {
  /** The folder name, e.g. `20251121130000_init`; what `_prisma_migrations.migration_name` records. */
  name: string;
  script: string;
  /** sha256 of the file's bytes, hex: Prisma's checksum, so `prisma migrate status` agrees. */
  checksum: string;
}

/** The migrations in `dir`, in the order Prisma applies them (by folder name). */
export function readMigrations(dir: string = migrationsDir): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder not found: ${dir}`);
  const lock = join(dir, "migration_lock.toml");
  if (existsSync(lock) && !/provider\s*=\s*"postgresql"/.test(readFileSync(lock, "utf8"))) {
    throw new MigrationError(`${lock} names a provider other than "postgresql"; these migrations are not for this database`);
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name, "migration.sql"));
      return { name, script: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    });
}
