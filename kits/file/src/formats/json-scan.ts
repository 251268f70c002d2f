/**
 * An exact JSON scanner for records. `JSON.parse` turns numbers into doubles (`12345678901234567890`
 * and `0.10` come out altered) and re-serialising a nested value changes its text, so records are
 * scanned here instead: numbers keep their source text ({@link JsonNumber}), nested objects and arrays
 * keep their exact source text ({@link JsonText}), strings are decoded. The whole record is validated
 * against RFC 8259; an invalid record yields a reason with its character offset.
 */

/** A JSON number, as its source text (`-12.50`, `1e400`, `12345678901234567890`). */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A nested object or array, as its exact source text. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** A value of a record field. */
export type JsonValue = string | boolean | null | JsonNumber | JsonText;

/** A scanned record: field names and values in source order. */
export interface ScannedRecord {
  names: string[];
  values: JsonValue[];
}

class ScanError extends Error {}

/** No lone surrogates (what `\\ud800` escapes can produce): the string has a UTF-8 form. */
function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

const MAX_DEPTH = 512;

/** Scans one JSON text; positions are string indexes. */
class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    // the offending character is data: only its offset goes into the reason
    throw new ScanError(`invalid JSON: ${what} at ${this.i < this.s.length ? `offset ${this.i}` : 'the end'}`);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  /** A string starting at the current `"`; returns the decoded value. */
  str(): string {
    const s = this.s;
    const start = this.i;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (Number.isNaN(c)) {
        this.i = i;
        this.fail('unterminated string');
      }
      if (c < 32) {
        this.i = i;
        this.fail('control character in string');
      }
      if (c === 92) {
        escaped = true;
        const e = s.charCodeAt(i + 1);
        if (e === 117) {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
            this.i = i;
            this.fail('bad \\u escape');
          }
          i += 6;
          continue;
        }
        if (!(e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116)) {
          this.i = i;
          this.fail('bad escape');
        }
        i += 2;
        continue;
      }
      i++;
    }
    this.i = i + 1;
    if (!escaped) return s.slice(start + 1, i);
    const v = JSON.parse(s.slice(start, i + 1)) as string;
    if (!wellFormed(v)) {
      this.i = start;
      this.fail('unpaired surrogate escape (not representable in UTF-8)');
    }
    return v;
  }

  num(): JsonNumber {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 45) i++;
    const digits = (): number => {
      const from = i;
      while (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      return i - from;
    };
    if (s.charCodeAt(i) === 48) i++;
    else if (!digits()) {
      this.i = i;
      this.fail('expected a digit');
    }
    if (s.charCodeAt(i) === 46) {
      i++;
      if (!digits()) {
        this.i = i;
        this.fail('expected a digit after the decimal point');
      }
    }
    const e = s.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!digits()) {
        this.i = i;
        this.fail('expected exponent digits');
      }
    }
    this.i = i;
    return new JsonNumber(s.slice(start, i));
  }

  literal(word: string, value: boolean | null): boolean | null {
    if (!this.s.startsWith(word, this.i)) this.fail('expected a value');
    this.i += word.length;
    return value;
  }

  /** Any value; nested values are validated and returned as their source text. */
  value(depth: number): JsonValue {
    const c = this.s.charCodeAt(this.i);
    if (c === 34) return this.str();
    if (c === 123 || c === 91) {
      const start = this.i;
      this.skipNested(depth + 1);
      return new JsonText(this.s.slice(start, this.i));
    }
    if (c === 116) return this.literal('true', true);
    if (c === 102) return this.literal('false', false);
    if (c === 110) return this.literal('null', null);
    if (c === 45 || (c >= 48 && c <= 57)) return this.num();
    return this.fail('expected a value');
  }

  skipNested(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const open = this.s.charCodeAt(this.i);
    const close = open === 123 ? 125 : 93;
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (open === 123) {
        if (this.s.charCodeAt(this.i) !== 34) this.fail('expected a key');
        this.str();
        this.ws();
        if (this.s.charCodeAt(this.i) !== 58) this.fail("expected ':'");
        this.i++;
        this.ws();
      }
      this.value(depth);
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === close) {
        this.i++;
        return;
      }
      if (c !== 44) this.fail(open === 123 ? "expected ',' or '}'" : "expected ',' or ']'");
      this.i++;
      this.ws();
    }
  }

  /** A whole record: one object, then only whitespace. */
  record(): ScannedRecord {
    this.ws();
    if (this.s.charCodeAt(this.i) !== 123) this.fail('a record must be a JSON object');
    this.i++;
    const names: string[] = [];
    const values: JsonValue[] = [];
    const seen = new Set<string>();
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) this.i++;
    else {
      for (;;) {
        if (this.s.charCodeAt(this.i) !== 34) this.fail('expected a key');
        const key = this.str();
        if (seen.has(key)) throw new ScanError(`duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        this.ws();
        if (this.s.charCodeAt(this.i) !== 58) this.fail("expected ':'");
        this.i++;
        this.ws();
        names.push(key);
        values.push(this.value(1));
        this.ws();
        const c = this.s.charCodeAt(this.i);
        if (c === 125) {
          this.i++;
          break;
        }
        if (c !== 44) this.fail("expected ',' or '}'");
        this.i++;
        this.ws();
      }
    }
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text after the record');
    return { names, values };
  }
}

/**
 * Scan one record (a JSON object). Returns the reason when the text is not a valid JSON object.
 * @example scanRecord('{"id": 12345678901234567890}') // { names: ['id'], values: [JsonNumber('12345678901234567890')] }
 */
export function scanRecord(text: string): ScannedRecord | { error: string } {
  try {
    return new Scanner(text).record();
  } catch (e) {
    if (e instanceof ScanError) return { error: e.message };
    if (e instanceof SyntaxError) return { error: `invalid JSON: ${e.message}` };
    throw e;
  }
}

/** True when the text is one valid JSON value (for `json` columns fed from CSV text; native speed). */
export function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
