/**
 * SQL of the warehouse target: column types, table DDL and catalog look-ups. Every identifier is
 * quoted (hostile names: spaces, unicode, reserved words, leading digits) and shortened to
 * PostgreSQL's 63 bytes with {@link pgIdentifier}, so long names stay unique instead of truncating.
 */
import type pg from 'pg';
import { pgIdentifier, quoteIdent } from '../../naming.js';
import { type Column, isDecimal } from '../../types.js';

/** Anything that runs a query: the pool or a checked-out client. */
export type Queryable = pg.Pool | pg.PoolClient;

/** PostgreSQL's maximum numeric precision; wider decimals use unconstrained `numeric`. */
const MAX_NUMERIC_PRECISION = 1000;

/**
 * The PostgreSQL type of a column: its `warehouseType` when set, else derived from the logical type
 * (`int64` → `bigint`, `decimal(38,10)` → `numeric(38,10)`, `json` → `jsonb`, …).
 */
export function columnSqlType(c: Column): string {
  if (c.warehouseType) return c.warehouseType;
  const t = c.type;
  if (isDecimal(t)) {
    const [p, s] = t.decimal;
    return p >= 1 && p <= MAX_NUMERIC_PRECISION && s >= 0 && s <= p ? `numeric(${p},${s})` : 'numeric';
  }
  switch (t) {
    case 'string':
      return 'text';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float64':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'timestamp':
      return 'timestamp';
    case 'timestamptz':
      return 'timestamptz';
    case 'bytes':
      return 'bytea';
    case 'json':
      return 'jsonb';
    case 'uuid':
      return 'uuid';
    default:
      return 'text';
  }
}

/** The column's name in the warehouse (the source name, shortened to 63 bytes when longer). */
export function columnIdent(c: Column): string {
  return pgIdentifier(c.name);
}

/** `"schema"."table"` */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** `schema.table` for reports and messages, quoting only the parts that need it. */
export function displayName(schema: string, table: string): string {
  const part = (n: string): string => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : quoteIdent(n));
  return `${part(schema)}.${part(table)}`;
}

/** `CREATE TABLE` for the columns, in order. */
export function createTableSql(schema: string, table: string, columns: readonly Column[]): string {
  const cols = columns.map((c) => `${quoteIdent(columnIdent(c))} ${columnSqlType(c)}`).join(', ');
  return `CREATE TABLE ${qualified(schema, table)} (${cols})`;
}

/** One `ALTER TABLE … ADD COLUMN IF NOT EXISTS …` for all the columns. */
export function addColumnsSql(schema: string, table: string, columns: readonly Column[]): string {
  const adds = columns.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(columnIdent(c))} ${columnSqlType(c)}`).join(', ');
  return `ALTER TABLE ${qualified(schema, table)} ${adds}`;
}

/** `COPY "schema"."table" ("a", "b") FROM STDIN`, in text format or `(FORMAT binary)`. */
export function copySql(schema: string, table: string, columns: readonly Column[], binary = false): string {
  return `COPY ${qualified(schema, table)} (${columns.map((c) => quoteIdent(columnIdent(c))).join(', ')}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`;
}

/** The column names of a table, in order, or `undefined` when it does not exist. */
export async function tableColumns(q: Queryable, schema: string, table: string): Promise<string[] | undefined> {
  const r = await q.query<{ attname: string | null }>(
    `SELECT a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [schema, table],
  );
  if (!r.rows.length) return undefined;
  return r.rows.flatMap((x) => (x.attname === null ? [] : [x.attname]));
}

/** Add the columns a table lacks (a source column that appeared since the table was made). */
export async function addMissingColumns(q: Queryable, schema: string, table: string, existing: readonly string[], columns: readonly Column[]): Promise<string[]> {
  const have = new Set(existing);
  const missing = columns.filter((c) => !have.has(columnIdent(c)));
  if (missing.length) await q.query(addColumnsSql(schema, table, missing));
  return missing.map((c) => c.name);
}

/** True when the schema exists. */
export async function schemaExists(q: Queryable, schema: string): Promise<boolean> {
  const r = await q.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return r.rows.length > 0;
}
