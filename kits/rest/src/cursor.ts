/**
 * Cursor values: comparing them (numbers exactly, timestamps as instants, else as text), formatting
 * them for the API, and the date arithmetic of lookbacks and windows (durations in ISO 8601 or
 * `7d`/`12h` form; months and years step by calendar).
 */
import { parseTimestamp } from '@datakit/core';
import { canonicalDecimal } from './json.js';

/** A parsed duration: calendar months plus a fixed number of microseconds. */
export interface Duration {
  months: number;
  micros: bigint;
}

const US = { s: 1_000_000n, m: 60_000_000n, h: 3_600_000_000n, d: 86_400_000_000n, w: 604_800_000_000n } as const;

/** Parse `P1DT2H`, `P1M`, `PT30M`, `7d`, `12h`, `30m`, `45s`. */
export function parseDuration(text: string): Duration {
  const short = /^(\d+)([wdhms])$/.exec(text);
  if (short) return { months: 0, micros: BigInt(short[1]!) * US[short[2] as keyof typeof US] };
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!m) throw new RangeError(`not a duration: ${text}`);
  const n = (i: number): bigint => BigInt(m[i] ?? 0);
  return { months: Number(n(1)) * 12 + Number(n(2)), micros: n(3) * US.w + n(4) * US.d + n(5) * US.h + n(6) * US.m + n(7) * US.s };
}

/** `us` plus (`sign` 1) or minus (`sign` -1) a duration. */
export function addDuration(us: bigint, d: Duration, sign: 1 | -1 = 1): bigint {
  let out = us;
  if (d.months) {
    const ms = Number(out / 1000n);
    const rest = out - BigInt(ms) * 1000n;
    const date = new Date(ms);
    date.setUTCMonth(date.getUTCMonth() + sign * d.months);
    out = BigInt(date.getTime()) * 1000n + rest;
  }
  return out + BigInt(sign) * d.micros;
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const ZONED = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Microseconds since epoch of a timestamp text (zone-less values are read as UTC), or undefined. */
export function instantOf(text: string): bigint | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  try {
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return parseTimestamp(`${t} 00:00:00Z`);
    return parseTimestamp(ZONED.test(t) ? t : `${t}Z`);
  } catch {
    return undefined;
  }
}

function compareDecimal(a: string, b: string): number {
  const [ca, cb] = [canonicalDecimal(a), canonicalDecimal(b)];
  const neg = (s: string): boolean => s.startsWith('-');
  if (neg(ca) !== neg(cb)) return neg(ca) ? -1 : 1;
  const abs = (s: string): [string, string] => {
    const [i, f = ''] = (neg(s) ? s.slice(1) : s).split('.');
    return [i!, f];
  };
  const [ia, fa] = abs(ca);
  const [ib, fb] = abs(cb);
  let c = ia.length - ib.length || (ia < ib ? -1 : ia > ib ? 1 : 0);
  if (!c) {
    const w = Math.max(fa.length, fb.length);
    const [pa, pb] = [fa.padEnd(w, '0'), fb.padEnd(w, '0')];
    c = pa < pb ? -1 : pa > pb ? 1 : 0;
  }
  return neg(ca) ? -c : c;
}

/** Order of two cursor values: numbers exactly, timestamps as instants, anything else as text. */
export function compareCursor(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Math.sign(compareDecimal(a, b));
  const ia = instantOf(a);
  const ib = instantOf(b);
  if (ia !== undefined && ib !== undefined) return ia < ib ? -1 : ia > ib ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The instant of a cursor value under a format (`epoch_seconds` and `epoch_millis` read numbers). */
export function cursorInstant(value: string, format: string): bigint | undefined {
  if (NUMERIC.test(value)) {
    if (!/^-?\d+(\.\d+)?$/.test(value)) return undefined;
    const [i, f = ''] = value.split('.');
    if (format === 'epoch_millis') return BigInt(i!) * 1000n + BigInt((f + '000').slice(0, 3));
    if (format === 'epoch_seconds') return BigInt(i!) * 1_000_000n + BigInt((f + '000000').slice(0, 6));
    return undefined;
  }
  return instantOf(value);
}

const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');

function parts(us: bigint): { Y: string; m: string; d: string; H: string; M: string; S: string; f: string; L: string } {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const d = new Date(Number(ms));
  const micros = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return {
    Y: pad(d.getUTCFullYear(), 4),
    m: pad(d.getUTCMonth() + 1),
    d: pad(d.getUTCDate()),
    H: pad(d.getUTCHours()),
    M: pad(d.getUTCMinutes()),
    S: pad(d.getUTCSeconds()),
    f: pad(micros, 6),
    L: pad(micros / 1000n, 3),
  };
}

/** ISO 8601 in UTC with the fraction only when non-zero: `2024-05-01T10:00:00Z`, `…:00.5Z`. */
export function isoOf(us: bigint): string {
  const p = parts(us);
  const frac = p.f === '000000' ? '' : `.${p.f.replace(/0+$/, '')}`;
  return `${p.Y}-${p.m}-${p.d}T${p.H}:${p.M}:${p.S}${frac}Z`;
}

/**
 * An instant as the API wants it: `iso8601` (default for `raw`), `iso8601_ms`, `epoch_seconds`,
 * `epoch_millis`, `date`, or a strftime pattern (`%Y %m %d %H %M %S %f %L %z %%`).
 */
export function formatInstant(us: bigint, format: string): string {
  switch (format) {
    case 'raw':
    case 'iso8601':
      return isoOf(us);
    case 'iso8601_ms': {
      const p = parts(us);
      return `${p.Y}-${p.m}-${p.d}T${p.H}:${p.M}:${p.S}.${p.L}Z`;
    }
    case 'epoch_seconds':
      return String(us / 1_000_000n - (us % 1_000_000n < 0n ? 1n : 0n));
    case 'epoch_millis':
      return String(us / 1000n - (us % 1000n < 0n ? 1n : 0n));
    case 'date': {
      const p = parts(us);
      return `${p.Y}-${p.m}-${p.d}`;
    }
    default: {
      const p = parts(us);
      return format.replace(/%([YmdHMSfLz%])/g, (_m, c: string) => (c === '%' ? '%' : c === 'z' ? '+0000' : p[c as keyof typeof p]));
    }
  }
}

/**
 * The value to send for a stored cursor: as stored when the format is `raw` and there is no
 * lookback, else its instant (minus the lookback) in the format.
 */
export function cursorParam(value: string, format: string, lookback?: Duration): string {
  if (format === 'raw' && !lookback) return value;
  const us = cursorInstant(value, format === 'raw' ? 'epoch_seconds' : format) ?? instantOf(value);
  if (us === undefined) {
    if (!lookback && NUMERIC.test(value)) return value;
    throw new RangeError(`cursor value ${JSON.stringify(value)} is not a timestamp, so format ${format}${lookback ? ' and lookback' : ''} cannot apply`);
  }
  const from = lookback ? addDuration(us, lookback, -1) : us;
  if (format === 'raw') return NUMERIC.test(value) ? formatInstant(from, 'epoch_seconds') : isoOf(from);
  return formatInstant(from, format);
}
