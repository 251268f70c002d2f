/**
 * The columns of a stream as its records reveal them: declared columns first, then each top-level
 * field in the order it first appears with a non-null value, then variant columns. Columns are only
 * ever appended (core records new ones in the run report); the inferred ones travel in the checkpoint
 * so that a resumed or later incremental run keeps the same columns and types.
 */
import { newRow, type Column, type Row } from '@datakit/core';
import { isJsonObject, type JsonValue } from './json.js';
import { convert, inferType, jsonKind, logicalType, MISFIT, type RestType } from './type-map.js';

/** Suffix of the column that takes values not fitting a column's type. */
export const VARIANT_SUFFIX = '__v_json';

/** An inferred column as stored in a checkpoint: `[name, type, sourceType]`. */
export type StoredColumn = [name: string, type: RestType, sourceType: string];

interface Spec {
  name: string;
  type: RestType;
  declared: boolean;
  sourceType: string;
  /** Index of this column's variant column, once it exists. */
  variant?: number;
}

/** Columns of one stream and the conversion of records into rows. */
export class ColumnSet {
  private readonly specs: Spec[] = [];
  private readonly byName = new Map<string, number>();

  constructor(declared: Record<string, string> | undefined, stored: StoredColumn[] | undefined) {
    for (const [name, type] of Object.entries(declared ?? {})) this.add({ name, type, declared: true, sourceType: `declared:${type}` });
    for (const [name, type, sourceType] of stored ?? []) {
      if (this.byName.has(name)) continue;
      this.add({ name, type, declared: false, sourceType });
    }
    for (const s of this.specs) {
      const v = this.byName.get(s.name + VARIANT_SUFFIX);
      if (v !== undefined) s.variant = v;
    }
  }

  private add(spec: Spec): number {
    const i = this.specs.length;
    this.specs.push(spec);
    this.byName.set(spec.name, i);
    return i;
  }

  /** How many columns there are. */
  get width(): number {
    return this.specs.length;
  }

  /** The columns in core's form. */
  columns(): Column[] {
    return this.specs.map((s) => ({ name: s.name, type: logicalType(s.type), nullable: true, sourceType: s.sourceType }));
  }

  /** The inferred (not declared) columns, for the checkpoint. */
  stored(): StoredColumn[] {
    return this.specs.filter((s) => !s.declared).map((s) => [s.name, s.type, s.sourceType]);
  }

  private variantOf(i: number): number {
    const spec = this.specs[i]!;
    if (spec.variant === undefined) {
      const name = spec.name + VARIANT_SUFFIX;
      spec.variant = this.byName.get(name) ?? this.add({ name, type: 'json', declared: false, sourceType: 'json:variant' });
    }
    return spec.variant;
  }

  /**
   * Rows of records (objects; anything else is an error for the caller). Columns may grow while
   * converting; every row comes back padded to the final width.
   */
  toRows(records: readonly JsonValue[]): Row[] {
    const rows: Row[] = new Array(records.length);
    const startWidth = this.specs.length;
    for (let r = 0; r < records.length; r++) {
      const rec = records[r]!;
      if (!isJsonObject(rec)) throw new TypeError(`record ${r + 1} is ${jsonKind(rec)}, not an object`);
      const row = newRow(this.specs.length, null);
      for (const key in rec) {
        const value = rec[key]!;
        if (value === null || value === undefined) continue;
        let i = this.byName.get(key);
        if (i === undefined) i = this.add({ name: key, type: inferType(value), declared: false, sourceType: jsonKind(value) });
        const spec = this.specs[i]!;
        const out = convert(spec.type, value, spec.declared);
        if (out === MISFIT) row[this.variantOf(i)] = JSON.stringify(value);
        else row[i] = out;
      }
      rows[r] = row;
    }
    const width = this.specs.length;
    if (width !== startWidth) {
      for (const row of rows) for (let j = 0; j < width; j++) if (row[j] === undefined) row[j] = null;
    }
    return rows;
  }
}
