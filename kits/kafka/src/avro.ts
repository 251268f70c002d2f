/**
 * Avro → exact bronze values and columns. avsc decodes `long` as a JS number (lossy beyond 2^53) and
 * ignores logical types it is not given; a `typeHook` (passed through the schema registry client)
 * makes `long` a bigint and turns the logical types into values of the logical types core expects:
 *
 * | Avro                                         | column        | value                        |
 * |----------------------------------------------|---------------|------------------------------|
 * | boolean / int / long / float, double         | boolean / int32 / int64 / float64 | as is, long as bigint |
 * | string, enum / bytes, fixed                  | string / bytes |                             |
 * | decimal(p,s) on bytes or fixed               | decimal(p,s)  | exact string                 |
 * | date / time-millis, time-micros              | date / time   | days / µs (bigint)           |
 * | timestamp-millis, timestamp-micros           | timestamptz   | µs since epoch (bigint)      |
 * | local-timestamp-millis, local-timestamp-micros | timestamp   | µs wall clock (bigint)       |
 * | uuid                                         | uuid          | lower-case string            |
 * | record, array, map, other unions             | json          | exact JSON text              |
 * | `["null", X]`                                | X, nullable   |                              |
 */
import avro from 'avsc';
import type { LogicalType } from '@datakit/core';
import { decimalFromUnscaled, decimalToUnscaled } from '@datakit/core';
import { AVRO_LOGICAL_TYPES, AVRO_TYPES } from './type-map.js';

type Schema = string | { type?: unknown; logicalType?: unknown; precision?: unknown; scale?: unknown; size?: unknown };

/** `long` as bigint (avsc's recipe for 64-bit longs). */
const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: number | string) => BigInt(v),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

interface LogicalSpec {
  underlying: string[];
  fromValue(v: unknown, self: ExactLogical): unknown;
  toValue(v: unknown, self: ExactLogical): unknown;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const id = (v: unknown): unknown => v;
const big = (v: unknown): bigint => BigInt(v as number | bigint);

function unscaledOf(buf: Buffer): bigint {
  if (!buf.length) return 0n;
  let n = BigInt.asIntN(8, BigInt(buf[0]!));
  for (let i = 1; i < buf.length; i++) n = (n << 8n) | BigInt(buf[i]!);
  return n;
}

/** Big-endian two's complement of `n` in `size` bytes (fixed), or in as few bytes as it needs. */
function bytesOf(n: bigint, size?: number): Buffer {
  let len = size ?? 1;
  while (!size && (n >= 1n << BigInt(8 * len - 1) || n < -(1n << BigInt(8 * len - 1)))) len++;
  const out = Buffer.alloc(len);
  let v = BigInt.asUintN(len * 8, n);
  for (let i = len - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

const LOGICAL: Record<string, LogicalSpec> = {
  decimal: {
    underlying: ['bytes', 'fixed'],
    fromValue: (v, self) => decimalFromUnscaled(unscaledOf(v as Buffer), self.scale),
    toValue: (v, self) => bytesOf(decimalToUnscaled(String(v), self.scale), self.size),
  },
  date: { underlying: ['int'], fromValue: id, toValue: id },
  'time-millis': { underlying: ['int'], fromValue: (v) => big(v) * 1000n, toValue: (v) => Number(big(v) / 1000n) },
  'time-micros': { underlying: ['long'], fromValue: big, toValue: big },
  'timestamp-millis': { underlying: ['long'], fromValue: (v) => big(v) * 1000n, toValue: (v) => big(v) / 1000n },
  'timestamp-micros': { underlying: ['long'], fromValue: big, toValue: big },
  'local-timestamp-millis': { underlying: ['long'], fromValue: (v) => big(v) * 1000n, toValue: (v) => big(v) / 1000n },
  'local-timestamp-micros': { underlying: ['long'], fromValue: big, toValue: big },
  uuid: {
    underlying: ['string'],
    fromValue: (v) => {
      if (typeof v !== 'string' || !UUID_RE.test(v)) throw new Error('a uuid field holds a string that is not a UUID');
      return v.toLowerCase();
    },
    toValue: id,
  },
};

/** A logical type decoded into core's exact value forms. */
export class ExactLogical extends avro.types.LogicalType {
  readonly spec: LogicalSpec;
  readonly column: LogicalType;
  readonly scale: number;
  readonly size: number | undefined;
  constructor(schema: Exclude<Schema, string>, opts: object) {
    super(schema as avro.Schema, opts);
    this.spec = LOGICAL[String(schema.logicalType)]!;
    const t = AVRO_LOGICAL_TYPES[String(schema.logicalType)]!;
    this.column = t === 'decimal' ? { decimal: [Number(schema.precision), Number(schema.scale ?? 0)] } : t;
    this.scale = Number(schema.scale ?? 0);
    this.size = typeof schema.size === 'number' ? schema.size : undefined;
  }
  protected override _fromValue(v: unknown): unknown {
    return this.spec.fromValue(v, this);
  }
  protected override _toValue(v: unknown): unknown {
    return this.spec.toValue(v, this);
  }
  protected override _resolve(type: avro.Type): ((v: unknown) => unknown) | undefined {
    return type instanceof ExactLogical && type.spec === this.spec ? (v) => v : undefined;
  }
}

const building = new Set<object>();

/**
 * The avsc `typeHook` that makes longs bigint and logical types exact (pass it as the registry
 * client's Avro option, or to `Type.forSchema`).
 */
export function exactTypeHook(schema: Schema, opts: object): avro.Type | undefined {
  if (schema === 'long') return BIGINT_LONG;
  if (typeof schema !== 'object' || schema === null) return undefined;
  const under = typeof schema.type === 'string' ? schema.type : undefined;
  if (building.has(schema)) return under === 'long' ? BIGINT_LONG : undefined; // the logical type's underlying type
  const spec = typeof schema.logicalType === 'string' ? LOGICAL[schema.logicalType] : undefined;
  if (spec && under && spec.underlying.includes(under) && (schema.logicalType !== 'decimal' || Number.isInteger(Number(schema.precision)))) {
    building.add(schema);
    try {
      return new ExactLogical(schema, opts);
    } finally {
      building.delete(schema);
    }
  }
  if (under === 'long') return BIGINT_LONG;
  return undefined;
}

/** An avsc type for a schema with exact values (tests and tools). */
export function exactType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { typeHook: exactTypeHook as never });
}

function branches(t: avro.Type): avro.Type[] | undefined {
  return t.typeName.startsWith('union') ? (t as unknown as { types: avro.Type[] }).types : undefined;
}

/** The column type and source type name of an Avro type (`undefined` for `null`). */
export function columnTypeOf(t: avro.Type): { type: LogicalType; sourceType: string } | undefined {
  const union = branches(t);
  if (union) {
    const nonNull = union.filter((b) => b.typeName !== 'null');
    if (nonNull.length === 1) return columnTypeOf(nonNull[0]!);
    return nonNull.length ? { type: AVRO_TYPES.union!, sourceType: `union<${union.map((b) => b.typeName.replace(/^(abstract|logical):/, '')).join(',')}>` } : undefined;
  }
  if (t instanceof ExactLogical) return { type: t.column, sourceType: t.typeName.replace(/^logical:/, '') };
  const name = t.typeName.replace(/^abstract:/, '');
  if (name === 'null') return undefined;
  return { type: AVRO_TYPES[name] ?? 'json', sourceType: name };
}

/** The fields of a record type (`undefined` for any other type). */
export function recordFields(t: avro.Type): { name: string; type: avro.Type }[] | undefined {
  return t.typeName === 'record' || t.typeName === 'error' ? (t as avro.types.RecordType).fields : undefined;
}
