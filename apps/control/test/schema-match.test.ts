/**
 * The hand-written migrations in prisma/migrations must build exactly the schema that
 * prisma/schema.prisma describes (the schema engine that would check this cannot run here).
 * Expected: Prisma's own datamodel (DMMF from the prisma-schema wasm in the CLI package).
 * Actual: a freshly migrated database on each backend, read from pg_catalog.
 */
import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { schemaPath } from "../src/db/paths";
import { BACKENDS, openTestDatabase, type TestDatabaseHandle } from "./helpers/backends";
import { expectedSchema } from "./helpers/expected-schema";
import { introspectSchema } from "./helpers/introspect-schema";
import { tempDataDir } from "./helpers/pg";
import { getDatamodel } from "./helpers/prisma-dmmf";

/** Lines in one list but not the other, for a failure message a person can act on. */
function mismatch(expected: string[], actual: string[]): string {
  const missing = expected.filter((l) => !actual.includes(l));
  const extra = actual.filter((l) => !expected.includes(l));
  return [
    "the migrated database does not match prisma/schema.prisma; add a migration under prisma/migrations/<timestamp>_<name>/migration.sql",
    ...missing.map((l) => `  schema.prisma has, database lacks: ${l}`),
    ...extra.map((l) => `  database has, schema.prisma lacks: ${l}`),
  ].join("\n");
}

for (const backend of BACKENDS) {
  describe(`migrations match schema.prisma [${backend}]`, () => {
    let handle: TestDatabaseHandle;
    before(async () => void (handle = await openTestDatabase(backend)));
    after(() => handle.destroy());

    it("builds every table, column, type, nullability, default, key and index of schema.prisma", async () => {
      const expected = expectedSchema(getDatamodel(schemaPath));
      const actual = await introspectSchema(handle.db.sql);
      assert.ok(expected.some((l) => l.startsWith("unique index")) && expected.some((l) => l.startsWith("index ")), "the comparison covers indexes");
      assert.deepEqual(actual, expected, mismatch(expected, actual));
    });

    it("notices a field added to schema.prisma without a migration", async () => {
      const dir = await tempDataDir("trellis-schema-");
      try {
        const edited = join(dir.path, "schema.prisma");
        await copyFile(schemaPath, edited);
        const text = await readFile(edited, "utf8");
        await writeFile(edited, text.replace(/model Endpoint \{/, "model Endpoint {\n  zone String?"));
        const expected = expectedSchema(getDatamodel(edited));
        const actual = await introspectSchema(handle.db.sql);
        assert.notDeepEqual(actual, expected);
        assert.match(mismatch(expected, actual), /schema.prisma has, database lacks: column endpoints\.zone text null/);
      } finally {
        await dir.remove();
      }
    });
  });
}
