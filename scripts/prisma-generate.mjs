#!/usr/bin/env node
// Runs `prisma generate` for prisma/schema.prisma.
//
// The Prisma CLI insists on resolving its schema engine binary before any command, and that
// binary is downloaded from Prisma's servers, which this project's machines cannot reach.
// Generation never runs the engine, so when PRISMA_SCHEMA_ENGINE_BINARY is unset we point it
// at any existing executable. Migrations are applied by apps/control/src/db/migrate.ts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env };

if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const standIn = ["/bin/true", "/usr/bin/true", process.execPath].find((p) => existsSync(p));
  env.PRISMA_SCHEMA_ENGINE_BINARY = standIn;
}
// Nothing to download or report home about on a machine without internet.
env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";
env.CHECKPOINT_DISABLE ??= "1";

const cli = createRequire(join(root, "package.json")).resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [cli, "generate", "--schema", join(root, "prisma/schema.prisma")], {
  cwd: root,
  env,
  stdio: "inherit",
});

if (result.error) {
  console.error(`prisma generate could not start: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error(`prisma generate failed (exit ${result.status ?? result.signal}); see the output above.`);
  process.exit(result.status || 1);
}
