import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { lockDataDir } from "./data-dir-lock";
import { DatabaseUnavailableError, describeCause } from "./errors";
import { normalizeParams, UTC_TIMESTAMP_PARSERS, type Row, type SqlSession } from "./session";

type Queryable = Pick<PGlite | Transaction, "query" | "exec">;

/**
 * The embedded database: PGlite (Postgres compiled to wasm) persisted in a directory, so the
 * demo needs no server. One PGlite instance is one connection; it serialises queries and
 * transactions itself. Two processes must never open the same directory.
 */
export class PgliteBackend {
  readonly target: string;

  private constructor(
    readonly client: PGlite,
    dataDir: string,
    private readonly unlock: () => void,
  ) {
    this.target = `pglite:${dataDir}`;
  }

  static async open(dataDir: string): Promise<PgliteBackend> {
    const dir = resolve(dataDir);
    await mkdir(dir, { recursive: true });
    const unlock = lockDataDir(dir);
    let client: PGlite;
    try {
      client = await PGlite.create(dir);
      await client.exec("SET TIME ZONE 'UTC'");
    } catch (err) {
      unlock();
      throw new DatabaseUnavailableError(`pglite:${dir}`, `cannot open the embedded database: ${describeCause(err)}`);
    }
    return new PgliteBackend(client, dir, unlock);
  }

  async query<R extends object>(text: string, params?: readonly unknown[], on: Queryable = this.client): Promise<R[]> {
    const res = await on.query<R>(text, normalizeParams(params), { parsers: UTC_TIMESTAMP_PARSERS });
    return res.rows;
  }

  /** PGlite has one connection: the session is the database itself. */
  async withSession<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    return fn(this.session(this.client));
  }

  private session(on: Queryable): SqlSession {
    return {
      query: (text, params) => this.query(text, params, on),
      exec: async (script) => void (await on.exec(script)),
      transaction: (fn) => this.client.transaction((tx) => fn(this.session(tx))),
    };
  }

  async close(): Promise<void> {
    try {
      if (!this.client.closed) await this.client.close();
    } finally {
      this.unlock();
    }
  }
}
