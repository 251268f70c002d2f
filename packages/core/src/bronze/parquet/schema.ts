/**
 * The Parquet schema of a stream: one flat column per {@link Column}, annotated so that readers
 * (DuckDB, Spark, Polars, Arrow) see the exact logical type, not just the physical one.
 *
 * | logical type  | physical                         | annotation (logical / converted)              |
 * |---------------|----------------------------------|-----------------------------------------------|
 * | `int32`       | INT32                            | —                                             |
 * | `int64`       | INT64                            | —                                             |
 * | `float64`     | DOUBLE                           | —                                             |
 * | `boolean`     | BOOLEAN                          | —                                             |
 * | `string`      | BYTE_ARRAY                       | STRING / UTF8                                 |
 * | `json`        | BYTE_ARRAY                       | JSON / JSON                                   |
 * | `uuid`        | FIXED_LEN_BYTE_ARRAY(16)         | UUID / —                                      |
 * | `bytes`       | BYTE_ARRAY                       | —                                             |
 * | decimal(p,s)  | INT32 (p≤9), INT64 (p≤18), else FIXED_LEN_BYTE_ARRAY(minimal) | DECIMAL(p,s) / DECIMAL |
 * | `date`        | INT32                            | DATE / DATE                                   |
 * | `time`        | INT64                            | TIME(MICROS, local) / TIME_MICROS             |
 * | `timestamp`   | INT64                            | TIMESTAMP(MICROS, local) / TIMESTAMP_MICROS   |
 * | `timestamptz` | INT64                            | TIMESTAMP(MICROS, UTC) / TIMESTAMP_MICROS     |
 *
 * The Parquet spec asks writers to put the legacy TIMESTAMP_MICROS / TIME_MICROS annotation on local
 * (not UTC-adjusted) values too, for old readers; new readers go by the logical type.
 */
import type { KeyValue, SchemaElement } from 'hyparquet-writer';
import { DatakitError } from '../../errors.js';
import { type Column, type LogicalType, isDecimal, typeName } from '../../types.js';

/** The key of the file metadata entry that lists the columns with their logical types. */
export const COLUMNS_METADATA_KEY = 'datakit.columns';

/** The Parquet precision and scale a decimal column is written with. */
export interface ParquetDecimal {
  precision: number;
  scale: number;
}

/**
 * Parquet needs `0 ≤ scale ≤ precision`. PostgreSQL also allows a scale above the precision
 * (`numeric(3,5)`: 0.00123) and a negative scale (`numeric(3,-2)`: 12300); both are widened to the
 * smallest Parquet decimal that holds every value exactly.
 */
export function parquetDecimal(t: { decimal: [number, number] }, column: string): ParquetDecimal {
  const [p, s] = t.decimal;
  if (!Number.isInteger(p) || !Number.isInteger(s) || p < 1) {
    throw new DatakitError('INTERNAL.ERROR', `column ${JSON.stringify(column)}: invalid decimal(${p},${s})`, { where: { column } });
  }
  if (s < 0) return { precision: p - s, scale: 0 };
  return { precision: Math.max(p, s), scale: s };
}

/** Bytes of the smallest two's complement integer that holds every value of `precision` digits. */
export function decimalByteLength(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let n = 1;
  while ((1n << BigInt(8 * n - 1)) - 1n < max) n++;
  return n;
}

/** The physical type of a decimal of this precision. */
export function decimalPhysical(precision: number): 'INT32' | 'INT64' | 'FIXED_LEN_BYTE_ARRAY' {
  return precision <= 9 ? 'INT32' : precision <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY';
}

function scalarElement(name: string, t: LogicalType, column: string): Omit<SchemaElement, 'repetition_type'> {
  if (isDecimal(t)) {
    const { precision, scale } = parquetDecimal(t, column);
    const type = decimalPhysical(precision);
    return {
      name,
      type,
      ...(type === 'FIXED_LEN_BYTE_ARRAY' ? { type_length: decimalByteLength(precision) } : {}),
      converted_type: 'DECIMAL',
      precision,
      scale,
      logical_type: { type: 'DECIMAL', precision, scale },
    };
  }
  switch (t) {
    case 'int32':
      return { name, type: 'INT32' };
    case 'int64':
      return { name, type: 'INT64' };
    case 'float64':
      return { name, type: 'DOUBLE' };
    case 'boolean':
      return { name, type: 'BOOLEAN' };
    case 'string':
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'json':
      return { name, type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } };
    case 'uuid':
      return { name, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } };
    case 'bytes':
      return { name, type: 'BYTE_ARRAY' };
    case 'date':
      return { name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'time':
      return { name, type: 'INT64', converted_type: 'TIME_MICROS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'timestamp':
      return { name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'timestamptz':
      return { name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
    default:
      throw new DatakitError('INTERNAL.ERROR', `column ${JSON.stringify(column)}: no Parquet type for logical type ${String(t)}`, { where: { column } });
  }
}

/**
 * The Parquet schema element of a column: REQUIRED when the column is not nullable, else OPTIONAL.
 *
 * @example
 * columnElement({ name: 'amount', type: { decimal: [18, 4] }, nullable: true, sourceType: 'numeric(18,4)' });
 * // { name: 'amount', type: 'INT64', repetition_type: 'OPTIONAL', converted_type: 'DECIMAL', precision: 18, scale: 4, logical_type: { type: 'DECIMAL', precision: 18, scale: 4 } }
 */
export function columnElement(c: Column): SchemaElement {
  const e = scalarElement(c.name, c.type, c.name);
  return { ...e, repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED' };
}

/** The full Parquet schema (root element first) of a stream's columns. */
export function parquetSchema(columns: readonly Column[]): SchemaElement[] {
  const names = new Set<string>();
  for (const c of columns) {
    if (names.has(c.name)) throw new DatakitError('INTERNAL.ERROR', `duplicate column name ${JSON.stringify(c.name)}`, { where: { column: c.name } });
    names.add(c.name);
  }
  return [{ name: 'schema', num_children: columns.length }, ...columns.map(columnElement)];
}

/**
 * The file's key-value metadata: `datakit.columns`, a JSON list of the columns with their logical
 * type, nullability and source type, so a reader can tell e.g. `json` from `string` even where its
 * Parquet library ignores logical types.
 */
export function columnsMetadata(columns: readonly Column[]): KeyValue[] {
  const list = columns.map((c) => ({
    name: c.name,
    type: typeName(c.type),
    nullable: c.nullable,
    sourceType: c.sourceType,
    ...(c.warehouseType !== undefined ? { warehouseType: c.warehouseType } : {}),
  }));
  return [{ key: COLUMNS_METADATA_KEY, value: JSON.stringify(list) }];
}
