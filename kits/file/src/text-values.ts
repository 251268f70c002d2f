/**
 * Text → exact logical values, and the classes inference sees in text. A parser returns `undefined`
 * when the text does not fit the type exactly (an impossible date, digits a decimal would round, a
 * number a double cannot hold as written): the value is then a bad record or widens the column,
 * never altered.
 */
import { civilFromDays, daysFromCivil } from '@datakit/core';

/** What a text looks like (inference). */
export type TextClass = 'bool' | 'int' | 'dec' | 'float' | 'date' | 'time' | 'ts' | 'tstz' | 'uuid' | 'json' | 'str';

const INT_RE = /^-?(?:0|[1-9]\d*)$/;
const DEC_RE = /^-?(0|[1-9]\d*)\.(\d+)$/;
const FLOAT_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?[eE][+-]?\d+$|^(?:-?Infinity|NaN)$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * The class of a text, and for numbers their digits before and after the point.
 * @example classifyText('-12.340') // { cls: 'dec', int: 2, scale: 3 }
 */
export function classifyText(s: string, json = false): { cls: TextClass; int?: number; scale?: number } {
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    if (INT_RE.test(s)) return { cls: 'int', int: s.length - (c === 45 ? 1 : 0) };
    const d = DEC_RE.exec(s);
    if (d) return { cls: 'dec', int: d[1]!.length, scale: d[2]!.length };
    if (FLOAT_RE.test(s)) return { cls: 'float' };
    if (parseDateText(s) !== undefined) return { cls: 'date' };
    const ts = TS_RE.exec(s);
    if (ts && parseTimestampText(s) !== undefined) return { cls: ts[8] ? 'tstz' : 'ts' };
    if (parseTimeText(s) !== undefined) return { cls: 'time' };
  }
  if (s.length === 36 && UUID_RE.test(s)) return { cls: 'uuid' };
  if (s === 'NaN' || s === 'Infinity') return { cls: 'float' };
  const lower = s.length <= 5 ? s.toLowerCase() : '';
  if (lower === 'true' || lower === 'false') return { cls: 'bool' };
  if (!json && (c === 123 || c === 91) && isJson(s)) return { cls: 'json' };
  return { cls: 'str' };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** `true`/`false` in any case. */
export function parseBool(s: string): boolean | undefined {
  if (s.length > 5) return undefined;
  const l = s.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

/** An int64 (no leading zeros, no `+`, within range). */
export function parseInt64(s: string): bigint | undefined {
  if (!INT_RE.test(s)) return undefined;
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? undefined : v;
}

/** An int32. */
export function parseInt32(s: string): number | undefined {
  if (s.length > 11 || !INT_RE.test(s)) return undefined;
  const v = Number(s);
  return v > 2147483647 || v < -2147483648 ? undefined : v;
}

/** The exact decimal text when it fits `decimal(p,s)` (digits beyond the scale must be zeros). */
export function parseDecimalText(s: string, p: number, scale: number): string | undefined {
  let intDigits: number;
  let frac = '';
  if (INT_RE.test(s)) intDigits = s.length - (s.charCodeAt(0) === 45 ? 1 : 0);
  else {
    const d = DEC_RE.exec(s);
    if (!d) return undefined;
    intDigits = d[1] === '0' ? 0 : d[1]!.length;
    frac = d[2]!;
  }
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) return undefined;
  if (intDigits > p - scale) return undefined;
  return s;
}

/** Sign, significant digits and exponent of a decimal number text (for exact comparisons). */
function normalized(s: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return undefined;
  const digits = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  if (!digits) return '0';
  const exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0) + (digits.length - digits.replace(/0+$/, '').length);
  return `${m[1]}${digits.replace(/0+$/, '')}e${exp}`;
}

/** A float64 — only when the double holds exactly the number the text writes (`0.1` does, as written). */
export function parseFloat64(s: string): number | undefined {
  if (s === 'NaN') return NaN;
  if (s === 'Infinity') return Infinity;
  if (s === '-Infinity') return -Infinity;
  if (!INT_RE.test(s) && !DEC_RE.test(s) && !FLOAT_RE.test(s)) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v)) return undefined;
  // the text a double prints for itself (the common case) is exact by definition
  if (String(v) === s) return v;
  // up to 15 significant digits every decimal text round-trips through a double
  const sig = s.replace(/[-.]|[eE].*$/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
  if (sig <= 15) return v;
  return normalized(String(v)) === normalized(s) ? v : undefined;
}

function validDate(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const days = daysFromCivil(y, m, d);
  const [, m2, d2] = civilFromDays(days);
  return m2 === m && d2 === d ? days : undefined;
}

let lastDate: [string, number | undefined] = ['', undefined];

/** `YYYY-MM-DD` → days since 1970-01-01 (impossible dates rejected). */
export function parseDateText(s: string): number | undefined {
  // files are often ordered by date: the same text many times in a row
  if (s === lastDate[0]) return lastDate[1];
  const m = DATE_RE.exec(s);
  const days = m ? validDate(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
  lastDate = [s, days];
  return days;
}

function fractionMicros(f: string | undefined): number | undefined {
  if (!f) return 0;
  if (f.length > 6 && /[1-9]/.test(f.slice(6))) return undefined;
  return Number(f.slice(0, 6).padEnd(6, '0'));
}

/** `HH:MM:SS[.ffffff]` → µs since midnight. */
export function parseTimeText(s: string): bigint | undefined {
  const m = TIME_RE.exec(s);
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const sec = Number(m[3]);
  const f = fractionMicros(m[4]);
  if (h > 23 || mi > 59 || sec > 59 || f === undefined) return undefined;
  return BigInt((h * 3600 + mi * 60 + sec) * 1_000_000 + f);
}

/**
 * ISO 8601 / PostgreSQL timestamp → µs since the epoch: wall clock without a zone, the UTC instant
 * with `Z` or an offset. Seconds may be omitted; more than 6 fractional digits must be zeros.
 */
export function parseTimestampText(s: string, zone?: 'require' | 'forbid'): bigint | undefined {
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  if ((zone === 'require' && !m[8]) || (zone === 'forbid' && m[8])) return undefined;
  const days = validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const sec = Number(m[6] ?? 0);
  const f = fractionMicros(m[7]);
  if (days === undefined || h > 23 || mi > 59 || sec > 59 || f === undefined) return undefined;
  let offset = 0;
  const z = m[8];
  if (z && z !== 'Z') {
    const digits = z.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4) || 0);
    if (oh > 15 || om > 59) return undefined;
    offset = (z[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
  // doubles hold µs exactly within ±285 years of 1970; beyond, compute in bigint
  if (Math.abs(secs) < 9e9) return BigInt(secs * 1_000_000 + f);
  return BigInt(secs) * 1_000_000n + BigInt(f);
}

/** A UUID in canonical lower case. */
export function parseUuid(s: string): string | undefined {
  if (s.length !== 36 || !UUID_RE.test(s)) return undefined;
  return /[A-F]/.test(s) ? s.toLowerCase() : s;
}

/** `\x00ff` hex text → bytes. */
export function parseBytes(s: string): Uint8Array | undefined {
  return /^\\x(?:[0-9a-fA-F]{2})*$/.test(s) ? Buffer.from(s.slice(2), 'hex') : undefined;
}
