/**
 * Rows → PostgreSQL `COPY … FROM STDIN` text format, streamed in chunks.
 *
 * Text format rules (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2): one line
 * per row, fields separated by a tab, `\N` for NULL, and a backslash, tab, newline or carriage return
 * inside a value written as `\\`, `\t`, `\n`, `\r`. Every value is written in its type's text input
 * form, chosen so that PostgreSQL stores exactly the logical value (see `types.ts`): shortest
 * round-trip doubles, exact bigint, ISO dates with ` BC`, `\x` hex for bytea.
 */
import { DatakitError } from '../../errors.js';
import { type Column, type LogicalType, isDecimal, typeName } from '../../types.js';
import { formatDate, formatTime, formatTimestamp } from '../../values.js';

/** Encodes one non-null value to its (escaped) COPY text field, or throws a message. */
export type FieldEncoder = (value: unknown) => string;

/** Target size of one chunk handed to the COPY stream. */
export const COPY_CHUNK_BYTES = 64 * 1024;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Escape a text value for a COPY text field. */
export function escapeCopyText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : s;
}

/** A value its column cannot hold exactly (the message says why). */
export class BadValue extends Error {}

/** `String.prototype.isWellFormed` (ES2024, Node ≥ 20), not yet in the es2023 lib. */
type WellFormed = string & { isWellFormed(): boolean };

/** What makes a string need a second look: an escape, or any surrogate (paired or not). */
const ESCAPE_OR_SURROGATE = /[\\\t\n\r\uD800-\uDFFF]/;

function text(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${kind(v)}`);
  // one scan for the common case: nothing to escape and no surrogate at all
  if (!ESCAPE_OR_SURROGATE.test(v)) return v;
  // a lone surrogate would silently become U+FFFD in UTF-8: refuse instead of changing the value
  if (!(v as WellFormed).isWellFormed()) throw new BadValue('string holds an unpaired UTF-16 surrogate');
  return escapeCopyText(v);
}

function integer(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new BadValue(`expected an integer (bigint), got ${kind(v)}`);
}

function micros(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new BadValue(`expected microseconds as a bigint, got ${kind(v)}`);
}

function float(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'number') throw new BadValue(`expected a number, got ${kind(v)}`);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  // String() is the shortest text that parses back to the same double; it drops the sign of -0
  return Object.is(v, -0) ? '-0' : String(v);
}

function bytes(v: unknown): string {
  if (!(v instanceof Uint8Array)) throw new BadValue(`expected a Uint8Array, got ${kind(v)}`);
  // `\x…` is bytea's hex input; the backslash itself is escaped for COPY
  return `\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
}

/** Decimal text: PostgreSQL would silently round extra fractional digits of numeric(p,s). */
function decimal(scale: number): FieldEncoder {
  return (v) => {
    const s = text(v);
    const dot = s.indexOf('.');
    // at most `scale` characters after the point: nothing to check (the common case)
    if (dot >= 0 && s.length - dot - 1 > scale) {
      const frac = s.slice(dot + 1).replace(/[eE].*$/, '');
      if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) throw new BadValue(`decimal has more than ${scale} fractional digits`);
    }
    return s;
  };
}

/** What a value is, for messages. */
export function kind(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'Uint8Array';
  return typeof v === 'number' && !Number.isSafeInteger(v) && Number.isFinite(v) && Number.isInteger(v) ? 'an unsafe integer number' : typeof v;
}

function encoderFor(type: LogicalType): FieldEncoder {
  if (isDecimal(type)) return decimal(type.decimal[1]);
  switch (type) {
    case 'string':
    case 'json':
    case 'uuid':
      return text;
    case 'int32':
    case 'int64':
      return integer;
    case 'float64':
      return float;
    case 'boolean':
      return (v) => {
        if (typeof v !== 'boolean') throw new BadValue(`expected a boolean, got ${kind(v)}`);
        return v ? 't' : 'f';
      };
    case 'date':
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new BadValue(`expected days since epoch, got ${kind(v)}`);
        return formatDate(v);
      };
    case 'time':
      return (v) => formatTime(micros(v));
    case 'timestamp':
      return (v) => formatTimestamp(micros(v), false);
    case 'timestamptz':
      return (v) => formatTimestamp(micros(v), true);
    case 'bytes':
      return bytes;
    default:
      throw new DatakitError('INTERNAL.ERROR', `unknown logical type ${typeName(type)}`);
  }
}

/**
 * The encoder remembering its last value: the metadata columns hold one value for a whole run, and
 * sources repeat values in runs (a status, a day). Only primitives are remembered (a string,
 * number or bigint compares by value, 0 and -0 apart, so a hit is always the same text); a Uint8Array is encoded
 * every time, since its bytes could change under the same reference.
 */
function remembering(encode: FieldEncoder): FieldEncoder {
  let last: unknown;
  let lastText: string | undefined;
  return (v) => {
    // `===` but for 0 and -0, which print differently
    if (v === last && lastText !== undefined && (v !== 0 || Object.is(v, last))) return lastText;
    const t = encode(v);
    if (typeof v !== 'object') {
      last = v;
      lastText = t;
    }
    return t;
  };
}

/** Field encoders for columns: a `warehouseType` column takes a string as its type's input form. */
export function copyEncoders(columns: readonly Column[]): FieldEncoder[] {
  return columns.map((c) => {
    const base = encoderFor(c.type);
    if (!c.warehouseType) return remembering(base);
    return remembering((v) => (typeof v === 'string' ? text(v) : base(v)));
  });
}

/**
 * What an encoder's failure on row `r` (0-based) of a batch becomes: a value it refused is
 * `DATA.INVALID_RECORD` naming the row (1-based) and column; anything else stays as it is.
 */
export function invalidValue(e: unknown, table: string, r: number, col: Column): unknown {
  if (!(e instanceof BadValue) && !(e instanceof RangeError)) return e;
  return new DatakitError('DATA.INVALID_RECORD', `${table}: cannot write a ${typeName(col.type)} value: ${e.message}`, { where: { record: r + 1, column: col.name } });
}

/** A row whose width is not the columns' (a runner bug, never data). */
export function rowWidthError(table: string, r: number, got: number, width: number): DatakitError {
  return new DatakitError('INTERNAL.ERROR', `${table}: row ${r + 1} has ${got} values for ${width} columns`);
}

/**
 * The COPY text of `rows` as UTF-8 chunks of about {@link COPY_CHUNK_BYTES}, produced lazily so a
 * large batch is never one giant string. `table` names the target in errors; `onBytes` counts what
 * was produced. A value that cannot be
 * written exactly throws `DATA.INVALID_RECORD` naming the row (1-based in the batch) and column.
 *
 * Each row's line is encoded straight into the chunk's buffer (a line is a small string to flatten;
 * one 64 KiB string of ropes costs a third more).
 */
export function* copyTextChunks(rows: readonly unknown[][], columns: readonly Column[], encoders: readonly FieldEncoder[], table: string, onBytes: (n: number) => void): Generator<Buffer> {
  const width = columns.length;
  // room for one more line of up to a quarter chunk, at 3 UTF-8 bytes per UTF-16 unit
  const capacity = COPY_CHUNK_BYTES + (3 * COPY_CHUNK_BYTES) / 4;
  let chunk = Buffer.allocUnsafe(capacity);
  let used = 0;
  const flush = (): Buffer => {
    const out = chunk.subarray(0, used);
    onBytes(used);
    chunk = Buffer.allocUnsafe(capacity);
    used = 0;
    return out;
  };
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== width) throw rowWidthError(table, r, row.length, width);
    let line = '';
    for (let c = 0; c < width; c++) {
      const v = row[c];
      let field: string;
      if (v === null || v === undefined) field = '\\N';
      else {
        try {
          field = encoders[c]!(v);
        } catch (e) {
          throw invalidValue(e, table, r, columns[c]!);
        }
      }
      line = c > 0 ? `${line}\t${field}` : field;
    }
    line += '\n';
    if (used + 3 * line.length > capacity) {
      if (used > 0) yield flush();
      if (3 * line.length > capacity) {
        // a line larger than a chunk (a big text or bytea value) goes out on its own
        const big = Buffer.from(line, 'utf8');
        onBytes(big.length);
        yield big;
        continue;
      }
    }
    used += chunk.write(line, used);
    if (used >= COPY_CHUNK_BYTES) yield flush();
  }
  if (used > 0) yield flush();
}
