/**
 * Row values (see {@link LogicalType}) to the physical values hyparquet-writer encodes, checked so
 * that nothing is rounded, truncated or wrapped on the way: a value that cannot be written exactly
 * is a `DATA.INVALID_RECORD` naming the column, never a silently different value.
 *
 * Lossless widenings are accepted (a safe-integer `number` for an int64, a `bigint` in int32 range
 * for an int32); everything else must have the type the contract names.
 *
 * The `-infinity` sentinels of `date` and `timestamp(tz)` are written as DuckDB's (`-2147483647`
 * days, `-9223372036854775807` µs): DuckDB reads int32/int64 min as an ordinary date 5.8 million
 * years BC, not as `-infinity`. `+infinity` is int32/int64 max in both.
 */
import { DatakitError } from '../../errors.js';
import { DATE_NEG_INFINITY, TIMESTAMP_NEG_INFINITY, type Column, isDecimal, typeName } from '../../types.js';
import { decimalToUnscaled, hexDigitAt } from '../../values.js';
import { parquetDecimal } from './schema.js';

/** `-infinity` of a DuckDB DATE (days): `-(2^31 - 1)`. */
export const PARQUET_DATE_NEG_INFINITY = -2147483647;
/** `-infinity` of a DuckDB TIMESTAMP(TZ) (µs): `-(2^63 - 1)`. */
export const PARQUET_TIMESTAMP_NEG_INFINITY = -9223372036854775807n;

/** Converts one non-null value to its physical form, or throws a `RangeError` with the reason. */
export type ValueConverter = (v: unknown) => unknown;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/**
 * The 16 bytes of a uuid in canonical `8-4-4-4-12` form (either case), or undefined. One pass and
 * one allocation (a regex test, a hyphen-stripping replace and a hex decode cost three).
 */
export function uuidBytes(s: string): Uint8Array | undefined {
  if (s.length !== 36 || s.charCodeAt(8) !== 0x2d || s.charCodeAt(13) !== 0x2d || s.charCodeAt(18) !== 0x2d || s.charCodeAt(23) !== 0x2d) return undefined;
  const out = new Uint8Array(16);
  let i = 0;
  for (let b = 0; b < 16; b++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    const h = hexDigitAt(s, i);
    const l = hexDigitAt(s, i + 1);
    if (h < 0 || l < 0) return undefined;
    out[b] = (h << 4) | l;
    i += 2;
  }
  return out;
}

const describe = (v: unknown): string => {
  if (typeof v === 'bigint') return `bigint ${v}n`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return `${typeof v} ${String(v).slice(0, 40)}`;
};

function fail(expected: string, v: unknown): never {
  throw new RangeError(`expected ${expected}, got ${describe(v)}`);
}

/** String.prototype.isWellFormed (ES2024): a lone surrogate cannot be written as UTF-8 exactly. */
function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

function int64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) fail(`${what} in int64 range`, v);
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return fail(what, v);
}

function decimalConverter(c: Column & { type: { decimal: [number, number] } }): ValueConverter {
  const { precision, scale } = parquetDecimal(c.type, c.name);
  const limit = 10n ** BigInt(precision);
  const label = typeName(c.type);
  return (v) => {
    if (typeof v !== 'string') fail(`an exact decimal string for ${label}`, v);
    const u = decimalToUnscaled(v, scale);
    if (u >= limit || u <= -limit) throw new RangeError(`decimal ${v} does not fit ${label}`);
    // a bigint is written as the unscaled value (a number would be scaled through a float)
    return u;
  };
}

/** JSON text, checked to be well-formed UTF-16 (its column writes it as UTF-8). */
function jsonConverter(): ValueConverter {
  return (v) => (typeof v === 'string' && wellFormed(v) ? v : fail('JSON text (a string)', v));
}

/** The converter of a column's logical type. */
export function valueConverter(c: Column): ValueConverter {
  const t = c.type;
  if (isDecimal(t)) return decimalConverter(c as Column & { type: typeof t });
  switch (t) {
    case 'int32':
      return (v) => {
        if (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
        if (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n) return Number(v);
        return fail('an int32', v);
      };
    case 'int64':
      return (v) => int64(v, 'an int64 (bigint)');
    case 'float64':
      return (v) => (typeof v === 'number' ? v : fail('a number', v));
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : fail('a boolean', v));
    case 'string':
      return (v) => (typeof v === 'string' && wellFormed(v) ? v : fail('a string of well-formed UTF-16', v));
    case 'json':
      return jsonConverter();
    case 'bytes':
      return (v) => (v instanceof Uint8Array ? v : fail('a Uint8Array', v));
    case 'uuid':
      return (v) => {
        if (v instanceof Uint8Array && v.byteLength === 16) return v;
        const bytes = typeof v === 'string' ? uuidBytes(v) : undefined;
        return bytes ?? fail('a uuid 8-4-4-4-12', v);
      };
    case 'date':
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < DATE_NEG_INFINITY || v > 2147483647) fail('days since 1970-01-01 (int32)', v);
        return v === DATE_NEG_INFINITY ? PARQUET_DATE_NEG_INFINITY : v;
      };
    case 'time':
      return (v) => {
        const us = int64(v, 'microseconds since midnight (bigint)');
        // 24:00:00 is a valid PostgreSQL time
        if (us < 0n || us > 86_400_000_000n) throw new RangeError(`time ${us} µs is outside 00:00–24:00`);
        return us;
      };
    case 'timestamp':
    case 'timestamptz':
      return (v) => {
        const us = int64(v, 'microseconds since 1970-01-01 (bigint)');
        return us === TIMESTAMP_NEG_INFINITY ? PARQUET_TIMESTAMP_NEG_INFINITY : us;
      };
    default:
      throw new DatakitError('INTERNAL.ERROR', `column ${JSON.stringify(c.name)}: no converter for logical type ${String(t)}`);
  }
}

/** Where converted values go: one column chunk each (see `column-chunk.ts`). */
export interface ValueSink {
  push(v: unknown): void;
  pushNull(): void;
}

/**
 * Converts rows into their columns' chunks, checking each value. Nothing of a row is retained:
 * each value is encoded into its column's page as it is converted.
 */
export class RowConverter {
  private readonly converters: ValueConverter[];
  private readonly nullable: boolean[];

  constructor(private readonly columns: readonly Column[]) {
    this.converters = columns.map(valueConverter);
    this.nullable = columns.map((c) => c.nullable);
  }

  /**
   * Append `rows[from..to)` to `sinks` (one per column). `firstRecord` numbers `rows[0]` in error
   * messages. An invalid value throws part-way through a row: the sinks are then only fit to be
   * discarded (the file writer aborts).
   */
  append(rows: readonly unknown[][], from: number, to: number, sinks: readonly ValueSink[], firstRecord: number): void {
    const width = this.columns.length;
    const converters = this.converters;
    for (let r = from; r < to; r++) {
      const row = rows[r]!;
      if (row.length !== width) throw new DatakitError('INTERNAL.ERROR', `row has ${row.length} values for ${width} columns`, { where: { record: firstRecord + r } });
      for (let i = 0; i < width; i++) {
        const v = row[i];
        if (v === null || v === undefined) {
          if (!this.nullable[i]) throw this.invalid(i, firstRecord + r, 'NULL in a column declared not nullable');
          sinks[i]!.pushNull();
          continue;
        }
        let out: unknown;
        try {
          out = converters[i]!(v);
        } catch (e) {
          throw this.invalid(i, firstRecord + r, e instanceof Error ? e.message : String(e), e);
        }
        sinks[i]!.push(out);
      }
    }
  }

  private invalid(i: number, record: number, reason: string, cause?: unknown): DatakitError {
    const c = this.columns[i]!;
    return new DatakitError('DATA.INVALID_RECORD', `column ${JSON.stringify(c.name)} (${typeName(c.type)}): ${reason}`, {
      where: { column: c.name, record },
      ...(cause !== undefined ? { cause } : {}),
    });
  }
}
