/**
 * Type inference from a sample of records. Each column collects the classes of its values; the type
 * is the narrowest that holds every sampled value exactly:
 *
 * | values seen                          | type                                          |
 * |--------------------------------------|-----------------------------------------------|
 * | integers within int64                | `int64`                                       |
 * | integers and plain decimals          | `decimal(38, max scale)` (string beyond 38 digits) |
 * | decimals printed as doubles print (16+ digits, shortest round trip) | `float64` |
 * | exponent numbers, NaN, Infinity      | `float64` (with integers/decimals a double holds as written) |
 * | `true`/`false`                       | `boolean`                                     |
 * | dates / times / timestamps without zone / with zone | `date` / `time` / `timestamp` / `timestamptz` |
 * | UUIDs                                | `uuid`                                        |
 * | JSON objects or arrays (CSV text)    | `json`                                        |
 * | anything mixed                       | `string` (CSV) or `json` (JSON: each value's JSON text) |
 *
 * Parquet columns keep their file's logical type; files that disagree widen int32 → int64,
 * decimals to a common precision, else `json`. Overrides win; `strings` mode makes CSV text.
 */
import { typeName, type Column, type LogicalType } from '@datakit/core';
import { JsonNumber, JsonText } from './formats/json-scan.js';
import type { FileRecord, ValueKind } from './formats/types.js';
import { classifyText, parseFloat64, parseInt64, type TextClass } from './text-values.js';

/** What a column has seen so far. */
interface Seen {
  name: string;
  classes: Set<TextClass | 'nested' | 'jsonstr' | 'jsonbool'>;
  intDigits: number;
  scale: number;
  /** every integer/decimal seen is held exactly by a double */
  floatExact: boolean;
  /** every integer seen is within int64 */
  int64: boolean;
  /** every number is written as a double prints itself (shortest round trip) */
  doubleText: boolean;
  /** some number has more significant digits than a decimal column usually carries (16+) */
  longDigits: boolean;
  nonNull: number;
  typed?: LogicalType;
  typedSource?: string;
  typedConflict?: boolean;
  /** JSON sources: the column came from JSON (mixed → json) */
  json: boolean;
}

/** Accumulates a sample and decides the columns. */
export class Inference {
  private readonly columns = new Map<string, Seen>();
  records = 0;

  constructor(private readonly strings: boolean) {}

  private col(name: string, json: boolean): Seen {
    let c = this.columns.get(name);
    if (!c) {
      c = { name, classes: new Set(), intDigits: 0, scale: 0, floatExact: true, int64: true, doubleText: true, longDigits: false, nonNull: 0, json };
      this.columns.set(name, c);
    }
    return c;
  }

  /** Add one good record of a file read as `kind`. */
  add(rec: FileRecord, kind: ValueKind, nullText: (s: string) => boolean): void {
    this.records++;
    for (let i = 0; i < rec.names.length; i++) {
      const c = this.col(rec.names[i]!, kind === 'json');
      const v = rec.values[i];
      if (v === null || v === undefined) continue;
      if (kind === 'typed') {
        c.nonNull++;
        this.addTyped(c, rec.types![i]!, rec.sourceTypes?.[i]);
        continue;
      }
      if (kind === 'text' && nullText(v as string)) continue;
      c.nonNull++;
      if (kind === 'text') {
        if (!this.strings) this.addText(c, v as string, false);
      } else if (typeof v === 'string') {
        const k = classifyText(v, true).cls;
        c.classes.add(k === 'date' || k === 'time' || k === 'ts' || k === 'tstz' || k === 'uuid' ? k : 'jsonstr');
      } else if (v instanceof JsonNumber) this.addText(c, v.text, true);
      else if (typeof v === 'boolean') c.classes.add('jsonbool');
      else if (v instanceof JsonText) c.classes.add('nested');
    }
  }

  private addText(c: Seen, s: string, fromJsonNumber: boolean): void {
    const k = classifyText(s, fromJsonNumber);
    c.classes.add(k.cls);
    if (k.cls === 'int' || k.cls === 'dec' || k.cls === 'float') {
      c.intDigits = Math.max(c.intDigits, k.int ?? 0);
      c.scale = Math.max(c.scale, k.scale ?? 0);
      if (c.floatExact && parseFloat64(s) === undefined) c.floatExact = false;
      if (k.cls === 'int' && c.int64 && (k.int ?? 0) >= 19 && parseInt64(s) === undefined) c.int64 = false;
      if (c.doubleText && String(Number(s)) !== s) c.doubleText = false;
      if (!c.longDigits && s.replace(/^-?0*\.?0*|[-.]|[eE].*$/g, '').length >= 16) c.longDigits = true;
    }
  }

  private addTyped(c: Seen, t: LogicalType, source: string | undefined): void {
    if (!c.typed) {
      c.typed = t;
      if (source) c.typedSource = source;
      return;
    }
    const a = typeName(c.typed);
    const b = typeName(t);
    if (a === b) return;
    const w = widenTyped(c.typed, t);
    if (w) {
      c.typed = w;
      c.typedSource = `parquet:widened:${typeName(w)}`;
    } else c.typedConflict = true;
  }

  /** The columns, in first-seen order, with overrides applied. */
  columnsOf(overrides: Record<string, LogicalType>): Column[] {
    return [...this.columns.values()].map((c) => {
      const over = overrides[c.name];
      const type = over ?? this.decide(c);
      const sourceType = over ? `override:${typeName(over)}` : c.typed && !c.typedConflict ? (c.typedSource ?? `parquet:${typeName(c.typed)}`) : `inferred:${typeName(type)}`;
      return { name: c.name, type, nullable: true, sourceType };
    });
  }

  private decide(c: Seen): LogicalType {
    if (c.typed) return c.typedConflict ? 'json' : c.typed;
    const fallback: LogicalType = c.json ? 'json' : 'string';
    if (this.strings && !c.json) return 'string';
    const k = c.classes;
    if (!k.size) return fallback;
    const only = (...allowed: string[]): boolean => [...k].every((x) => allowed.includes(x));
    if (only('bool')) return 'boolean';
    if (only('jsonbool')) return 'boolean';
    if (only('int')) return c.int64 ? 'int64' : c.intDigits <= 38 ? { decimal: [38, 0] } : fallback;
    // doubles printed in full (0.14285714285714285) vary their scale from value to value: a float column
    if (only('int', 'dec') && c.scale > 0 && c.doubleText && c.longDigits && c.floatExact) return 'float64';
    if (only('int', 'dec')) return c.intDigits + c.scale <= 38 ? { decimal: [38, c.scale] } : fallback;
    if (only('int', 'dec', 'float')) return c.floatExact ? 'float64' : fallback;
    for (const single of ['date', 'time', 'ts', 'tstz', 'uuid', 'json'] as const) {
      if (only(single)) return ({ date: 'date', time: 'time', ts: 'timestamp', tstz: 'timestamptz', uuid: 'uuid', json: 'json' } as const)[single];
    }
    if (c.json && only('jsonstr', 'date', 'time', 'ts', 'tstz', 'uuid')) return 'string';
    return fallback;
  }
}

/** The common type of two Parquet column types, when one holds the other's values exactly. */
export function widenTyped(a: LogicalType, b: LogicalType): LogicalType | undefined {
  const ints = ['int32', 'int64'];
  if (typeof a === 'string' && typeof b === 'string') {
    if (ints.includes(a) && ints.includes(b)) return 'int64';
    return undefined;
  }
  const dec = (t: LogicalType): [number, number] | undefined => (typeof t === 'object' ? t.decimal : t === 'int32' ? [10, 0] : t === 'int64' ? [19, 0] : undefined);
  const da = dec(a);
  const db = dec(b);
  if (!da || !db) return undefined;
  const scale = Math.max(da[1], db[1]);
  const int = Math.max(da[0] - da[1], db[0] - db[1]);
  return int + scale <= 38 ? { decimal: [int + scale, scale] } : undefined;
}
