// Prisma 7 reads its configuration here (the schema no longer carries the datasource URL).
// The control plane itself never uses this file: it opens the database through a driver
// adapter (apps/control/src/db/open-database.ts) and applies migrations itself (migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Only migrate/introspection commands need a URL; `prisma generate` runs without one.
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
