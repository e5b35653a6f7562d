import pg from "pg";
import type { Logger } from "../log";
import { connectWithRetry, type RetryOptions } from "./connect-retry";
import { describeCause, mapDatabaseError } from "./errors";
import { normalizeParams, parseUtcTimestamp, type Row, type SqlSession } from "./session";

/** `host:port` of a connection string, for logs and errors; never the credentials. */
export function targetOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}`;
  } catch {
    return "<unparseable DATABASE_URL>";
  }
}

function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

const utcTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 1114 ? parseUtcTimestamp : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** A pg Pool with UTC sessions whose errors are mapped to DatabaseUnavailableError. */
export class PgBackend {
  readonly pool: pg.Pool;
  readonly target: string;
  private readonly secret: string | undefined;

  constructor(url: string, private readonly log?: Logger) {
    this.target = targetOf(url);
    this.secret = passwordOf(url);
    this.pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, options: "-c TimeZone=UTC" });
    // An idle client losing its server must not crash the process; the next query reports it.
    this.pool.on("error", (err) => this.log?.warn("idle database connection failed", { target: this.target, cause: describeCause(err, this.secret) }));
  }

  /** Waits for the server with backoff (see connectWithRetry). */
  async waitUntilReachable(opts: Omit<RetryOptions, "target" | "log" | "secret"> = {}): Promise<void> {
    await connectWithRetry(() => this.pool.query("SELECT 1"), { ...opts, target: this.target, log: this.log, secret: this.secret });
  }

  mapError(err: unknown): unknown {
    return mapDatabaseError(err, this.target, this.secret);
  }

  async query<R extends object>(text: string, params?: readonly unknown[], client: pg.Pool | pg.PoolClient = this.pool): Promise<R[]> {
    try {
      const res = await client.query<R>({ text, values: normalizeParams(params), types: utcTypes });
      return res.rows;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Runs `fn` on one pooled connection, released afterwards (destroyed if it failed). */
  async withSession<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.mapError(err);
    }
    let failure: Error | undefined;
    try {
      return await fn(this.session(client));
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(failure && this.mapError(failure) !== failure ? failure : undefined);
    }
  }

  private session(client: pg.PoolClient): SqlSession {
    const session: SqlSession = {
      query: (text, params) => this.query(text, params, client),
      exec: async (script) => void (await this.query(script, [], client)),
      transaction: async (fn) => {
        await session.exec("BEGIN");
        try {
          const result = await fn(session);
          await session.exec("COMMIT");
          return result;
        } catch (err) {
          await session.exec("ROLLBACK").catch(() => {});
          throw err;
        }
      },
    };
    return session;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
