/**
 * JSON values → logical types. A column's type is declared in the definition (`columns:`) or inferred
 * from the first non-null value of the field; a later value that does not fit that type exactly is
 * never altered: it lands, as its exact JSON text, in a variant column `<field>__v_json` appended to
 * the stream, and the typed column is null in that row.
 *
 * | JSON value                                  | inferred type | bronze value                          |
 * |---------------------------------------------|---------------|---------------------------------------|
 * | integer within int64 (`42`, `2^63-1`)       | `int64`       | `bigint`, exact                        |
 * | other number (`12.50`, `1e3`, `2^64`)       | `json`        | the number's exact source text         |
 * | `true` / `false`                            | `boolean`     | boolean                               |
 * | string                                      | `string`      | string                                |
 * | object, array                               | `json`        | compact JSON text, numbers exact       |
 * | `null` or absent                            | (no column until a non-null value appears) | null |
 */
import { decimalFromUnscaled, decimalToUnscaled, parseDate, parseTimestamp, type LogicalType } from '@datakit/core';
import { canonicalDecimal, isRawNumber, numberText, type JsonValue } from './json.js';

/** A column type of the rest kit, as written in definitions and checkpoints. */
export type RestType = string;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const ZONE_RE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** The logical type of a rest type (`decimal(18,2)` → `{ decimal: [18, 2] }`). */
export function logicalType(t: RestType): LogicalType {
  const m = /^decimal\((\d+),(\d+)\)$/.exec(t);
  if (m) return { decimal: [Number(m[1]), Number(m[2])] };
  return t as LogicalType;
}

/** The JSON kind of a value, as the column's `sourceType` (`json:integer`, `json:object`…). */
export function jsonKind(v: JsonValue): string {
  if (v === null) return 'json:null';
  if (typeof v === 'number' || isRawNumber(v)) return /^-?\d+$/.test(numberText(v)) ? 'json:integer' : 'json:number';
  if (Array.isArray(v)) return 'json:array';
  return `json:${typeof v}`;
}

function int64Of(v: JsonValue): bigint | undefined {
  if (typeof v !== 'number' && !isRawNumber(v)) return undefined;
  const text = numberText(v);
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

/** The type a first non-null value gives its column. */
export function inferType(v: JsonValue): RestType {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (int64Of(v) !== undefined) return 'int64';
  return 'json';
}

/** Marker: the value does not fit the type exactly. */
export const MISFIT = Symbol('misfit');

function decimalOf(v: JsonValue, precision: number, scale: number): string | typeof MISFIT {
  const text = typeof v === 'string' ? v.trim() : typeof v === 'number' || isRawNumber(v) ? numberText(v) : undefined;
  if (text === undefined || !/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return MISFIT;
  try {
    const unscaled = decimalToUnscaled(canonicalDecimal(text), scale);
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
    return digits > precision ? MISFIT : decimalFromUnscaled(unscaled, scale);
  } catch {
    return MISFIT;
  }
}

/**
 * The bronze value of a non-null JSON value in a column of type `t`, or {@link MISFIT} when it would
 * not be exact. Declared `string` columns also take numbers (their exact text) and booleans.
 */
export function convert(t: RestType, v: JsonValue, declared: boolean): unknown {
  switch (t) {
    case 'json':
      return JSON.stringify(v);
    case 'string':
      if (typeof v === 'string') return v;
      if (!declared) return MISFIT;
      if (typeof v === 'number' || isRawNumber(v)) return numberText(v);
      return typeof v === 'boolean' ? String(v) : MISFIT;
    case 'int64':
      return int64Of(v) ?? MISFIT;
    case 'boolean':
      return typeof v === 'boolean' ? v : MISFIT;
    case 'float64': {
      if (typeof v === 'number') return v;
      if (!isRawNumber(v)) return MISFIT;
      const n = Number(v.rawJSON);
      return Number.isFinite(n) && canonicalDecimal(String(n)) === canonicalDecimal(v.rawJSON) ? n : MISFIT;
    }
    case 'timestamptz':
    case 'timestamp': {
      if (typeof v !== 'string' || ZONE_RE.test(v.trim()) !== (t === 'timestamptz')) return MISFIT;
      try {
        return parseTimestamp(v.trim());
      } catch {
        return MISFIT;
      }
    }
    case 'date':
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return MISFIT;
      return parseDate(v);
    default: {
      const m = /^decimal\((\d+),(\d+)\)$/.exec(t);
      return m ? decimalOf(v, Number(m[1]), Number(m[2])) : MISFIT;
    }
  }
}

/**
 * Every column type the type map converts (what a definition may declare; `decimal` stands for
 * every `decimal(p,s)`). Inferred columns use four of them: `int64`, `boolean`, `string` and `json`.
 */
export const MAPPED_TYPES = ['string', 'int64', 'float64', 'boolean', 'json', 'timestamptz', 'timestamp', 'date', 'decimal'] as const;

/** The {@link MAPPED_TYPES} entry of a rest type: `decimal(12,2)` → `decimal`. */
export function mappedTypeKey(t: RestType): string {
  return t.replace(/\(.*$/, '');
}
