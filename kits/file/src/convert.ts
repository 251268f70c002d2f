/**
 * Raw values → the stream's logical values. A value that does not fit its column exactly is a
 * {@link Misfit} (the record then follows the bad-record policy); nothing is rounded, truncated or
 * re-interpreted on the way.
 */
import { isDecimal, typeName, type Column, type LogicalType } from '@datakit/core';
import { JsonNumber, JsonText } from './formats/json-scan.js';
import { Unrepresentable } from './formats/parquet.js';
import type { ValueKind } from './formats/types.js';
import { widenTyped } from './infer.js';
import {
  parseBool,
  parseBytes,
  parseDateText,
  parseDecimalText,
  parseFloat64,
  parseInt32,
  parseInt64,
  parseTimestampText,
  parseTimeText,
  parseUuid,
} from './text-values.js';

/** Why a value cannot land in its column. */
export class Misfit {
  constructor(readonly reason: string) {}
}

/** A value → its logical form (or a Misfit). */
export type Convert = (v: unknown) => unknown;

/** Text → one logical type (undefined: does not fit). */
function textParser(t: LogicalType): (s: string) => unknown {
  if (isDecimal(t)) {
    const [p, s] = t.decimal;
    return (x) => parseDecimalText(x, p, s);
  }
  switch (t) {
    case 'string':
      return (x) => x;
    case 'int64':
      return parseInt64;
    case 'int32':
      return parseInt32;
    case 'float64':
      return parseFloat64;
    case 'boolean':
      return parseBool;
    case 'date':
      return parseDateText;
    case 'time':
      return parseTimeText;
    case 'timestamp':
      return (x) => parseTimestampText(x, 'forbid');
    case 'timestamptz':
      return (x) => parseTimestampText(x, 'require');
    case 'uuid':
      return parseUuid;
    case 'json':
      return (x) => {
        try {
          JSON.parse(x);
          return x;
        } catch {
          return undefined;
        }
      };
    case 'bytes':
      return parseBytes;
  }
}

/** CSV text → column type. `isNull` says which texts are NULL. */
export function textConverter(column: Column, isNull: (s: string) => boolean): Convert {
  const parse = textParser(column.type);
  const want = typeName(column.type);
  return (v) => {
    const s = v as string;
    if (isNull(s)) return null;
    const out = parse(s);
    return out === undefined ? new Misfit(`not a valid ${want}`) : out;
  };
}

/** JSON value → column type. */
export function jsonConverter(column: Column): Convert {
  const t = column.type;
  const parse = textParser(t);
  const want = typeName(t);
  const kindOf = (v: unknown): string => (v instanceof JsonNumber ? 'a number' : v instanceof JsonText ? (v.text.startsWith('[') ? 'an array' : 'an object') : typeof v === 'boolean' ? 'a boolean' : 'a string');
  if (t === 'json') {
    return (v) => {
      if (v === null || v === undefined) return null;
      if (v instanceof JsonNumber || v instanceof JsonText) return v.text;
      return JSON.stringify(v);
    };
  }
  const numeric = t === 'int64' || t === 'int32' || t === 'float64' || isDecimal(t);
  return (v) => {
    if (v === null || v === undefined) return null;
    if (t === 'boolean') return typeof v === 'boolean' ? v : new Misfit(`expected a boolean, got ${kindOf(v)}`);
    const fits = numeric ? v instanceof JsonNumber : typeof v === 'string';
    if (!fits) return new Misfit(`expected ${numeric ? 'a number' : 'a string'} for ${want}, got ${kindOf(v)}`);
    const s = v instanceof JsonNumber ? v.text : (v as string);
    const out = parse(s);
    return out === undefined ? new Misfit(`not a valid ${want}`) : out;
  };
}

/** Parquet value of type `from` → column type. */
export function typedConverter(column: Column, from: LogicalType): Convert {
  const to = column.type;
  const a = typeName(from);
  const b = typeName(to);
  const check = (v: unknown): unknown => (v instanceof Unrepresentable ? new Misfit(v.reason) : v);
  if (a === b) return check;
  if (to === 'int64' && from === 'int32') return (v) => (v === null ? null : BigInt(v as number));
  if (isDecimal(to) && (from === 'int32' || from === 'int64' || isDecimal(from)) && widenTyped(from, to) && typeName(widenTyped(from, to)!) === b) {
    return (v) => (v === null ? null : String(v));
  }
  if (to === 'json') {
    return (v) => {
      if (v === null) return null;
      if (v instanceof Unrepresentable) return new Misfit(v.reason);
      if (typeof v === 'string' && from === 'json') return v;
      if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
      return JSON.stringify(v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v);
    };
  }
  return (v) => (v === null ? null : new Misfit(`the file's column is ${a}, the stream's is ${b}`));
}

/** The converter of a column for values of a file read as `kind` (typed: the field's own type). */
export function converterFor(column: Column, kind: ValueKind, isNull: (s: string) => boolean, fieldType?: LogicalType): Convert {
  if (kind === 'text') return textConverter(column, isNull);
  if (kind === 'json') return jsonConverter(column);
  return typedConverter(column, fieldType ?? column.type);
}

/** The type of a column that appears after discovery (schema evolution). */
export function evolvedType(kind: ValueKind, fieldType: LogicalType | undefined, override: LogicalType | undefined): LogicalType {
  return override ?? (kind === 'typed' ? fieldType! : kind === 'json' ? 'json' : 'string');
}
