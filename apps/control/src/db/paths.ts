import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's location so the working directory never matters. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** `prisma/schema.prisma`. */
export const schemaPath = join(repoRoot, "prisma", "schema.prisma");

/** `prisma/migrations`, one folder per migration holding its `migration.sql`. */
export const migrationsDir = join(repoRoot, "prisma", "migrations");
