import type { Row } from "../db/session";

export type Sql = <R extends object = Row>(text: string, params?: readonly unknown[]) => Promise<R[]>;

/** A column of a batch upsert: its name and, when the parameter needs one, a cast (`jsonb`). */
export interface Column {
  name: string;
  cast?: string;
}

/** Rows per statement: 1000 rows × 20 columns stays well under PostgreSQL's 65535 parameters. */
const CHUNK = 1000;

/**
 * `INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE SET every other column`: one
 * statement per 1000 rows, so a reconnect storm of 2000 proxies is two round trips, not 2000.
 * `values` rows are in `columns` order. Dates are stored as UTC (see db/session.ts).
 */
export async function batchUpsert(sql: Sql, table: string, key: string, columns: readonly Column[], values: readonly unknown[][]): Promise<void> {
  const names = columns.map((c) => `"${c.name}"`).join(", ");
  const updates = columns.filter((c) => c.name !== key).map((c) => `"${c.name}" = EXCLUDED."${c.name}"`).join(", ");
  for (let start = 0; start < values.length; start += CHUNK) {
    const chunk = values.slice(start, start + CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const slots = columns.map((c, i) => {
        params.push(row[i]);
        return c.cast ? `$${params.length}::${c.cast}` : `$${params.length}`;
      });
      return `(${slots.join(", ")})`;
    });
    await sql(`INSERT INTO "${table}" (${names}) VALUES ${tuples.join(", ")} ON CONFLICT ("${key}") DO UPDATE SET ${updates}`, params);
  }
}
