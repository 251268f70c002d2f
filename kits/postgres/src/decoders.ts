/**
 * Field decoders for PostgreSQL's binary wire format (the `*send` functions), each turning the bytes
 * `buf[start, end)` of one non-NULL field into the exact JS value of its logical type (see
 * `LogicalType` in `@datakit/core`). They read the chunk in place and allocate only the result.
 *
 * Reference: `src/backend/utils/adt/*.c` (`int8send`, `numeric_send`, `timestamp_send`, `date_send`,
 * `uuid_send`, `jsonb_send`) in the PostgreSQL sources.
 */
import type { FieldDecoder } from './copy-decoder.js';

/** `Buffer.prototype.utf8Slice` exists since Node 0.x but is missing from `@types/node`; it skips `toString`'s argument juggling. */
interface SliceableBuffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const TWO_32 = 4294967296;
/** µs between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
const PG_EPOCH_US = 946_684_800_000_000;
/** Days between 1970-01-01 and 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

function int32At(buf: Buffer, p: number): number {
  return (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
}

function uint32At(buf: Buffer, p: number): number {
  return buf[p]! * 16777216 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}

/**
 * The int64 at `p` plus `add`, as a bigint. Results within ±(2^53-1) (every id below 9e15, every
 * timestamp between 1684 and 2255) take one `BigInt(number)`; the rest fall back to `readBigInt64BE`.
 */
function int64At(buf: Buffer, p: number, add: number): bigint {
  const hi = int32At(buf, p);
  if (hi < 2097152 && hi >= -2097152) {
    // exact: |hi·2^32 + lo| < 2^53, and a true sum beyond ±(2^53-1) never rounds back inside
    const v = hi * TWO_32 + uint32At(buf, p + 4) + add;
    if (v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) return BigInt(v);
  }
  return buf.readBigInt64BE(p) + BigInt(add);
}

/** `bool`: one byte. */
export const decodeBool: FieldDecoder = (buf, start) => buf[start] !== 0;
/** `int2` → number. */
export const decodeInt2: FieldDecoder = (buf, start) => (((buf[start]! << 24) | (buf[start + 1]! << 16)) >> 16);
/** `int4` → number. */
export const decodeInt4: FieldDecoder = (buf, start) => int32At(buf, start);
/** `int8` → bigint. */
export const decodeInt8: FieldDecoder = (buf, start) => int64At(buf, start, 0);
/** `oid` (unsigned 32-bit) → bigint. */
export const decodeOid: FieldDecoder = (buf, start) => BigInt(uint32At(buf, start));
/** `float4` → the float32 widened exactly to a double (0.1::float4 → 0.10000000149011612). */
export const decodeFloat4: FieldDecoder = (buf, start) => buf.readFloatBE(start);
/** `float8` → number (NaN, ±Infinity, -0 kept). */
export const decodeFloat8: FieldDecoder = (buf, start) => buf.readDoubleBE(start);
/** Any text-like type (`text`, `varchar`, `bpchar`, `name`, `json`, enums, `…::text` casts): UTF-8. */
export const decodeText: FieldDecoder = (buf, start, end) => (buf as unknown as SliceableBuffer).utf8Slice(start, end);
/** `bytea` → a Buffer of its own (never a view that would pin the whole chunk). */
export const decodeBytea: FieldDecoder = (buf, start, end) => Buffer.copyBytesFrom(buf, start, end - start);

/** `jsonb`: a version byte (1) then the JSON text. */
export const decodeJsonb: FieldDecoder = (buf, start, end) => {
  if (buf[start] !== 1) throw new Error(`unsupported jsonb binary format version ${buf[start]}`);
  return (buf as unknown as SliceableBuffer).utf8Slice(start + 1, end);
};

/** `date`: days since 2000-01-01 as int32; ±infinity are int32 max/min, the same as core's sentinels. */
export const decodeDate: FieldDecoder = (buf, start) => {
  const d = int32At(buf, start);
  return d === INT32_MAX || d === INT32_MIN ? d : d + PG_EPOCH_DAYS;
};

/** `time`: µs since midnight → bigint. */
export const decodeTime: FieldDecoder = (buf, start) => int64At(buf, start, 0);

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * `timestamp` and `timestamptz`: µs since 2000-01-01 (UTC for timestamptz) → µs since 1970-01-01.
 * ±infinity are int64 max/min, the same values as core's `TIMESTAMP_POS/NEG_INFINITY`.
 */
export const decodeTimestamp: FieldDecoder = (buf, start) => {
  if (buf[start] === 0x7f || buf[start] === 0x80) {
    const v = buf.readBigInt64BE(start);
    if (v === INT64_MAX || v === INT64_MIN) return v;
  }
  return int64At(buf, start, PG_EPOCH_US);
};

/** The two lower-case hex char codes of each byte value. */
const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) HEX_CODES.set(Buffer.from(i.toString(16).padStart(2, '0'), 'latin1'), 2 * i);
const uuidScratch = Buffer.alloc(36);

/**
 * `uuid`: 16 bytes → canonical lower-case `8-4-4-4-12`, as one flat string: spelled into a scratch
 * buffer and sliced once (joining 21 pieces leaves a tree of 20 strings to walk and collect).
 */
export const decodeUuid: FieldDecoder = (buf, s) => {
  const out = uuidScratch;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
    const b = 2 * buf[s + i]!;
    out[o++] = HEX_CODES[b]!;
    out[o++] = HEX_CODES[b + 1]!;
  }
  return (out as unknown as SliceableBuffer).latin1Slice(0, 36);
};

const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

/**
 * `numeric` → its exact decimal string in plain notation with exactly `dscale` fractional digits,
 * as `numeric_out` prints it (`0.0000`, `-12.3400`, `100000000000000000000.5`), or `NaN`,
 * `Infinity`, `-Infinity`.
 *
 * Wire format: int16 ndigits, int16 weight (base-10000 exponent of the first digit), uint16 sign,
 * uint16 dscale, then ndigits base-10000 digits (int16 each).
 */
export const decodeNumeric: FieldDecoder = (buf, start) => {
  const ndigits = (buf[start]! << 8) | buf[start + 1]!;
  const weight = (((buf[start + 2]! << 24) | (buf[start + 3]! << 16)) >> 16);
  const sign = (buf[start + 4]! << 8) | buf[start + 5]!;
  const dscale = ((buf[start + 6]! << 8) | buf[start + 7]!) & 0x3fff;
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if (sign !== 0 && sign !== NUMERIC_NEG) throw new Error(`invalid numeric sign 0x${sign.toString(16)}`);
  const d0 = start + 8;
  const digit = (i: number): number => (i >= 0 && i < ndigits ? (buf[d0 + 2 * i]! << 8) | buf[d0 + 2 * i + 1]! : 0);
  // spelled into a scratch buffer and sliced once: one flat string (concatenated pieces leave a
  // tree of strings that every later reader walks)
  const need = 2 + (weight >= 0 ? 4 * (weight + 1) : 1) + 1 + dscale + 4;
  if (numericScratch.length < need) numericScratch = Buffer.alloc(Math.max(need, 2 * numericScratch.length));
  const out = numericScratch;
  let o = 0;
  if (sign === NUMERIC_NEG && ndigits > 0) out[o++] = 0x2d;
  if (weight < 0 || ndigits === 0) out[o++] = 0x30;
  else {
    // the first base-10000 digit is printed without leading zeros, the others padded to 4
    const d = digit(0);
    if (d >= 1000) out[o++] = 0x30 + ((d / 1000) | 0);
    if (d >= 100) out[o++] = 0x30 + (((d / 100) | 0) % 10);
    if (d >= 10) out[o++] = 0x30 + (((d / 10) | 0) % 10);
    out[o++] = 0x30 + (d % 10);
    for (let i = 1; i <= weight; i++) o = put4(out, o, digit(i));
  }
  if (dscale > 0) {
    out[o++] = 0x2e;
    // fraction digit groups: index weight+1 …; groups before the first stored digit are zeros
    const end = o + dscale;
    for (let i = weight + 1; o < end; i++) o = put4(out, o, digit(i));
    o = end;
  }
  return (out as unknown as SliceableBuffer).latin1Slice(0, o);
};

let numericScratch = Buffer.alloc(256);

/** The 4 zero-padded digits of 0…9999 at `o`; returns the next position. */
function put4(out: Buffer, o: number, d: number): number {
  out[o] = 0x30 + ((d / 1000) | 0);
  out[o + 1] = 0x30 + (((d / 100) | 0) % 10);
  out[o + 2] = 0x30 + (((d / 10) | 0) % 10);
  out[o + 3] = 0x30 + (d % 10);
  return o + 4;
}
