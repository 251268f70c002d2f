/**
 * Records → rows of the stream: each field converted to its column's logical type, the lineage
 * columns filled, and fields the stream has not seen yet added as new columns (schema evolution:
 * appended, never dropped; typed like the file says, else text for CSV and JSON text for JSON).
 */
import { newRow, type Column, type LogicalType, type Row } from '@datakit/core';
import { converterFor, evolvedType, Misfit, type Convert } from './convert.js';
import type { FileRecord, ValueKind } from './formats/index.js';

interface Plan {
  targets: number[];
  convs: Convert[];
}

/** Builds the rows of one stream; `columns` grows as new fields appear. */
export class RowBuilder {
  readonly columns: Column[];
  private readonly index = new Map<string, number>();
  private readonly plans = new WeakMap<readonly string[], Plan>();
  private readonly byName = new Map<string, { idx: number; conv: Convert }>();
  private readonly lineage: [number, number, number];
  /** Names of the columns added since the last {@link RowBuilder.takeAdded}. */
  private added: string[] = [];

  constructor(
    columns: readonly Column[],
    private readonly overrides: Record<string, LogicalType>,
    private readonly isNull: (s: string) => boolean,
  ) {
    this.columns = [...columns];
    this.columns.forEach((c, i) => this.index.set(c.name, i));
    this.lineage = [this.index.get('_bronze_file')!, this.index.get('_bronze_file_row')!, this.index.get('_bronze_file_modified_at')!];
  }

  /** Append a column (evolution, or a landed column discovery no longer sees). */
  addColumn(column: Column): number {
    const idx = this.columns.length;
    this.columns.push(column);
    this.index.set(column.name, idx);
    this.added.push(column.name);
    return idx;
  }

  /** Columns added since the last call (empty when none). */
  takeAdded(): string[] {
    const a = this.added;
    this.added = [];
    return a;
  }

  private target(name: string, kind: ValueKind, fieldType: LogicalType | undefined): number {
    return this.index.get(name) ?? this.addColumn({ name, type: evolvedType(kind, fieldType, this.overrides[name]), nullable: true, sourceType: kind === 'typed' ? 'parquet:evolved' : 'evolved' });
  }

  private planOf(rec: FileRecord, kind: ValueKind): Plan {
    let plan = this.plans.get(rec.names);
    if (!plan) {
      const targets = rec.names.map((n, i) => this.target(n, kind, rec.types?.[i]));
      plan = { targets, convs: targets.map((t, i) => converterFor(this.columns[t]!, kind, this.isNull, rec.types?.[i])) };
      this.plans.set(rec.names, plan);
    }
    return plan;
  }

  /**
   * The row of a good record, or why it cannot land (`column "x": not a valid int64`).
   * @param location `_bronze_file`
   * @param modified `_bronze_file_modified_at`
   */
  build(rec: FileRecord, kind: ValueKind, location: string, modified: bigint): Row | string {
    const row = newRow(this.columns.length, null);
    const { names, values } = rec;
    if (kind === 'json') {
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        let p = this.byName.get(name);
        if (!p) {
          const idx = this.target(name, kind, undefined);
          p = { idx, conv: converterFor(this.columns[idx]!, kind, this.isNull) };
          this.byName.set(name, p);
          if (idx >= row.length) row.length = this.columns.length;
        }
        const v = p.conv(values[i]);
        if (v instanceof Misfit) return `column ${JSON.stringify(name)}: ${v.reason}`;
        row[p.idx] = v === undefined ? null : v;
      }
    } else {
      const plan = this.planOf(rec, kind);
      if (row.length < this.columns.length) row.length = this.columns.length;
      for (let i = 0; i < names.length; i++) {
        const v = plan.convs[i]!(values[i]);
        if (v instanceof Misfit) return `column ${JSON.stringify(names[i])}: ${v.reason}`;
        row[plan.targets[i]!] = v;
      }
    }
    for (let i = 0; i < row.length; i++) if (row[i] === undefined) row[i] = null;
    row[this.lineage[0]] = location;
    row[this.lineage[1]] = BigInt(rec.row);
    row[this.lineage[2]] = modified;
    return row;
  }
}
