/** A row from a raw query: column name → value (timestamps as Date, JSONB parsed). */
export type Row = Record<string, unknown>;

/** Raw SQL on one connection: what migrations and batch writes need beyond Prisma. */
export interface SqlSession {
  /** One statement with `$1…` parameters. Date parameters are sent as UTC. */
  query<R extends object = Row>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements, no parameters (a migration.sql file). */
  exec(script: string): Promise<void>;
  /** Runs `fn` in BEGIN … COMMIT on this connection; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
}

const TIMESTAMP_OID = 1114;

/**
 * `TIMESTAMP(3)` columns hold UTC wall-clock time (Prisma's convention); read them as UTC
 * whatever the process's time zone is.
 */
export function parseUtcTimestamp(value: string): Date {
  return new Date(`${value.replace(" ", "T")}Z`);
}
export const UTC_TIMESTAMP_PARSERS = { [TIMESTAMP_OID]: parseUtcTimestamp };

/**
 * Dates become ISO strings ending in `Z`; cast to a `timestamp` column Postgres drops the
 * zone and keeps the UTC wall-clock time, matching what Prisma writes.
 */
export function normalizeParams(params: readonly unknown[] = []): unknown[] {
  return params.map((p) => (p instanceof Date ? p.toISOString() : p));
}
