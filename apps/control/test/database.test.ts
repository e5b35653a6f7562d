import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDatabase } from "../src/db/open-database";
import { DatabaseUnavailableError, MigrationError } from "../src/db/errors";
import { migrate } from "../src/db/migrate";
import { readMigrations } from "../src/db/migration-files";
import { migrationsDir } from "../src/db/paths";
import { createLogger } from "../src/log";
import { ResourceStore } from "../src/revisions/store";
import { BACKENDS, openTestDatabase, type TestDatabaseHandle } from "./helpers/backends";
import { baseMesh } from "./helpers/mesh-fixtures";
import { createTestDatabase, tempDataDir } from "./helpers/pg";
import { TcpForwarder } from "./helpers/tcp-forwarder";

const who = { author: "t", message: "t" };

function captureLog() {
  const lines: string[] = [];
  return { lines, log: createLogger("debug", {}, (l) => lines.push(l)) };
}

for (const backend of BACKENDS) {
  describe(`start-up migrations [${backend}]`, () => {
    let handle: TestDatabaseHandle;
    before(async () => void (handle = await openTestDatabase(backend)));
    after(() => handle.destroy());

    it("records each migration in _prisma_migrations as Prisma does, and is idempotent", async () => {
      const files = readMigrations();
      assert.ok(files.length >= 1);
      assert.deepEqual(handle.db.migrations?.applied, files.map((f) => f.name));
      const rows = await handle.db.sql<{ id: string; checksum: string; migration_name: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number; logs: string | null }>(
        "SELECT * FROM _prisma_migrations ORDER BY migration_name",
      );
      assert.deepEqual(rows.map((r) => r.migration_name), files.map((f) => f.name));
      for (const [i, row] of rows.entries()) {
        const sha = createHash("sha256").update(await readFile(join(migrationsDir, files[i]!.name, "migration.sql"))).digest("hex");
        assert.equal(row.checksum, sha);
        assert.match(row.id, /^[0-9a-f-]{36}$/);
        assert.ok(row.finished_at instanceof Date);
        assert.deepEqual([row.rolled_back_at, row.applied_steps_count, row.logs], [null, 1, null]);
      }
      const columns = await handle.db.sql<{ column_name: string; type: string; is_nullable: string }>(
        `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type, c.is_nullable
         FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = '_prisma_migrations'::regclass AND a.attname = c.column_name
         WHERE c.table_name = '_prisma_migrations' ORDER BY c.ordinal_position`,
      );
      assert.deepEqual(columns.map((c) => `${c.column_name} ${c.type} ${c.is_nullable}`), [
        "id character varying(36) NO",
        "checksum character varying(64) NO",
        "finished_at timestamp with time zone YES",
        "migration_name character varying(255) NO",
        "logs text YES",
        "rolled_back_at timestamp with time zone YES",
        "started_at timestamp with time zone NO",
        "applied_steps_count integer NO",
      ]);
      const again = await handle.db.withSession((s) => migrate(s));
      assert.deepEqual(again, { applied: [], alreadyApplied: files.map((f) => f.name) });
      assert.equal((await handle.db.sql("SELECT 1 FROM _prisma_migrations")).length, files.length);
    });

    it("rolls a failing migration back whole, records it as rolled back, and applies it once fixed", async () => {
      const dir = await tempDataDir("trellis-migrations-");
      try {
        await cp(migrationsDir, dir.path, { recursive: true });
        await mkdir(join(dir.path, "29990101000000_broken"));
        await writeFile(join(dir.path, "29990101000000_broken", "migration.sql"), 'CREATE TABLE "half" ("id" INTEGER);\nSELECT no_such_function();\n');
        await assert.rejects(handle.db.withSession((s) => migrate(s, { dir: dir.path })), (e: unknown) => e instanceof MigrationError && /29990101000000_broken failed and was rolled back/.test(e.message));
        assert.deepEqual(await handle.db.sql("SELECT to_regclass('half') AS t"), [{ t: null }], "nothing half-applied");
        const [row] = await handle.db.sql<{ rolled_back_at: Date | null; finished_at: Date | null; logs: string }>("SELECT * FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'");
        assert.ok(row?.rolled_back_at instanceof Date && row.finished_at === null && /no_such_function/.test(row.logs));
        await writeFile(join(dir.path, "29990101000000_broken", "migration.sql"), 'CREATE TABLE "half" ("id" INTEGER);\n');
        assert.deepEqual((await handle.db.withSession((s) => migrate(s, { dir: dir.path }))).applied, ["29990101000000_broken"]);
        await handle.db.sql('DROP TABLE "half"');
        await handle.db.sql("DELETE FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'");
      } finally {
        await dir.remove();
      }
    });

    it("refuses to start when an applied migration's file was modified", async () => {
      const [first] = readMigrations();
      const [{ checksum } = { checksum: "" }] = await handle.db.sql<{ checksum: string }>("SELECT checksum FROM _prisma_migrations WHERE migration_name = $1", [first!.name]);
      await handle.db.sql("UPDATE _prisma_migrations SET checksum = $1 WHERE migration_name = $2", ["0".repeat(64), first!.name]);
      try {
        await assert.rejects(handle.db.withSession((s) => migrate(s)), (e: unknown) => {
          assert.ok(e instanceof MigrationError);
          assert.equal(e.code, "TRELLIS_MIGRATION_FAILED");
          assert.match(e.message, new RegExp(`migration ${first!.name} was modified after it was applied`));
          return true;
        });
      } finally {
        await handle.db.sql("UPDATE _prisma_migrations SET checksum = $1 WHERE migration_name = $2", [checksum, first!.name]);
      }
    });
  });
}

describe("PostgreSQL start-up", () => {
  it("applies migrations once when several replicas start together", async () => {
    const pg = await createTestDatabase();
    try {
      const dbs = await Promise.all([1, 2, 3].map(() => openDatabase({ databaseUrl: pg.url, dataDir: "" })));
      assert.deepEqual(dbs.map((d) => d.migrations!.applied.length).sort(), [0, 0, readMigrations().length]);
      assert.equal((await dbs[0]!.sql("SELECT 1 FROM _prisma_migrations")).length, readMigrations().length);
      await Promise.all(dbs.map((d) => d.close()));
    } finally {
      await pg.drop();
    }
  });

  it("retries an unreachable server with backoff, logging where and why but never the password", async () => {
    const { lines, log } = captureLog();
    const url = "postgres://postgres:s3cret-pw@127.0.0.1:1/trellis";
    await assert.rejects(openDatabase({ databaseUrl: url, dataDir: "", log, retry: { attempts: 4, initialDelayMs: 10 } }), (e: unknown) => {
      assert.ok(e instanceof DatabaseUnavailableError);
      assert.equal(e.code, "TRELLIS_DATABASE_UNAVAILABLE");
      assert.match(e.message, /^database unreachable at 127\.0\.0\.1:1: .*ECONNREFUSED/);
      return true;
    });
    const messages = lines.map((l) => JSON.parse(l).msg as string);
    assert.match(messages[0]!, /^database unreachable at 127\.0\.0\.1:1: .*ECONNREFUSED.*; retrying in 0\.01s$/);
    assert.match(messages[1]!, /retrying in 0\.02s$/);
    assert.match(messages[2]!, /retrying in 0\.04s$/);
    assert.ok(!lines.join("\n").includes("s3cret-pw"), lines.join("\n"));
  });

  it("waits for a server that comes up late", async () => {
    const pg = await createTestDatabase();
    const fwd = new TcpForwarder("127.0.0.1", 5432);
    await fwd.up();
    const { port } = fwd.address;
    await fwd.down();
    try {
      const { lines, log } = captureLog();
      const url = new URL(pg.url);
      url.port = String(port);
      const opening = openDatabase({ databaseUrl: url.toString(), dataDir: "", log, retry: { initialDelayMs: 50, maxDelayMs: 100 } });
      await new Promise((r) => setTimeout(r, 300));
      await fwd.up();
      const db = await opening;
      assert.ok(lines.some((l) => l.includes(`database unreachable at 127.0.0.1:${port}`)));
      await db.close();
    } finally {
      await fwd.down();
      await pg.drop();
    }
  });

  it("maps a connection lost mid-operation to DatabaseUnavailableError and recovers", async () => {
    const pg = await createTestDatabase();
    const fwd = new TcpForwarder("127.0.0.1", 5432);
    await fwd.up();
    const url = new URL(pg.url);
    url.port = String(fwd.address.port);
    const db = await openDatabase({ databaseUrl: url.toString(), dataDir: "" });
    try {
      const store = new ResourceStore(db);
      await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
      await fwd.down();
      const unavailable = (e: unknown) => e instanceof DatabaseUnavailableError && e.message.startsWith(`database unreachable at 127.0.0.1:${fwd.address.port}`);
      await assert.rejects(store.head(), unavailable);
      await assert.rejects(store.apply({ upserts: [], deletes: ["Route/shop/reviews"], baseRevision: 1, ...who }), unavailable);
      await assert.rejects(db.sql("SELECT 1"), unavailable);
      await fwd.up();
      assert.equal(await store.head(), 1);
    } finally {
      await db.close();
      await fwd.down();
      await pg.drop();
    }
  });
});

describe("embedded PGlite", () => {
  it("keeps its data in dataDir across close and reopen", async () => {
    const dir = await tempDataDir();
    try {
      const first = await openDatabase({ dataDir: join(dir.path, "nested", "db") });
      await new ResourceStore(first).apply({ upserts: baseMesh(), baseRevision: 0, ...who });
      await first.close();
      const second = await openDatabase({ dataDir: join(dir.path, "nested", "db") });
      const store = new ResourceStore(second);
      assert.equal(second.backend, "pglite");
      assert.deepEqual(second.migrations?.applied, []);
      assert.equal(await store.head(), 1);
      assert.equal((await store.list()).length, 3);
      await second.close();
    } finally {
      await dir.remove();
    }
  });

  it("refuses a directory another instance has open, and takes over a dead owner's lock", async () => {
    const dir = await tempDataDir();
    try {
      const first = await openDatabase({ dataDir: dir.path });
      await assert.rejects(openDatabase({ dataDir: dir.path }), (e: unknown) => e instanceof DatabaseUnavailableError && /in use by this process/.test(e.message));
      await first.close();
      await writeFile(join(dir.path, "trellis.lock"), "2147483646"); // a pid no process has
      const again = await openDatabase({ dataDir: dir.path });
      assert.equal(await readFile(join(dir.path, "trellis.lock"), "utf8"), String(process.pid));
      await again.close();
    } finally {
      await dir.remove();
    }
  });
});
