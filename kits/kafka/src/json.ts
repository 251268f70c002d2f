/**
 * Exact JSON text for values that have no JSON form of their own: decoded Avro values (int64 as a
 * JSON number with every digit, bytes as base64) and Kafka record headers.
 */
import { isUtf8 } from 'node:buffer';

const BIGINT_MARK = '\u0000bigint:';
const BIGINT_RE = /"\\u0000bigint:(-?\d+)"/g;

function replacer(this: Record<string, unknown>, key: string, v: unknown): unknown {
  // `this[key]` is the value before `toJSON` (a Buffer's toJSON would give {type, data})
  const orig = this[key];
  if (orig instanceof Uint8Array) return Buffer.from(orig.buffer, orig.byteOffset, orig.byteLength).toString('base64');
  if (typeof v === 'bigint') return `${BIGINT_MARK}${v.toString()}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // NaN, Infinity: JSON has none
  return v;
}

/**
 * JSON text of a decoded value: bigint as an exact JSON number, bytes as a base64 string, NaN and
 * ±Infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
 * @example exactJson({ id: 9007199254740993n, raw: Buffer.from([1]) }) // '{"id":9007199254740993,"raw":"AQ=="}'
 */
export function exactJson(value: unknown): string {
  const text = JSON.stringify(value, replacer);
  return text.includes(BIGINT_MARK.slice(1)) ? text.replace(BIGINT_RE, '$1') : text;
}

/** A Kafka header value as kafkajs decodes it. */
export type HeaderValue = Buffer | null | (Buffer | null)[];

const EMPTY = '[]';

/**
 * `_kafka_headers`: a JSON array of `{"key": …, "value": …}` in the record's order (kafkajs groups
 * repeated keys; their values keep their order). A value that is not UTF-8 is given as
 * `{"key": …, "base64": …}`; a null value as `"value": null`.
 * @example headersJson({ trace: Buffer.from('abc') }) // '[{"key":"trace","value":"abc"}]'
 */
export function headersJson(headers: Record<string, HeaderValue> | undefined): string {
  if (!headers) return EMPTY;
  const out: ({ key: string; value: string | null } | { key: string; base64: string })[] = [];
  for (const key of Object.keys(headers)) {
    const v = headers[key];
    for (const b of Array.isArray(v) ? v : [v]) {
      if (b === null || b === undefined) out.push({ key, value: null });
      else if (isUtf8(b)) out.push({ key, value: b.toString('utf8') });
      else out.push({ key, base64: b.toString('base64') });
    }
  }
  return out.length ? JSON.stringify(out) : EMPTY;
}
