import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root: the nearest folder above this module that holds `prisma/migrations`.
 * Found by walking up so that both the TypeScript sources (apps/control/src/db) and the
 * bundle (apps/control/dist) find it, whatever the working directory.
 */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "prisma", "migrations"))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find prisma/migrations above ${from}: run the control plane from a Trellis checkout or image`);
  }
}

export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** `prisma/schema.prisma`. */
export const schemaPath = join(repoRoot, "prisma", "schema.prisma");

/** `prisma/migrations`, one folder per migration holding its `migration.sql`. */
export const migrationsDir = join(repoRoot, "prisma", "migrations");
