/**
 * SQL text the kit builds: quoted identifiers, literals rebuilt from stored text, keyset predicates
 * and the COPY statement. Every identifier is quoted (hostile names work) and every column reference
 * is qualified with the relation alias, so `ORDER BY`/`WHERE` compare the table's own values (never a
 * select-list alias such as `"mood"::text AS "mood"`, whose order would differ).
 *
 * COPY takes no bind parameters, so positions are inlined as literals: the column's exact text output
 * (stored in state), quoted, and cast to the column's own type.
 */
import { quoteLiteral, type PgColumnInfo } from './type-map.js';

/** The alias of the relation in every statement. */
export const ALIAS = '_dk';

/** `order "lines"` → `"order ""lines"""`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"`. */
export function relationName(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A column of the relation: `_dk."name"`. */
export function col(name: string): string {
  return `${ALIAS}.${quoteIdent(name)}`;
}

/** The base type name of a column (domains resolved): `int8`, `timestamptz`. */
export function baseTypname(info: PgColumnInfo): string {
  return (info.typtype === 'd' ? info.baseTypname : info.typname) ?? '';
}

/**
 * A literal of the column's type from its text output: `'2024-01-01 00:00:00+00'::timestamp with time zone`.
 * The text form round-trips exactly through the type's input function under the kit's session settings.
 */
export function literal(text: string, info: PgColumnInfo): string {
  return `${quoteLiteral(text)}::${info.formattedType}`;
}

/** `(a, b) > (x, y)`, or `a > x` for one column: PostgreSQL's row comparison is the keyset order. */
export function rowCompare(cols: readonly string[], op: '>' | '>=' | '<' | '<=', values: readonly string[]): string {
  if (cols.length !== values.length || cols.length === 0) throw new Error(`rowCompare: ${cols.length} columns, ${values.length} values`);
  return cols.length === 1 ? `${cols[0]} ${op} ${values[0]}` : `(${cols.join(', ')}) ${op} (${values.join(', ')})`;
}

/** One statement of the read: select list, predicates, order and limit. */
export interface SelectParts {
  select: string;
  relation: string;
  where: readonly string[];
  orderBy?: readonly string[];
  limit?: number;
}

/** `SELECT … FROM rel AS _dk WHERE … ORDER BY … LIMIT n`. */
export function selectSql(p: SelectParts): string {
  const where = p.where.length ? ` WHERE ${p.where.map((w) => `(${w})`).join(' AND ')}` : '';
  const order = p.orderBy?.length ? ` ORDER BY ${p.orderBy.join(', ')}` : '';
  const limit = p.limit !== undefined ? ` LIMIT ${p.limit}` : '';
  return `SELECT ${p.select} FROM ${p.relation} AS ${ALIAS}${where}${order}${limit}`;
}

/** `COPY (<select>) TO STDOUT (FORMAT binary)`. */
export function copySql(select: string): string {
  return `COPY (${select}) TO STDOUT (FORMAT binary)`;
}
