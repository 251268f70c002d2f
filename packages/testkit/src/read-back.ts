/**
 * Independent readers of bronze output for tests: Parquet through DuckDB (what analysts point at the
 * stream directory), the warehouse through `pg` (what SQL users query). Neither uses core's writers,
 * decoders or value formatting, so a test that compares their output with a golden file checks what a
 * reader of bronze really sees.
 *
 * Values come back in one *canonical* form, comparable across both targets and with the golden files
 * (`kits/<source>/test/fixtures/expected/<stream>.jsonl`):
 *
 * | bronze type                    | canonical value                                                     |
 * |--------------------------------|---------------------------------------------------------------------|
 * | string, json, uuid, other text | the string (uuid lower-case)                                        |
 * | int32                          | number                                                              |
 * | int64                          | decimal digits as a string (`"9007199254740993"`)                   |
 * | float64                        | number; `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"` as strings     |
 * | boolean                        | boolean                                                             |
 * | decimal                        | exact string at the column's scale (`"12.3400"`)                    |
 * | date                           | `2024-02-29`, `0044-03-15 BC`, `infinity`, `-infinity`              |
 * | time                           | `13:45:07.123456` (fraction without trailing zeros)                 |
 * | timestamp                      | `2024-01-02 03:04:05.123456` (` BC` suffix, `±infinity`)             |
 * | timestamptz                    | `2024-01-02 01:04:05.123456+00` (always UTC)                         |
 * | bytes                          | `\x00ff` (lower-case hex)                                           |
 *
 * These are PostgreSQL's ISO output forms, so warehouse values are read as `::text` under fixed
 * session settings and DuckDB values are formatted here from their raw days/microseconds.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** A value in the canonical form described in this module's header. */
export type Canonical = string | number | boolean | null;
/** A row keyed by column name. */
export type CanonicalRow = Record<string, Canonical>;

/** What a reader saw: the columns (with the reader's own type names) and the rows. */
export interface ReadBack {
  columns: { name: string; type: string }[];
  rows: CanonicalRow[];
}

// ---------------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, integer-only; H. Hinnant's civil_from_days), independent of core.

const US_PER_DAY = 86_400_000_000n;

function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');

/** `[ymd, bc]` of days since 1970-01-01, PostgreSQL style (year 0 is 1 BC). */
function ymd(days: number): [string, boolean] {
  const [y, m, d] = civil(days);
  return y <= 0 ? [`${pad(1 - y, 4)}-${pad(m)}-${pad(d)}`, true] : [`${pad(y, 4)}-${pad(m)}-${pad(d)}`, false];
}

/** Canonical `date` from days since epoch (DuckDB's ±infinity: ±(2^31-1)). */
export function canonicalDate(days: number, infinite?: 'infinity' | '-infinity'): string {
  if (infinite) return infinite;
  const [s, bc] = ymd(days);
  return bc ? `${s} BC` : s;
}

/** Canonical `time` from microseconds since midnight. */
export function canonicalTime(us: bigint): string {
  const secs = us / 1_000_000n;
  const frac = us % 1_000_000n;
  const f = frac === 0n ? '' : `.${pad(frac, 6)}`.replace(/0+$/, '');
  return `${pad(secs / 3600n)}:${pad((secs / 60n) % 60n)}:${pad(secs % 60n)}${f}`;
}

/** Canonical `timestamp` / `timestamptz` from microseconds since 1970-01-01 (UTC for tz). */
export function canonicalTimestamp(us: bigint, withZone: boolean, infinite?: 'infinity' | '-infinity'): string {
  if (infinite) return infinite;
  let days = us / US_PER_DAY;
  let rest = us % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  const [date, bc] = ymd(Number(days));
  return `${date} ${canonicalTime(rest)}${withZone ? '+00' : ''}${bc ? ' BC' : ''}`;
}

/** Canonical `float64`. */
export function canonicalFloat(n: number): Canonical {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return n;
}

/** Canonical exact decimal of an unscaled integer. */
export function canonicalDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

/** Canonical bytes: `\x` + lower-case hex. */
export function canonicalBytes(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Parquet through DuckDB

type DuckValue = unknown;

/** Canonical value of one DuckDB value of a column typed `type` (DuckDB's type name). */
function fromDuck(v: DuckValue, type: string): Canonical {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return /^(DOUBLE|FLOAT|REAL)$/.test(type) ? canonicalFloat(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  const o = v as Record<string, unknown> & { constructor: { name: string } };
  switch (o.constructor.name) {
    case 'DuckDBDateValue': {
      const days = o.days as number;
      const fin = (o as unknown as { isFinite: boolean }).isFinite;
      return canonicalDate(days, fin ? undefined : days > 0 ? 'infinity' : '-infinity');
    }
    case 'DuckDBTimeValue':
      return canonicalTime(o.micros as bigint);
    case 'DuckDBTimestampValue':
    case 'DuckDBTimestampTZValue': {
      const us = o.micros as bigint;
      const fin = (o as unknown as { isFinite: boolean }).isFinite;
      return canonicalTimestamp(us, o.constructor.name === 'DuckDBTimestampTZValue', fin ? undefined : us > 0n ? 'infinity' : '-infinity');
    }
    case 'DuckDBDecimalValue':
      return canonicalDecimal(o.value as bigint, o.scale as number);
    case 'DuckDBBlobValue':
      return canonicalBytes(o.bytes as Uint8Array);
    case 'DuckDBUUIDValue':
      return String(v);
    default:
      throw new Error(`read-back: no canonical form for DuckDB ${type} value ${String(v)}`);
  }
}

/** Parquet files a reader of the directory sees: `*.parquet`, not under `_`/`.`-prefixed names. */
export function visibleParquetFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(p).isDirectory());
      if (isDir) walk(p);
      else if (e.name.endsWith('.parquet')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const duckIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * Read a bronze Parquet stream directory (`<root>/<source>/<stream>/`) with DuckDB, as an analyst
 * would: every visible `*.parquet` below it, columns united by name (schema evolution).
 *
 * @example
 * const { rows } = await readParquet('/data/bronze/postgres/orders', { columns: ['id'] });
 */
export async function readParquet(dir: string, opts: { columns?: string[] } = {}): Promise<ReadBack> {
  const files = visibleParquetFiles(dir);
  if (!files.length) return { columns: [], rows: [] };
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const select = opts.columns ? opts.columns.map(duckIdent).join(', ') : '*';
    const reader = await conn.runAndReadAll(`SELECT ${select} FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`);
    const names = reader.columnNames();
    const types = reader.columnTypes().map(String);
    const rows = reader.getRows().map((r) => {
      const row: CanonicalRow = {};
      names.forEach((n, i) => (row[n] = fromDuck(r[i], types[i]!)));
      return row;
    });
    return { columns: names.map((name, i) => ({ name, type: types[i]! })), rows };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Rows in Parquet files of a directory as DuckDB counts them (fast; for large streams). */
export async function countParquet(dir: string): Promise<number> {
  const files = visibleParquetFiles(dir);
  if (!files.length) return 0;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`);
    return Number(reader.getRows()[0]![0]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// ---------------------------------------------------------------------------------------------
// The warehouse through pg

/** Session settings that fix the text output forms the canonical values use. */
const WAREHOUSE_SESSION = [
  "SET TimeZone TO 'UTC'",
  "SET DateStyle TO 'ISO, YMD'",
  "SET IntervalStyle TO 'iso_8601'",
  'SET extra_float_digits TO 3',
  "SET bytea_output TO 'hex'",
  "SET client_encoding TO 'UTF8'",
].join('; ');

const pgIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** Canonical value of the `::text` output of a column of PostgreSQL type `typname`. */
function fromPgText(text: string | null, typname: string): Canonical {
  if (text === null) return null;
  switch (typname) {
    case 'int2':
    case 'int4':
      return Number(text);
    case 'float4':
    case 'float8':
      return canonicalFloat(Number(text));
    case 'bool':
      return text === 'true';
    default:
      return text;
  }
}

/** Open a client with the canonical session settings. */
export async function warehouseClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'datakit-read-back' });
  await client.connect();
  await client.query(WAREHOUSE_SESSION);
  return client;
}

/**
 * Read a warehouse table (default schema `bronze`) with `pg`, every column as `::text`.
 *
 * @example
 * const { rows } = await readWarehouse(url, 'br_orders');
 */
export async function readWarehouse(url: string, table: string, opts: { schema?: string; columns?: string[] } = {}): Promise<ReadBack> {
  const schema = opts.schema ?? 'bronze';
  const client = await warehouseClient(url);
  try {
    const cols = await client.query<{ name: string; typname: string; formatted: string }>(
      `SELECT a.attname AS name, t.typname, format_type(a.atttypid, a.atttypmod) AS formatted
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [schema, table],
    );
    if (!cols.rows.length) throw new Error(`read-back: table ${schema}.${table} does not exist in the warehouse`);
    const wanted = opts.columns ? cols.rows.filter((c) => opts.columns!.includes(c.name)) : cols.rows;
    const select = wanted.map((c, i) => `${pgIdent(c.name)}::text AS c${i}`).join(', ');
    const r = await client.query<Record<string, string | null>>({ text: `SELECT ${select} FROM ${pgIdent(schema)}.${pgIdent(table)}` });
    const rows = r.rows.map((raw) => {
      const row: CanonicalRow = {};
      wanted.forEach((c, i) => (row[c.name] = fromPgText(raw[`c${i}`] ?? null, c.typname)));
      return row;
    });
    return { columns: wanted.map((c) => ({ name: c.name, type: c.formatted })), rows };
  } finally {
    await client.end();
  }
}

/**
 * JSON texts as the warehouse's `jsonb` prints them (key order, whitespace, duplicate keys), to
 * compare golden JSON with a `jsonb` column.
 */
export async function jsonbTexts(url: string, texts: readonly (string | null)[]): Promise<(string | null)[]> {
  const client = await warehouseClient(url);
  try {
    const r = await client.query<{ j: string | null }>('SELECT t::jsonb::text AS j FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i', [texts]);
    return r.rows.map((x) => x.j);
  } finally {
    await client.end();
  }
}
