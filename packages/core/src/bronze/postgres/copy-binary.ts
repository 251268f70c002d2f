/**
 * Rows → PostgreSQL `COPY … FROM STDIN (FORMAT binary)`, streamed in chunks.
 *
 * Binary format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.10): a header,
 * then per row an int16 field count and per field an int32 byte length (-1 for NULL) and the
 * type's binary (`*_recv`) form, then an int16 -1 trailer. Every value goes in as the exact bits
 * the server stores — a double's 8 bytes, microseconds as int64, a decimal as its base-10000 digits
 * — so nothing is formatted on this side or parsed on the server's, and the server checks ranges
 * and typmods (`varchar(20)`, `numeric(18,4)`) as it does for text.
 *
 * Used when every column's warehouse type has an encoder here (see {@link binaryEncoders});
 * anything else (`interval`, `inet`, ranges… given as their text input form) goes through the
 * text format of `copy-text.ts`. The two give the same table contents (the integration tests
 * compare them value by value).
 */
import { type Column, isDecimal, type LogicalType } from '../../types.js';
import { DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY } from '../../types.js';
import { BadValue, COPY_CHUNK_BYTES, invalidValue, kind, rowWidthError } from './copy-text.js';
import { columnSqlType } from './sql.js';
import { hexDigitAt } from '../../values.js';

/** `PGCOPY\n\377\r\n\0`, flags 0, no header extension. */
export const COPY_BINARY_HEADER: Buffer = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** The int16 -1 that ends the data. */
export const COPY_BINARY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

/** The chunk being filled: encoders append to it at `pos`, spilling full chunks into `out`. */
export class ChunkWriter {
  buf!: Buffer;
  view!: DataView;
  pos = 0;
  readonly out: Buffer[] = [];

  constructor() {
    this.fresh(COPY_CHUNK_BYTES);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      if (this.pos > 0) this.out.push(this.buf.subarray(0, this.pos));
      this.fresh(Math.max(COPY_CHUNK_BYTES, n));
    }
  }

  /** The bytes written so far as one chunk, and a fresh chunk for what follows. */
  take(): Buffer {
    const b = this.buf.subarray(0, this.pos);
    this.fresh(COPY_CHUNK_BYTES);
    return b;
  }

  private fresh(size: number): void {
    // a little spare, so a chunk is cut after the row that passes COPY_CHUNK_BYTES
    this.buf = Buffer.allocUnsafe(size + 1024);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
  }
}

/** Appends one non-null value as its length and binary form, or throws {@link BadValue}. */
export type BinaryEncoder = (w: ChunkWriter, value: unknown) => void;

const UNIX_TO_PG_DAYS = 10_957;
const UNIX_TO_PG_US = 946_684_800_000_000;
const UNIX_TO_PG_US_BIG = 946_684_800_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_32 = 4_294_967_296;

/** A fixed-size field: its length, then room for its bytes at `w.pos`. */
function fixed(w: ChunkWriter, size: number): void {
  w.ensure(4 + size);
  w.view.setInt32(w.pos, size);
  w.pos += 4;
}

/** An int64 field from an exact integer (bigint or safe number), or throws. */
function int64Field(w: ChunkWriter, v: bigint | number): void {
  fixed(w, 8);
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isSafeInteger(n)) {
    const hi = Math.floor(n / TWO_32);
    w.view.setInt32(w.pos, hi);
    w.view.setUint32(w.pos + 4, n - hi * TWO_32);
  } else {
    if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) throw new BadValue(`${String(v)} is out of the int64 range`);
    w.view.setBigInt64(w.pos, v);
  }
  w.pos += 8;
}

function integerValue(v: unknown): bigint | number {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new BadValue(`expected an integer (bigint), got ${kind(v)}`);
}

/** A UTF-8 text field of `s` after `prefix` bytes (jsonb's version byte), refusing lone surrogates. */
function textField(w: ChunkWriter, s: string, prefix = -1): void {
  // a lone surrogate would silently become U+FFFD in UTF-8: refuse instead of changing the value
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) throw new BadValue('string holds an unpaired UTF-16 surrogate');
  const extra = prefix >= 0 ? 1 : 0;
  w.ensure(4 + extra + 3 * s.length);
  const at = w.pos;
  if (extra) w.buf[at + 4] = prefix;
  const n = w.buf.write(s, at + 4 + extra);
  w.view.setInt32(at, n + extra);
  w.pos = at + 4 + extra + n;
}

const text: BinaryEncoder = (w, v) => {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${kind(v)}`);
  textField(w, v);
};

/** jsonb's binary form: version 1, then the JSON text (the server parses it as for text input). */
const jsonb: BinaryEncoder = (w, v) => {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${kind(v)}`);
  textField(w, v, 1);
};

const int32: BinaryEncoder = (w, v) => {
  const n = Number(integerValue(v));
  if (n < -2_147_483_648 || n > 2_147_483_647) throw new BadValue(`${String(v)} is out of the integer range`);
  fixed(w, 4);
  w.view.setInt32(w.pos, n);
  w.pos += 4;
};

const int64: BinaryEncoder = (w, v) => int64Field(w, integerValue(v));

const float8: BinaryEncoder = (w, v) => {
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new BadValue(`expected a number, got ${kind(v)}`);
  fixed(w, 8);
  // a bigint rounds to the nearest double, as the server's parse of its digits would
  w.view.setFloat64(w.pos, Number(v));
  w.pos += 8;
};

const bool: BinaryEncoder = (w, v) => {
  if (typeof v !== 'boolean') throw new BadValue(`expected a boolean, got ${kind(v)}`);
  fixed(w, 1);
  w.buf[w.pos++] = v ? 1 : 0;
};

const date: BinaryEncoder = (w, v) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new BadValue(`expected days since epoch, got ${kind(v)}`);
  let d: number;
  if (v === DATE_POS_INFINITY) d = 2_147_483_647;
  else if (v === DATE_NEG_INFINITY) d = -2_147_483_648;
  else {
    d = v - UNIX_TO_PG_DAYS;
    if (d <= -2_147_483_648 || d >= 2_147_483_647) throw new BadValue(`date ${v} is out of range`);
  }
  fixed(w, 4);
  w.view.setInt32(w.pos, d);
  w.pos += 4;
};

function micros(v: unknown): bigint | number {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new BadValue(`expected microseconds as a bigint, got ${kind(v)}`);
}

const time: BinaryEncoder = (w, v) => int64Field(w, micros(v));

/** Microseconds since 1970 → since 2000 (PostgreSQL's epoch); the infinities are int64's ends. */
const timestamp: BinaryEncoder = (w, v) => {
  const us = micros(v);
  if (us === TIMESTAMP_POS_INFINITY || us === TIMESTAMP_NEG_INFINITY) return int64Field(w, us);
  const n = Number(us);
  if (Number.isSafeInteger(n) && Number.isSafeInteger(n - UNIX_TO_PG_US)) return int64Field(w, n - UNIX_TO_PG_US);
  const pg = BigInt(us) - UNIX_TO_PG_US_BIG;
  if (pg < INT64_MIN || pg > INT64_MAX) throw new BadValue(`timestamp ${String(us)} µs is out of range`);
  int64Field(w, pg);
};

const bytea: BinaryEncoder = (w, v) => {
  if (!(v instanceof Uint8Array)) throw new BadValue(`expected a Uint8Array, got ${kind(v)}`);
  fixed(w, v.byteLength);
  w.buf.set(v, w.pos);
  w.pos += v.byteLength;
};

/** The 16 bytes of a uuid's text, with the forms `uuid_in` accepts: braces, any case, a hyphen after any 4 digits. */
const uuid: BinaryEncoder = (w, v) => {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${kind(v)}`);
  fixed(w, 16);
  const { buf, pos } = w;
  const braces = v.charCodeAt(0) === 0x7b;
  let i = braces ? 1 : 0;
  for (let b = 0; b < 16; b++) {
    const hi = hexDigitAt(v, i);
    const lo = hexDigitAt(v, i + 1);
    if (hi < 0 || lo < 0) throw new BadValue('not a uuid');
    buf[pos + b] = (hi << 4) | lo;
    i += 2;
    if ((b & 1) === 1 && b < 15 && v.charCodeAt(i) === 0x2d) i++;
  }
  if (braces && v.charCodeAt(i++) !== 0x7d) throw new BadValue('not a uuid');
  if (i !== v.length) throw new BadValue('not a uuid');
  w.pos = pos + 16;
};

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
/** numeric_recv's limit on base-10000 digits (NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE). */
const MAX_NUMERIC_DIGITS = 3000;
const SPECIAL_NUMERICS: Record<string, number> = {
  nan: NUMERIC_NAN,
  infinity: NUMERIC_PINF,
  '+infinity': NUMERIC_PINF,
  '-infinity': NUMERIC_NINF,
  inf: NUMERIC_PINF,
  '+inf': NUMERIC_PINF,
  '-inf': NUMERIC_NINF,
};
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/**
 * A decimal's text (`-12.3400`, `1.5e-3`, `NaN`, `Infinity`, surrounding blanks — what `numeric_in`
 * takes) as numeric's binary form: sign, weight and base-10000 digits, and the display scale the
 * text input would give (`1.50e1` → `15.0`). With `scale` (a `numeric(p,s)` column), a value with
 * non-zero digits beyond it is refused: the server would round it.
 */
function numeric(scale: number | undefined): BinaryEncoder {
  return (w, v) => {
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) s = String(v);
    else throw new BadValue(`expected a decimal string, got ${kind(v)}`);
    let start = 0;
    let end = s.length;
    while (start < end && isSpace(s.charCodeAt(start))) start++;
    while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
    let i = start;
    let negative = false;
    const c0 = s.charCodeAt(i);
    if (c0 === 0x2b || c0 === 0x2d) {
      negative = c0 === 0x2d;
      i++;
    }
    // the significant digits, as char positions: [digitsStart, digitsEnd) with the point skipped
    const first = i;
    let intDigits = 0;
    while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    intDigits = i - first;
    let fracStart = i;
    let fracDigits = 0;
    if (i < end && s.charCodeAt(i) === 0x2e) {
      fracStart = ++i;
      while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      fracDigits = i - fracStart;
    }
    if (intDigits + fracDigits === 0) {
      const special = SPECIAL_NUMERICS[s.slice(start, end).toLowerCase()];
      if (special === undefined) throw new BadValue(`not a decimal: ${JSON.stringify(s.slice(0, 40))}`);
      return writeNumericHead(w, special, 0, 0, 0);
    }
    let exp = 0;
    if (i < end && (s.charCodeAt(i) | 0x20) === 0x65) {
      const m = /^[+-]?\d{1,9}$/.exec(s.slice(i + 1, end));
      if (!m) throw new BadValue(`not a decimal: ${JSON.stringify(s.slice(0, 40))}`);
      exp = Number(m[0]);
      i = end;
    }
    if (i !== end) throw new BadValue(`not a decimal: ${JSON.stringify(s.slice(0, 40))}`);
    const dscale = Math.max(0, fracDigits - exp);
    if (dscale > 0x3fff) throw new BadValue('decimal has more than 16383 fractional digits');
    const total = intDigits + fracDigits;
    let lead = 0;
    while (lead < total && digitAt(s, first, intDigits, fracStart, lead) === 0) lead++;
    let last = total - 1;
    while (last >= lead && digitAt(s, first, intDigits, fracStart, last) === 0) last--;
    if (lead > last) return writeNumericHead(w, NUMERIC_POS, 0, dscale, 0);
    // significant digit k stands for 10^(point - 1 - k); base-10000 digit g holds 10^(4g)…10^(4g+3)
    const point = intDigits + exp;
    const lowest = point - 1 - last;
    if (scale !== undefined && lowest < -scale) throw new BadValue(`decimal has more than ${scale} fractional digits`);
    const weight = (point - 1 - lead) >> 2;
    const count = weight - (lowest >> 2) + 1;
    if (weight > 32767 || weight < -32768 || count > MAX_NUMERIC_DIGITS) throw new BadValue('decimal is out of the warehouse numeric range');
    writeNumericHead(w, negative ? NUMERIC_NEG : NUMERIC_POS, weight, dscale, count);
    const { view } = w;
    let p = w.pos;
    let group = weight;
    let acc = 0;
    for (let k = lead; k <= last; k++) {
      const e = point - 1 - k;
      if (e >> 2 !== group) {
        view.setInt16(p, acc);
        p += 2;
        group = e >> 2;
        acc = 0;
      }
      acc += digitAt(s, first, intDigits, fracStart, k) * POWERS[e & 3]!;
    }
    view.setInt16(p, acc);
    w.pos = p + 2;
  };
}

const POWERS = [1, 10, 100, 1000];

/** Significant digit `k` of a decimal's text: the integer digits at `first`, then the fraction's at `fracStart`. */
function digitAt(s: string, first: number, intDigits: number, fracStart: number, k: number): number {
  return s.charCodeAt(k < intDigits ? first + k : fracStart + k - intDigits) - 48;
}

/** A numeric field's length and header; its `count` base-10000 digits follow at `w.pos`. */
function writeNumericHead(w: ChunkWriter, sign: number, weight: number, dscale: number, count: number): void {
  fixed(w, 8 + 2 * count);
  const { view, pos } = w;
  view.setInt16(pos, count);
  view.setInt16(pos + 2, weight);
  view.setUint16(pos + 4, sign);
  view.setInt16(pos + 6, dscale);
  w.pos = pos + 8;
}

/** `numeric(18,4)` → 4; `numeric` → undefined. */
const NUMERIC_TYPE = /^numeric(?:\((\d+),(\d+)\))?$/;
const CHAR_TYPE = /^(?:text|character varying|varchar|character|bpchar|char)(?:\(\d+\))?$/;

/** Warehouse types with one binary encoder, and the logical type whose values it takes. */
const FIXED_TYPES: Record<string, [LogicalType, BinaryEncoder]> = {
  integer: ['int32', int32],
  bigint: ['int64', int64],
  'double precision': ['float64', float8],
  boolean: ['boolean', bool],
  date: ['date', date],
  time: ['time', time],
  timestamp: ['timestamp', timestamp],
  timestamptz: ['timestamptz', timestamp],
  bytea: ['bytes', bytea],
  uuid: ['uuid', uuid],
};

/** The encoder for a column's warehouse type and logical type, or undefined (text format then). */
function encoderFor(sqlType: string, type: LogicalType): BinaryEncoder | undefined {
  const numericType = NUMERIC_TYPE.exec(sqlType);
  if (numericType) return isDecimal(type) || type === 'string' ? numeric(numericType[2] !== undefined ? Number(numericType[2]) : undefined) : undefined;
  if (CHAR_TYPE.test(sqlType)) return type === 'string' ? text : undefined;
  if (sqlType === 'jsonb') return type === 'json' || type === 'string' ? jsonb : undefined;
  if (sqlType === 'json') return type === 'json' || type === 'string' ? text : undefined;
  const pair = FIXED_TYPES[sqlType];
  return pair && pair[0] === type ? pair[1] : undefined;
}

/**
 * Binary encoders for the columns, or undefined when one column's warehouse type (an `interval`, an
 * `inet`… given as text input) has no binary form here: that COPY uses the text format.
 */
export function binaryEncoders(columns: readonly Column[]): BinaryEncoder[] | undefined {
  const out: BinaryEncoder[] = [];
  for (const c of columns) {
    const e = encoderFor(columnSqlType(c).trim().toLowerCase(), c.type);
    if (!e) return undefined;
    out.push(e);
  }
  return out;
}

/**
 * The binary COPY rows of `rows` (no header or trailer) as chunks of about {@link COPY_CHUNK_BYTES};
 * as `copyTextChunks`, a value that cannot be written exactly throws `DATA.INVALID_RECORD` naming
 * the row (1-based in the batch) and column.
 */
export function* copyBinaryChunks(rows: readonly unknown[][], columns: readonly Column[], encoders: readonly BinaryEncoder[], table: string, onBytes: (n: number) => void): Generator<Buffer> {
  const width = columns.length;
  const w = new ChunkWriter();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== width) throw rowWidthError(table, r, row.length, width);
    w.ensure(2);
    w.view.setInt16(w.pos, width);
    w.pos += 2;
    for (let c = 0; c < width; c++) {
      const v = row[c];
      if (v === null || v === undefined) {
        w.ensure(4);
        w.view.setInt32(w.pos, -1);
        w.pos += 4;
        continue;
      }
      try {
        encoders[c]!(w, v);
      } catch (e) {
        throw invalidValue(e, table, r, columns[c]!);
      }
    }
    if (w.out.length) {
      for (const b of w.out) {
        onBytes(b.length);
        yield b;
      }
      w.out.length = 0;
    }
    if (w.pos >= COPY_CHUNK_BYTES) {
      const b = w.take();
      onBytes(b.length);
      yield b;
    }
  }
  if (w.pos > 0) {
    const b = w.take();
    onBytes(b.length);
    yield b;
  }
}
