/**
 * Exact conversions between the logical value forms (see {@link LogicalType}) and text.
 *
 * Dates are days since 1970-01-01, times and timestamps microseconds (bigint). The text forms are
 * PostgreSQL's ISO output (`2024-01-02 03:04:05.123456+00`, `0044-03-15 BC`), which is also what the
 * warehouse writer feeds to `COPY`. Calendar arithmetic is proleptic Gregorian, integer-only
 * (H. Hinnant's `days_from_civil`), so every date PostgreSQL accepts round-trips.
 */
import {
  DATE_NEG_INFINITY,
  DATE_POS_INFINITY,
  TIMESTAMP_NEG_INFINITY,
  TIMESTAMP_POS_INFINITY,
} from './types.js';

const US_PER_DAY = 86_400_000_000n;
const US_PER_DAY_N = 86_400_000_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Days since 1970-01-01 of a proleptic Gregorian (astronomical) year/month/day. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Astronomical year/month/day of days since 1970-01-01. */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [y + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
/** Two digits of 0…99 (the hot path of every date and time). */
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** The last day formatted: consecutive rows mostly fall on the same day. */
let lastDays = NaN;
let lastYmd = '';

function formatYmd(days: number): string {
  if (days === lastDays) return lastYmd;
  const [y, m, d] = civilFromDays(days);
  // PostgreSQL prints year 0 as 0001 BC, -1 as 0002 BC
  const ymd = y <= 0 ? `${pad(1 - y, 4)}-${pad2(m)}-${pad2(d)} BC` : `${y >= 1000 ? y : pad(y, 4)}-${pad2(m)}-${pad2(d)}`;
  lastDays = days;
  lastYmd = ymd;
  return ymd;
}

/** `2024-01-31`, `0044-03-15 BC`, `infinity`, `-infinity`. */
export function formatDate(days: number): string {
  if (days === DATE_POS_INFINITY) return 'infinity';
  if (days === DATE_NEG_INFINITY) return '-infinity';
  return formatYmd(days);
}

const DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;

/** Parse `YYYY-MM-DD` (optionally ` BC`) or `±infinity` to days since epoch. */
export function parseDate(text: string): number {
  if (text === 'infinity') return DATE_POS_INFINITY;
  if (text === '-infinity') return DATE_NEG_INFINITY;
  const m = DATE_RE.exec(text);
  if (!m) throw new RangeError(`not a date: ${JSON.stringify(text)}`);
  let y = Number(m[1]);
  if (m[4]) y = 1 - y;
  return daysFromCivil(y, Number(m[2]), Number(m[3]));
}

/** `.123456` → trailing zeros dropped (`.12`), or nothing for 0; `us` is 0…999999. */
function formatFraction(us: number): string {
  if (us === 0) return '';
  let digits = 6;
  while (us % 10 === 0) {
    us /= 10;
    digits--;
  }
  const s = `${us}`;
  return s.length === digits ? `.${s}` : `.${'0'.repeat(digits - s.length)}${s}`;
}

/** `13:45:07.123456` from microseconds since midnight, a number below 2^53. */
function formatTimeOfDay(us: number): string {
  const frac = us % 1_000_000;
  const secs = (us - frac) / 1_000_000;
  const s = secs % 60;
  const mi = ((secs - s) / 60) % 60;
  const h = Math.floor(secs / 3600);
  return `${h < 100 ? pad2(h) : h}:${pad2(mi)}:${pad2(s)}${formatFraction(frac)}`;
}

/** `13:45:07.123456` from microseconds since midnight (trailing zeros of the fraction dropped). */
export function formatTime(us: bigint): string {
  if (us >= 0n && us <= MAX_SAFE) return formatTimeOfDay(Number(us));
  const secs = us / 1_000_000n;
  const frac = us % 1_000_000n;
  const h = Number(secs / 3600n);
  const mi = Number((secs / 60n) % 60n);
  const s = Number(secs % 60n);
  return `${pad(h)}:${pad(mi)}:${pad(s)}${formatFraction(Number(frac))}`;
}

const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Parse `HH:MM:SS[.ffffff]` to microseconds since midnight. */
export function parseTime(text: string): bigint {
  const m = TIME_RE.exec(text);
  if (!m) throw new RangeError(`not a time: ${JSON.stringify(text)}`);
  const frac = BigInt((m[4] ?? '').padEnd(6, '0'));
  return (BigInt(m[1]!) * 3600n + BigInt(m[2]!) * 60n + BigInt(m[3]!)) * 1_000_000n + frac;
}

/**
 * `2024-01-02 03:04:05.123456` (timestamp) or `2024-01-02 03:04:05.123456+00` (timestamptz, always
 * UTC), `infinity`, `-infinity`.
 */
export function formatTimestamp(us: bigint, withZone: boolean): string {
  if (us === TIMESTAMP_POS_INFINITY) return 'infinity';
  if (us === TIMESTAMP_NEG_INFINITY) return '-infinity';
  let days: number;
  let rest: number;
  if (us >= -MAX_SAFE && us <= MAX_SAFE) {
    // exact in doubles: |us| < 2^53, and every intermediate below is an integer of that size or less
    const n = Number(us);
    days = Math.floor(n / US_PER_DAY_N);
    rest = n - days * US_PER_DAY_N;
  } else {
    let d = us / US_PER_DAY;
    let r = us % US_PER_DAY;
    if (r < 0n) {
      r += US_PER_DAY;
      d -= 1n;
    }
    days = Number(d);
    rest = Number(r);
  }
  const date = formatYmd(days);
  const zone = withZone ? '+00' : '';
  if (date.length === 10) return `${date} ${formatTimeOfDay(rest)}${zone}`;
  const bc = date.endsWith(' BC');
  const ymd = bc ? date.slice(0, -3) : date;
  return `${ymd} ${formatTimeOfDay(rest)}${zone}${bc ? ' BC' : ''}`;
}

const TS_RE = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?( BC)?$/;

/**
 * Parse an ISO-8601 / PostgreSQL timestamp to microseconds since epoch. A zone offset (`Z`, `+02`,
 * `-05:30`) is applied; without one the wall-clock value is returned (a `timestamp`). Digits beyond
 * microseconds are rejected rather than rounded.
 */
export function parseTimestamp(text: string): bigint {
  if (text === 'infinity') return TIMESTAMP_POS_INFINITY;
  if (text === '-infinity') return TIMESTAMP_NEG_INFINITY;
  const m = TS_RE.exec(text);
  if (!m) throw new RangeError(`not a timestamp: ${JSON.stringify(text)}`);
  let y = Number(m[1]);
  if (m[9]) y = 1 - y;
  const days = BigInt(daysFromCivil(y, Number(m[2]), Number(m[3])));
  const fracText = m[7] ?? '';
  if (fracText.length > 6 && /[1-9]/.test(fracText.slice(6))) {
    throw new RangeError(`timestamp has sub-microsecond digits: ${JSON.stringify(text)}`);
  }
  const frac = BigInt(fracText.slice(0, 6).padEnd(6, '0'));
  let us = days * US_PER_DAY + (BigInt(m[4]!) * 3600n + BigInt(m[5]!) * 60n + BigInt(m[6]!)) * 1_000_000n + frac;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    const digits = zone.slice(1).replace(/:/g, '');
    const offH = BigInt(digits.slice(0, 2));
    const offM = BigInt(digits.slice(2, 4) || '0');
    const offS = BigInt(digits.slice(4, 6) || '0');
    us -= sign * (offH * 3600n + offM * 60n + offS) * 1_000_000n;
  }
  return us;
}

/** Microseconds since epoch of a JS Date (millisecond precision). */
export function microsFromDate(d: Date): bigint {
  return BigInt(d.getTime()) * 1000n;
}

/** `2024-01-02T03:04:05.123456Z` for logs and reports (timestamptz). */
export function isoFromMicros(us: bigint): string {
  return formatTimestamp(us, false).replace(' ', 'T') + 'Z';
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * The unscaled integer of an exact decimal string at a scale: `("12.34", 4)` → `123400n`.
 * Throws when the value has more fractional digits than the scale (it would be rounded) or is not a
 * plain decimal (NaN, Infinity, exponent).
 */
export function decimalToUnscaled(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text);
  if (!m || (!m[2] && !m[3])) throw new RangeError(`not an exact decimal: ${JSON.stringify(text)}`);
  const intPart = m[2] || '0';
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    if (/[1-9]/.test(frac.slice(scale))) throw new RangeError(`decimal ${text} has more than ${scale} fractional digits`);
    frac = frac.slice(0, scale);
  }
  const v = BigInt(intPart + frac.padEnd(scale, '0'));
  return m[1] === '-' ? -v : v;
}

/** The exact decimal string of an unscaled integer: `(123400n, 4)` → `"12.3400"`. */
export function decimalFromUnscaled(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** JSON.stringify that writes bigint as a JSON number (exact), for state and reports. */
export function stringifyExact(value: unknown, space?: number): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v), space);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** Hex digit values by char code (-1: not a hex digit). */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUES[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUES[65 + c] = HEX_VALUES[97 + c] = 10 + c;

/** The value of the hex digit (either case) at `s[i]`, or -1 (not a hex digit, or past the end). */
export function hexDigitAt(s: string, i: number): number {
  const c = s.charCodeAt(i); // NaN past the end
  return c < 128 ? HEX_VALUES[c]! : -1;
}
