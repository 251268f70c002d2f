/**
 * PostgreSQL type → logical type, how to select it for binary COPY, how to decode it, and how to write
 * a value back as a SQL literal (for keyset/cursor predicates).
 *
 * Types with a binary decoder (see `decoders.ts`) are selected as they are; every other type is
 * selected as `col::text` (exact text output under {@link SESSION_SETTINGS}) or, for arrays and
 * composites, as `to_json(col)::text` and decoded as UTF-8 text.
 */
import { formatDate, formatTime, formatTimestamp, type Column, type LogicalType } from '@datakit/core';
import type { FieldDecoder } from './copy-decoder.js';
import * as d from './decoders.js';

/** One column of a relation as the catalog describes it (a row of {@link pgColumnInfoQuery}). */
export interface PgColumnInfo {
  name: string;
  attnum: number;
  typeOid: number;
  /** `format_type(atttypid, atttypmod)`: `numeric(18,4)`, `character varying(20)`, `integer[]`, `mood`. */
  formattedType: string;
  /** `pg_type.typname`: `int4`, `_int4`, `mood`. */
  typname: string;
  /** `pg_type.typtype`: b(ase) c(omposite) d(omain) e(num) p(seudo) r(ange) m(ultirange). */
  typtype: string;
  /** `pg_type.typcategory` (`A` = array). */
  typcategory: string;
  /** Domains: the innermost base type (nested domains resolved) and its typmod and kind. */
  baseTypeOid?: number | null;
  baseTypname?: string | null;
  baseFormattedType?: string | null;
  baseTypmod?: number | null;
  baseTyptype?: string | null;
  baseTypcategory?: string | null;
  /** `pg_attribute.atttypmod` (-1 when none). */
  typmod: number;
  nullable: boolean;
}

/** A column ready to read: its contract column, its select expression, decoder and literal writer. */
export interface MappedColumn {
  column: Column;
  /** The select-list expression for the (already quoted) column identifier. */
  selectExpr(quotedIdent: string): string;
  /** Decodes the binary COPY field of {@link MappedColumn.selectExpr}. */
  decode: FieldDecoder;
  /**
   * A SQL literal of the column's source type for a value this column produced, for keyset/cursor
   * predicates: `'2024-01-01 00:00:00.123456+00'::timestamp with time zone`, `'123'::bigint`. Assumes
   * `standard_conforming_strings = on` (see {@link SESSION_SETTINGS}). Throws for arrays and composites.
   */
  toSqlLiteral(value: unknown): string;
}

/**
 * Session settings the decoders and literals rely on; apply them (e.g. with {@link sessionSettingsSql})
 * on every connection before reading. They fix the text forms of the `::text` / `to_json` columns:
 * timestamptz in UTC, ISO dates, ISO 8601 intervals (`P1Y2M3DT4H5M6.5S`), shortest-exact floats and
 * hex bytea inside JSON, and UTF-8 text.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = {
  client_encoding: 'UTF8',
  standard_conforming_strings: 'on',
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'iso_8601',
  extra_float_digits: '3',
  bytea_output: 'hex',
};

/** {@link SESSION_SETTINGS} as one statement list: `SET client_encoding TO 'UTF8'; SET …`. */
export function sessionSettingsSql(): string {
  return Object.entries(SESSION_SETTINGS)
    .map(([k, v]) => `SET ${k} TO ${quoteLiteral(v)}`)
    .join('; ');
}

/** `it's` → `'it''s'` (standard_conforming_strings on: backslashes are ordinary). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

interface Rule {
  type: LogicalType;
  /** Present when the type is decoded from its binary form; otherwise selected as `::text`. */
  decode?: FieldDecoder;
  /** Set `column.warehouseType` to the column's formatted type. */
  keepType?: boolean;
}

const NATIVE: Record<string, Rule> = {
  bool: { type: 'boolean', decode: d.decodeBool },
  int2: { type: 'int32', decode: d.decodeInt2 },
  int4: { type: 'int32', decode: d.decodeInt4 },
  int8: { type: 'int64', decode: d.decodeInt8 },
  oid: { type: 'int64', decode: d.decodeOid },
  float4: { type: 'float64', decode: d.decodeFloat4 },
  float8: { type: 'float64', decode: d.decodeFloat8 },
  text: { type: 'string', decode: d.decodeText },
  varchar: { type: 'string', decode: d.decodeText },
  bpchar: { type: 'string', decode: d.decodeText },
  name: { type: 'string', decode: d.decodeText },
  citext: { type: 'string', decode: d.decodeText },
  // "char" sends a raw byte (not always UTF-8); its text form escapes high bytes as \ooo
  char: { type: 'string' },
  bytea: { type: 'bytes', decode: d.decodeBytea },
  date: { type: 'date', decode: d.decodeDate },
  time: { type: 'time', decode: d.decodeTime },
  timestamp: { type: 'timestamp', decode: d.decodeTimestamp },
  timestamptz: { type: 'timestamptz', decode: d.decodeTimestamp },
  uuid: { type: 'uuid', decode: d.decodeUuid },
  // json keeps its text byte for byte (duplicate keys, key order, spacing): the warehouse gets json, not jsonb
  json: { type: 'json', decode: d.decodeText, keepType: true },
  jsonb: { type: 'json', decode: d.decodeJsonb, keepType: true },
};

/** Built-in types kept as their text form, with the same type in the warehouse. */
const TEXT_TYPES = [
  'timetz', 'interval', 'xml', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit', 'tsvector', 'tsquery',
  'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle', 'pg_lsn', 'txid_snapshot', 'pg_snapshot',
];
const BUILTIN_RANGES = new Set([
  'int4range', 'int8range', 'numrange', 'tsrange', 'tstzrange', 'daterange',
  'int4multirange', 'int8multirange', 'nummultirange', 'tsmultirange', 'tstzmultirange', 'datemultirange',
]);
/** Kinds of type mapped by what they are rather than by name. */
const KINDS = ['enum', 'domain', 'range', 'multirange', 'composite', 'array'] as const;

/**
 * Every source type the map handles: `pg_type.typname` of the built-ins plus the kinds `enum`,
 * `domain`, `range`, `multirange`, `composite`, `array` (see {@link mappedTypeKey}). The contract
 * test fails when one of them has no fixture column. Other types (extension types such as `hstore`,
 * `reg*`, `xid`) are read as `::text` into a `string` column.
 */
export const MAPPED_TYPES: readonly string[] = [...Object.keys(NATIVE), 'money', 'numeric', ...TEXT_TYPES, ...KINDS];

/** The {@link MAPPED_TYPES} entry that covers a column (`int4`, `array`, `domain`…). */
export function mappedTypeKey(info: PgColumnInfo): string {
  switch (info.typtype) {
    case 'e': return 'enum';
    case 'd': return 'domain';
    case 'r': return 'range';
    case 'm': return 'multirange';
    case 'c': return 'composite';
    default: return info.typcategory === 'A' ? 'array' : info.typname;
  }
}

/**
 * Map one catalog column. `sourceType` is always the column's own formatted type (a domain keeps its
 * name); the mapping of a domain is its base type's.
 *
 * Choices worth knowing:
 * - `numeric(p,s)` → `{ decimal: [p, s] }`; a negative scale widens to `decimal(p-s, 0)` and a scale
 *   above the precision to `decimal(s, s)` (Parquet needs 0 ≤ s ≤ p). Constrained numerics can still
 *   hold `NaN`, which the Parquet writer rejects. Unconstrained `numeric` → `string` (warehouse
 *   `numeric`) carrying `NaN`/`Infinity`/`-Infinity` as text.
 * - `money` → selected as `col::numeric` (exact, honouring the server's `lc_monetary`), logical
 *   `decimal(19,2)` (warehouse `numeric(19,2)`: money is an int64 of cents, at most 17 integer digits;
 *   the warehouse's own `money` would print and parse by *its* `lc_monetary`): exact for every
 *   locale with 2 fractional currency digits (C, en_*, de_*…); a locale with 3 makes the Parquet
 *   writer fail loudly rather than round.
 * - `float4` → the float32 widened exactly (`0.1::real` → 0.10000000149011612).
 * - `json` → `json` with `warehouseType: 'json'`: the text exactly as stored (duplicate keys, key order,
 *   whitespace), which `jsonb` would normalise; `jsonb` → `json` with `warehouseType: 'jsonb'`.
 * - arrays (any element type, multi-dimensional, NULL elements) and composites → `json` through
 *   `to_json(col)::text` (warehouse `json`, so a composite keeps its attribute order): numbers stay
 *   exact text, bytea elements become `"\\x…"` strings, timestamps ISO strings in UTC; non-default
 *   array lower bounds (`'[0:1]={1,2}'`) are not kept.
 * - enums → `string`; ranges/multiranges, `timetz`, `interval` (ISO 8601), `inet`, `bit`… → `string`
 *   with `warehouseType` the type itself (user-defined ranges: none).
 */
export function mapColumn(info: PgColumnInfo): MappedColumn {
  if (info.typtype === 'd') {
    if (info.baseTypeOid == null || !info.baseTypname || !info.baseFormattedType) {
      throw new Error(`postgres: column ${JSON.stringify(info.name)}: domain ${info.formattedType} has no resolved base type`);
    }
    const base = mapColumn({
      ...info,
      typeOid: info.baseTypeOid,
      typname: info.baseTypname,
      formattedType: info.baseFormattedType,
      typmod: info.baseTypmod ?? -1,
      typtype: info.baseTyptype ?? 'b',
      typcategory: info.baseTypcategory ?? '',
    });
    return { ...base, column: { ...base.column, sourceType: info.formattedType } };
  }
  const column = (type: LogicalType, warehouseType?: string): Column => ({
    name: info.name,
    type,
    nullable: info.nullable,
    sourceType: info.formattedType,
    ...(warehouseType ? { warehouseType } : {}),
  });
  const cast = (value: unknown, type: LogicalType): string => `${quoteLiteral(literalText(value, type))}::${info.formattedType}`;
  const asText = (type: LogicalType, warehouseType?: string): MappedColumn => ({
    column: column(type, warehouseType),
    selectExpr: (q) => `${q}::text`,
    decode: d.decodeText,
    toSqlLiteral: (v) => cast(v, type),
  });

  if (info.typcategory === 'A' || info.typtype === 'c') {
    return {
      // `json`, not jsonb: jsonb would reorder a composite's keys and no longer match to_json's text
      column: column('json', 'json'),
      selectExpr: (q) => `to_json(${q})::text`,
      decode: d.decodeText,
      toSqlLiteral: () => {
        throw new Error(`postgres: column ${JSON.stringify(info.name)} (${info.formattedType}) cannot serve as a cursor`);
      },
    };
  }
  if (info.typtype === 'e') return asText('string');
  if (info.typtype === 'r' || info.typtype === 'm') {
    return asText('string', BUILTIN_RANGES.has(info.typname) ? info.formattedType : undefined);
  }
  if (info.typname === 'numeric') {
    const decimal = numericDecimal(info.typmod);
    const type: LogicalType = decimal ? { decimal } : 'string';
    return {
      column: column(type, decimal ? undefined : 'numeric'),
      selectExpr: (q) => q,
      decode: d.decodeNumeric,
      toSqlLiteral: (v) => cast(v, type),
    };
  }
  if (info.typname === 'money') {
    const type: LogicalType = { decimal: [19, 2] };
    return {
      column: column(type),
      selectExpr: (q) => `${q}::numeric`,
      decode: d.decodeNumeric,
      toSqlLiteral: (v) => `${quoteLiteral(literalText(v, type))}::numeric::money`,
    };
  }
  const rule = NATIVE[info.typname];
  if (rule?.decode) {
    const decode = rule.decode;
    return {
      column: column(rule.type, rule.keepType ? info.formattedType : undefined),
      selectExpr: (q) => q,
      decode,
      toSqlLiteral: (v) => cast(v, rule.type),
    };
  }
  if (rule) return asText(rule.type);
  if (TEXT_TYPES.includes(info.typname)) return asText('string', info.formattedType);
  return asText('string');
}

/** `[precision, scale]` of a numeric typmod, made valid for Parquet; undefined when unconstrained. */
function numericDecimal(typmod: number): [number, number] | undefined {
  if (typmod < 4) return undefined;
  const t = typmod - 4;
  const precision = (t >> 16) & 0xffff;
  // PostgreSQL 15+ stores the scale as an 11-bit signed number (it may be negative or exceed p)
  const scale = ((t & 0x7ff) ^ 1024) - 1024;
  if (scale < 0) return [precision - scale, 0];
  if (scale > precision) return [scale, scale];
  return [precision, scale];
}

/** The text input form of a logical value. */
function literalText(value: unknown, type: LogicalType): string {
  if (typeof type === 'object') return String(value);
  switch (type) {
    case 'date': return formatDate(value as number);
    case 'time': return formatTime(value as bigint);
    case 'timestamp': return formatTimestamp(value as bigint, false);
    case 'timestamptz': return formatTimestamp(value as bigint, true);
    case 'bytes': return `\\x${Buffer.from(value as Uint8Array).toString('hex')}`;
    case 'float64': return Object.is(value, -0) ? '-0' : String(value);
    default: return String(value);
  }
}

/** The SELECT list for binary COPY: each column's select expression, aliased to its name. */
export function buildSelect(mapped: MappedColumn[], quotedCols: string[]): string {
  return mapped
    .map((m, i) => {
      const q = quotedCols[i];
      if (q === undefined) throw new Error(`buildSelect: no quoted identifier for column ${i + 1}`);
      const expr = m.selectExpr(q);
      return expr === q ? q : `${expr} AS ${q}`;
    })
    .join(', ');
}

/**
 * Catalog SQL returning {@link PgColumnInfo} rows for the relation `$1::oid`: user columns in attnum
 * order (dropped and system columns excluded), domains resolved to their innermost base type.
 */
export function pgColumnInfoQuery(): string {
  return `WITH RECURSIVE dom(attnum, typid, typmod, depth) AS (
  SELECT a.attnum, t.typbasetype, t.typtypmod, 1
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'd'
  UNION ALL
  SELECT dom.attnum, t.typbasetype, t.typtypmod, dom.depth + 1
  FROM dom JOIN pg_catalog.pg_type t ON t.oid = dom.typid
  WHERE t.typtype = 'd'
), base AS (
  SELECT DISTINCT ON (attnum) attnum, typid, typmod FROM dom ORDER BY attnum, depth DESC
)
SELECT a.attname AS "name", a.attnum::int AS "attnum", a.atttypid AS "typeOid",
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS "formattedType",
  t.typname::text AS "typname", t.typtype::text AS "typtype", t.typcategory::text AS "typcategory",
  b.typid AS "baseTypeOid", bt.typname::text AS "baseTypname",
  pg_catalog.format_type(b.typid, b.typmod) AS "baseFormattedType", b.typmod AS "baseTypmod",
  bt.typtype::text AS "baseTyptype", bt.typcategory::text AS "baseTypcategory",
  a.atttypmod AS "typmod", NOT a.attnotnull AS "nullable"
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN base b ON b.attnum = a.attnum
LEFT JOIN pg_catalog.pg_type bt ON bt.oid = b.typid
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;
}
