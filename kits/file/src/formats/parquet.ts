/**
 * Parquet through hyparquet, keeping each column's logical type: INT64 as bigint, DECIMAL as an exact
 * string (hyparquet's own conversion goes through a double, so decimal columns are read as their raw
 * unscaled integers and converted here), TIMESTAMP with its zone flag and µs (nanoseconds only when
 * they carry no sub-µs digits), DATE, TIME, UUID, JSON text, strings checked for valid UTF-8, raw
 * BYTE_ARRAY as bytes; nested columns (LIST, MAP, struct) land as JSON. Row groups are read one at a
 * time. A file whose footer is missing (truncated) or whose data is corrupt ends in a fatal record.
 */
import { isUtf8 } from 'node:buffer';
import { decimalFromUnscaled, type LogicalType } from '@datakit/core';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaElement, type SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { FileRecord, FileSource, FormatReader, ReadOptions } from './types.js';

/** A value that cannot be represented exactly (carried to the converter, which reports it). */
export class Unrepresentable {
  constructor(readonly reason: string) {}
}

/** A top-level Parquet column: its logical type and how raw values become logical ones. */
interface ColumnPlan {
  name: string;
  type: LogicalType;
  sourceType: string;
  convert?: (v: unknown) => unknown;
  /** Its schema element must be read raw (hyparquet would round it). */
  raw?: boolean;
}

const utf8 = new TextDecoder();
const text = (b: Uint8Array | undefined): unknown => (b === undefined ? undefined : isUtf8(b) ? utf8.decode(b) : new Unrepresentable('invalid UTF-8 in a string'));

function bigEndianSigned(b: Uint8Array): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return b.length && b[0]! & 0x80 ? v - (1n << BigInt(b.length * 8)) : v;
}

/** JSON text of a nested value (bigints as numbers, bytes as base64, dates as ISO). */
function nestedJson(v: unknown): string {
  const marker = '\u0000n:';
  const s = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${marker}${x}`;
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    return x;
  });
  return s.replace(/"\\u0000n:(-?\d+)"/g, '$1');
}

/** The plan of a top-level column (exported for the type map). */
export function planColumn(node: SchemaTree): ColumnPlan {
  const e: SchemaElement = node.element;
  const name = e.name;
  const lt = e.logical_type;
  const ct = e.converted_type;
  if (node.children.length) return { name, type: 'json', sourceType: `parquet:${ct ?? lt?.type ?? 'STRUCT'}`, convert: (v) => (v == null ? v : nestedJson(v)) };
  const physical = e.type ?? 'BYTE_ARRAY';
  if (lt?.type === 'DECIMAL' || ct === 'DECIMAL') {
    const p = lt?.type === 'DECIMAL' ? lt.precision : e.precision ?? 38;
    const s = lt?.type === 'DECIMAL' ? lt.scale : e.scale ?? 0;
    const unscaled = (v: unknown): bigint => (v instanceof Uint8Array ? bigEndianSigned(v) : BigInt(v as number | bigint));
    const convert = (v: unknown): unknown => (v == null ? v : decimalFromUnscaled(unscaled(v), s));
    if (p <= 38) return { name, type: { decimal: [p, s] }, sourceType: `parquet:DECIMAL(${p},${s})`, convert, raw: true };
    return { name, type: 'string', sourceType: `parquet:DECIMAL(${p},${s})`, convert, raw: true };
  }
  if (lt?.type === 'TIMESTAMP' || ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS' || physical === 'INT96') {
    const utc = lt?.type === 'TIMESTAMP' ? lt.isAdjustedToUTC : true;
    const unit = lt?.type === 'TIMESTAMP' ? lt.unit : ct === 'TIMESTAMP_MILLIS' ? 'MILLIS' : ct === 'TIMESTAMP_MICROS' ? 'MICROS' : 'NANOS';
    return { name, type: utc ? 'timestamptz' : 'timestamp', sourceType: `parquet:TIMESTAMP(${unit},${utc})` };
  }
  if (lt?.type === 'TIME' || ct === 'TIME_MILLIS' || ct === 'TIME_MICROS') {
    const unit = lt?.type === 'TIME' ? lt.unit : ct === 'TIME_MILLIS' ? 'MILLIS' : 'MICROS';
    const convert = (v: unknown): unknown => {
      if (v == null) return v;
      const n = BigInt(v as number | bigint);
      if (unit === 'MILLIS') return n * 1000n;
      if (unit === 'NANOS') return n % 1000n === 0n ? n / 1000n : new Unrepresentable('time has sub-microsecond digits');
      return n;
    };
    return { name, type: 'time', sourceType: `parquet:TIME(${unit})`, convert };
  }
  if (lt?.type === 'DATE' || ct === 'DATE') return { name, type: 'date', sourceType: 'parquet:DATE' };
  if (lt?.type === 'UUID') return { name, type: 'uuid', sourceType: 'parquet:UUID' };
  if (lt?.type === 'JSON' || ct === 'JSON') return { name, type: 'json', sourceType: 'parquet:JSON' };
  if (lt?.type === 'STRING' || lt?.type === 'ENUM' || ct === 'UTF8' || ct === 'ENUM') return { name, type: 'string', sourceType: `parquet:${lt?.type ?? ct}` };
  if (lt?.type === 'FLOAT16') return { name, type: 'float64', sourceType: 'parquet:FLOAT16' };
  const int = lt?.type === 'INTEGER' ? lt : undefined;
  const unsigned = int ? !int.isSigned : ct?.startsWith('UINT_') ?? false;
  const bits = int?.bitWidth ?? (ct && /_(\d+)$/.test(ct) ? Number(/_(\d+)$/.exec(ct)![1]) : physical === 'INT64' ? 64 : 32);
  switch (physical) {
    case 'BOOLEAN':
      return { name, type: 'boolean', sourceType: 'parquet:BOOLEAN' };
    case 'INT32':
      if (unsigned && bits === 32) return { name, type: 'int64', sourceType: 'parquet:UINT_32', convert: (v) => (v == null ? v : BigInt(v as number)) };
      return { name, type: 'int32', sourceType: `parquet:${unsigned ? 'UINT' : 'INT'}_${bits}` };
    case 'INT64':
      if (unsigned) return { name, type: { decimal: [20, 0] }, sourceType: 'parquet:UINT_64', convert: (v) => (v == null ? v : String(v)) };
      return { name, type: 'int64', sourceType: 'parquet:INT64' };
    case 'FLOAT':
      return { name, type: 'float64', sourceType: 'parquet:FLOAT' };
    case 'DOUBLE':
      return { name, type: 'float64', sourceType: 'parquet:DOUBLE' };
    default:
      // BSON, INTERVAL and unannotated binaries land as their bytes
      return { name, type: 'bytes', sourceType: `parquet:${physical}${ct ? `(${ct})` : ''}`, raw: ct === 'BSON' || ct === 'INTERVAL', convert: (v) => (v == null ? v : v instanceof Uint8Array ? v : Buffer.from(String(v))) };
  }
}

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => v * 1000n,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => (v % 1000n === 0n ? v / 1000n : new Unrepresentable('timestamp has sub-microsecond digits')),
  dateFromDays: (v: number) => v,
  stringFromBytes: text,
  jsonFromBytes: text,
};

/** The columns of a file's footer, and metadata with the raw-read columns un-annotated. */
export function planFile(metadata: FileMetaData): { plans: ColumnPlan[]; metadata: FileMetaData } {
  const plans = parquetSchema(metadata).children.map(planColumn);
  const rawNames = new Set(plans.filter((p) => p.raw).map((p) => p.name));
  const schema = metadata.schema.map((e, i) => (i > 0 && rawNames.has(e.name) && !e.num_children ? { ...e, converted_type: undefined, logical_type: undefined } : e));
  return { plans, metadata: { ...metadata, schema } };
}

/** Random access to a file for hyparquet. */
function asyncBuffer(source: FileSource): AsyncBuffer {
  return {
    byteLength: source.entry.size,
    slice: async (start: number, end?: number) => {
      const b = await source.readRange(start, end ?? source.entry.size);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/** The Parquet reader. */
export const parquetReader: FormatReader = {
  format: 'parquet',
  kind: 'typed',
  async *records(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord> {
    const file = asyncBuffer(source);
    let index = 0;
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (e) {
      yield { pos: Number.MAX_SAFE_INTEGER, row: 1, names: [], values: [], error: `not a readable Parquet file (truncated?): ${(e as Error).message}`, fatal: true, raw: '' };
      return;
    }
    const { plans, metadata: patched } = planFile(metadata);
    const names = plans.map((p) => p.name);
    const types = plans.map((p) => p.type);
    const sourceTypes = plans.map((p) => p.sourceType);
    let rowStart = 0;
    for (const rg of metadata.row_groups) {
      opts.signal.throwIfAborted();
      const rowEnd = rowStart + Number(rg.num_rows);
      let rows: unknown[][] = [];
      try {
        await parquetRead({ file, metadata: patched, rowStart, rowEnd, rowFormat: 'array', utf8: false, parsers: PARSERS, compressors, onComplete: (r: unknown[][]) => (rows = r) });
      } catch (e) {
        if (opts.signal.aborted) throw e;
        yield { pos: Number.MAX_SAFE_INTEGER, row: index + 1, names: [], values: [], error: `corrupt Parquet data in rows ${rowStart + 1}-${rowEnd}: ${(e as Error).message}`, fatal: true, raw: '' };
        return;
      }
      rowStart = rowEnd;
      for (const r of rows) {
        index++;
        for (let i = 0; i < plans.length; i++) {
          const c = plans[i]!.convert;
          const v = c ? c(r[i]) : r[i];
          r[i] = v === undefined ? null : v;
        }
        yield { pos: index, row: index, names, values: r, types, sourceTypes };
      }
    }
  },
};
