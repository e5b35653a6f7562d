/**
 * Throw-away PostgreSQL databases for the proxy's end-to-end tests against a real control
 * plane: a uniquely named database on the shared server at 127.0.0.1:5432 (user postgres,
 * trust auth), so parallel suites never see each other's data. (A copy of the control plane's
 * own test helper: apps do not import each other's tests.)
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The shared test server; override with TRELLIS_TEST_PG_URL (a maintenance database on it). */
export const TEST_SERVER_URL = process.env.TRELLIS_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  name: string;
  /** Terminates its connections and drops it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `<prefix>_<time>_<random>`. */
export async function createTestDatabase(prefix = "trellis_proxy_test"): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      admin(async (c) => {
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
        await c.query(`DROP DATABASE IF EXISTS "${name}"`);
      }),
  };
}
