/**
 * Exact JSON: parse response bodies without rounding any number, and write values back as JSON text.
 *
 * We use the platform's own lossless parser — `JSON.parse` with source text access and
 * `JSON.rawJSON` (TC39 "JSON.parse source text access", in V8 since 11.4, so Node ≥ 21) — instead of
 * a userland parser such as `lossless-json`: it is exact, needs no dependency and is several times
 * faster. A number whose text is not the shortest round-trip form of a double (`9007199254740993`,
 * `1.10`, `1e3`, `-0`) is kept as a raw JSON value holding its source text; every other number stays a
 * plain `number`, whose `String()` *is* its source text. `JSON.stringify` writes raw values verbatim,
 * so nested values serialise back with their exact numbers.
 *
 * A quick scan decides whether a body has any such number at all; most pages have none and take the
 * plain (fast) `JSON.parse` path.
 */

/** A number kept as its exact source text (a frozen `JSON.rawJSON` object). */
export interface RawNumber {
  readonly rawJSON: string;
}

/** A parsed JSON value with exact numbers. */
export type JsonValue = null | boolean | number | string | RawNumber | JsonValue[] | { [key: string]: JsonValue };

interface JsonWithRaw {
  rawJSON(text: string): RawNumber;
  isRawJSON(value: unknown): value is RawNumber;
  parse(text: string, reviver: (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown): unknown;
}
const J = JSON as unknown as JsonWithRaw;

if (typeof J.rawJSON !== 'function') {
  throw new Error('@datakit/kit-rest needs JSON.rawJSON (Node.js >= 22)');
}

/** True for a number kept as its source text. */
export function isRawNumber(v: unknown): v is RawNumber {
  return typeof v === 'object' && v !== null && J.isRawJSON(v);
}

/** The exact text of a JSON number value (plain or raw). */
export function numberText(v: number | RawNumber): string {
  return typeof v === 'number' ? String(v) : v.rawJSON;
}

// Every number token outside strings is preceded by start, `:`, `[` or `,` and followed by `,`, `}`,
// `]` or the end (whitespace allowed), so this finds them all — and maybe some inside strings.
const NUMBER_TOKEN = /(?:^|[:[,])\s*(-?\d[\d.eE+-]*)(?=\s*(?:[,}\]]|$))/g;
const VALID_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Positions of the number-like tokens that a plain `JSON.parse` would not keep exactly. */
function inexactTokens(text: string): { at: number; token: string }[] {
  const out: { at: number; token: string }[] = [];
  NUMBER_TOKEN.lastIndex = 0;
  for (let m = NUMBER_TOKEN.exec(text); m; m = NUMBER_TOKEN.exec(text)) {
    const token = m[1]!;
    if (String(Number(token)) !== token) out.push({ at: m.index + m[0].length - token.length, token });
  }
  return out;
}

/** True when some number in `text` would not survive a plain `JSON.parse` unchanged. */
export function hasInexactNumber(text: string): boolean {
  return inexactTokens(text).length > 0;
}

function exactReviver(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) {
    return J.rawJSON(context.source);
  }
  return value;
}

/** The reference exact parse (a reviver on every value): slower, used as the fallback and in tests. */
export function parseExactWithReviver(text: string): JsonValue {
  return J.parse(text, exactReviver) as JsonValue;
}

const MARK = '\u0000#';

/** Replace marker strings by raw numbers, in place. */
function unmark(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(MARK) ? J.rawJSON(v.slice(MARK.length)) : v;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if ((typeof x === 'object' && x !== null) || (typeof x === 'string' && x.charCodeAt(0) === 0)) v[i] = unmark(x);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if ((typeof x === 'object' && x !== null) || (typeof x === 'string' && x.charCodeAt(0) === 0)) o[k] = unmark(x);
  }
  return o;
}

/**
 * Parse JSON text exactly (throws `SyntaxError` like `JSON.parse`).
 *
 * Most bodies have no inexact number and take a plain `JSON.parse`. Otherwise, rather than a reviver
 * on every value (about 6× slower), each inexact token becomes a marker string (`"\u0000#<text>"`),
 * the text is parsed plainly and the markers become raw numbers. A token wrongly taken from inside a
 * string cannot slip through: the marker's leading `\` right after a closing quote is a syntax error,
 * and any syntax error (or a body with `\u0000` escapes of its own, or nesting too deep to walk)
 * takes the reviver path, which also reports real syntax errors at their true position.
 */
export function parseExact(text: string): JsonValue {
  const tokens = inexactTokens(text);
  if (!tokens.length) return JSON.parse(text) as JsonValue;
  if (text.includes('\\u0000')) return parseExactWithReviver(text);
  const parts: string[] = [];
  let last = 0;
  for (const { at, token } of tokens) {
    if (!VALID_NUMBER.test(token)) continue; // left as is: JSON.parse rejects it below
    parts.push(text.slice(last, at), `"\\u0000#${token}"`);
    last = at + token.length;
  }
  parts.push(text.slice(last));
  try {
    return unmark(JSON.parse(parts.join(''))) as JsonValue;
  } catch {
    return parseExactWithReviver(text);
  }
}

/** A JSON line that failed to parse. */
export class NdjsonError extends SyntaxError {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Parse newline-delimited JSON (one value per non-blank line) exactly. */
export function parseNdjson(text: string): JsonValue[] {
  const out: JsonValue[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line += 1;
    const chunk = text.slice(start, end).trim();
    if (chunk) {
      try {
        out.push(parseExact(chunk));
      } catch (e) {
        throw new NdjsonError(line, (e as Error).message);
      }
    }
    start = end + 1;
  }
  return out;
}

/** JSON text of a value, with exact numbers (compact). */
export function toJsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

/** True for a JSON object (not an array, not a raw number). */
export function isJsonObject(v: unknown): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !J.isRawJSON(v);
}

/**
 * The canonical decimal form of a JSON number's text (`"1.10"` → `"1.1"`, `"1e3"` → `"1000"`,
 * `"-0.0"` → `"0"`), used to compare numbers exactly.
 */
export function canonicalDecimal(text: string): string {
  const m = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const digits = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  if (!digits) return '0';
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0); // value = digits × 10^exp
  let d = digits;
  while (d.endsWith('0')) {
    d = d.slice(0, -1);
    exp += 1;
  }
  if (Math.abs(exp) > 1000) return text; // not expanded: such numbers only compare as text
  let body: string;
  if (exp >= 0) body = d + '0'.repeat(exp);
  else if (-exp >= d.length) body = `0.${'0'.repeat(-exp - d.length)}${d}`;
  else body = `${d.slice(0, d.length + exp)}.${d.slice(d.length + exp)}`;
  return (m[1] ? '-' : '') + body;
}
