/**
 * Describes the live database's application schema (everything in the current schema but
 * `_prisma_migrations`) from pg_catalog, in the same lines expected-schema.ts writes.
 */
import type { Row } from "../../src/db/session";

type Sql = <R extends object = Row>(text: string, params?: readonly unknown[]) => Promise<R[]>;

const EXCLUDED = "'_prisma_migrations'";

export async function introspectSchema(sql: Sql): Promise<string[]> {
  const lines: string[] = [];
  const tables = await sql<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> ${EXCLUDED}`,
  );
  for (const t of tables) lines.push(`table ${t.table}`);

  const columns = await sql<{ table: string; column: string; type: string; notnull: boolean; def: string | null }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> ${EXCLUDED}
       AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  for (const c of columns) {
    lines.push(`column ${c.table}.${c.column} ${c.type}${c.notnull ? " not null" : " null"}${c.def === null ? "" : ` default ${c.def}`}`);
  }

  const indexes = await sql<{ table: string; name: string; primary: boolean; unique: boolean; columns: string; partial: boolean; method: string }>(
    `SELECT t.relname AS table, i.relname AS name, x.indisprimary AS primary, x.indisunique AS unique,
            x.indpred IS NOT NULL AS partial, am.amname AS method,
            (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
     WHERE n.nspname = current_schema() AND t.relname <> ${EXCLUDED}`,
  );
  for (const ix of indexes) {
    const what = ix.primary ? "primary key" : ix.unique ? "unique index" : "index";
    const extra = (ix.partial ? " (partial)" : "") + (ix.method === "btree" ? "" : ` using ${ix.method}`);
    lines.push(`${what} ${ix.name} ${ix.table}(${ix.columns})${extra}`);
  }

  const fks = await sql<{ name: string; table: string; columns: string; target: string; target_columns: string }>(
    `SELECT con.conname AS name, t.relname AS table, r.relname AS target,
            (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
            (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS target_columns
     FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype = 'f' AND n.nspname = current_schema()`,
  );
  for (const fk of fks) lines.push(`foreign key ${fk.name} ${fk.table}(${fk.columns}) -> ${fk.target}(${fk.target_columns})`);

  const enums = await sql<{ name: string; labels: string }>(
    `SELECT t.typname AS name, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS labels
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = current_schema() GROUP BY t.typname`,
  );
  for (const e of enums) lines.push(`enum ${e.name} (${e.labels})`);

  // Constraints other than primary keys and foreign keys: Prisma creates none (uniques are
  // indexes). PostgreSQL 18 (PGlite 0.5) also lists NOT NULL as constraints ('n'): attnotnull covers them.
  const others = await sql<{ name: string; table: string; type: string }>(
    `SELECT con.conname AS name, t.relname AS table, con.contype AS type
     FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype NOT IN ('p', 'f', 'n') AND n.nspname = current_schema() AND t.relname <> ${EXCLUDED}`,
  );
  for (const c of others) lines.push(`constraint ${c.name} on ${c.table} (type ${c.type}, not made by Prisma)`);
  return lines.sort();
}
