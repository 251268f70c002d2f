/**
 * Keys and values → bronze cells, by format. A payload that does not decode raises a
 * {@link PoisonError} whose reason never quotes the payload (logs and errors carry no row values).
 */
import { isUtf8 } from 'node:buffer';
import type avro from 'avsc';
import { decimalFromUnscaled, decimalToUnscaled, isDecimal, newRow, typeName, type Column, type LogicalType } from '@datakit/core';
import { columnTypeOf, recordFields } from './avro.js';
import type { Format } from './config.js';
import { exactJson } from './json.js';
import { RegistryNotFound, type Registry } from './registry.js';

/** A message that cannot be decoded with the configured format. */
export class PoisonError extends Error {
  override readonly name = 'PoisonError';
}

/** Decodes one side (key or value) of messages. */
export interface Decoder {
  /** The columns this decoder fills, in order; an Avro decoder appends fields newer schemas add. */
  readonly columns: Column[];
  /** Fetch what `decode` needs for these payloads (writer schemas by id); call before `decode`. */
  prepare(payloads: (Buffer | null)[]): Promise<void>;
  /** The cells of one payload (`null` payload: all null), one per column. @throws PoisonError */
  decode(payload: Buffer | null): unknown[];
}

function utf8(buf: Buffer, side: string): string {
  if (!isUtf8(buf)) throw new PoisonError(`${side} is not valid UTF-8`);
  return buf.toString('utf8');
}

function json(buf: Buffer, side: string): string {
  const text = utf8(buf, side);
  try {
    JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text; keep only where it failed
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new PoisonError(`${side} is not valid JSON${at ? ` (at character ${at})` : text.trim() ? '' : ' (empty)'}`);
  }
  return text;
}

const NO_CELLS: unknown[] = [null];

/** Names of the lineage columns, which value fields may not take. */
export const RESERVED = new Set(['_kafka_topic', '_kafka_partition', '_kafka_offset', '_kafka_timestamp', '_kafka_key', '_kafka_headers']);

function simpleDecoder(format: Exclude<Format, 'avro'>, column: Column, side: string): Decoder {
  const one = format === 'bytes' ? (b: Buffer) => b : format === 'string' ? (b: Buffer) => utf8(b, side) : (b: Buffer) => json(b, side);
  return {
    columns: [column],
    prepare: async () => undefined,
    decode: (buf) => (buf === null ? NO_CELLS : [one(buf)]),
  };
}

/** The logical type a format gives a single-column side. */
export function formatType(format: Format): LogicalType {
  return format === 'bytes' ? 'bytes' : format === 'string' ? 'string' : 'json';
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A decoded Avro value in a column of type `t` (a field may have another type in another schema version). */
export function cellOf(v: unknown, t: LogicalType, field: string): unknown {
  if (v === null || v === undefined) return null;
  if (t === 'json') return exactJson(v);
  const ok = ((): boolean => {
    if (isDecimal(t)) return typeof v === 'string';
    switch (t) {
      case 'string':
        return typeof v === 'string';
      case 'int32':
      case 'date':
        return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
      case 'int64':
        return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
      case 'float64':
        return typeof v === 'number' || typeof v === 'bigint';
      case 'boolean':
        return typeof v === 'boolean';
      case 'bytes':
        return v instanceof Uint8Array;
      case 'uuid':
        return typeof v === 'string' && UUID_RE.test(v);
      default:
        return typeof v === 'bigint';
    }
  })();
  if (!ok) throw new PoisonError(`field ${field}: a ${v instanceof Uint8Array ? 'bytes' : typeof v} value does not fit column type ${typeName(t)} (the field changed type between schema versions)`);
  if (isDecimal(t)) {
    try {
      return decimalFromUnscaled(decimalToUnscaled(v as string, t.decimal[1]), t.decimal[1]);
    } catch {
      throw new PoisonError(`field ${field}: the decimal has more than ${t.decimal[1]} fractional digits`);
    }
  }
  if (t === 'int64' && typeof v === 'number') return BigInt(v);
  if (t === 'float64' && typeof v === 'bigint') return Number(v);
  return v;
}

interface Plan {
  type: avro.Type;
  /** [column index, record field name (`undefined`: the whole value)] */
  fields: [number, string | undefined][];
}

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary), decoded with the
 * writer schema — no reader schema, so no field a newer writer added is dropped: it becomes a new
 * column. `asJson` (keys) gives the whole value as one JSON cell.
 */
class AvroDecoder implements Decoder {
  readonly columns: Column[];
  private readonly plans = new Map<number, Plan | PoisonError>();

  constructor(private readonly registry: Registry | undefined, columns: Column[], private readonly side: string, private readonly asJson: boolean) {
    this.columns = [...columns];
  }

  async prepare(payloads: (Buffer | null)[]): Promise<void> {
    for (const p of payloads) {
      if (!p || p.length < 5 || p[0] !== 0) continue;
      const id = p.readInt32BE(1);
      if (this.plans.has(id)) continue;
      try {
        this.plans.set(id, this.learn(await this.registry!.schema(id)));
      } catch (e) {
        if (!(e instanceof RegistryNotFound)) throw e;
        this.plans.set(id, new PoisonError(`${this.side} has schema id ${id}, which the schema registry does not know`));
      }
    }
  }

  private column(field: string, t: avro.Type): number {
    // a field named like a lineage column (`_kafka_offset`) must not shadow it
    const name = RESERVED.has(field) ? `value_${field}` : field;
    const at = this.columns.findIndex((c) => c.name === name);
    if (at >= 0) return at;
    const c = columnTypeOf(t);
    this.columns.push({ name, type: c?.type ?? 'json', nullable: true, sourceType: `avro ${c?.sourceType ?? t.typeName}` });
    return this.columns.length - 1;
  }

  /** The plan of a writer schema; adds the columns of fields not seen before. */
  learn(type: avro.Type): Plan {
    if (this.asJson) return { type, fields: [[0, undefined]] };
    const fields = recordFields(type);
    if (!fields) return { type, fields: [[this.column('value', type), undefined]] };
    return { type, fields: fields.filter((f) => columnTypeOf(f.type)).map((f) => [this.column(f.name, f.type), f.name]) };
  }

  decode(buf: Buffer | null): unknown[] {
    const cells = newRow(this.columns.length, null);
    if (buf === null) return cells;
    if (buf.length < 5 || buf[0] !== 0) throw new PoisonError(`${this.side} is not in the Confluent Avro wire format (no magic byte 0 and schema id)`);
    const plan = this.plans.get(buf.readInt32BE(1));
    if (!plan) throw new Error(`internal: schema id ${buf.readInt32BE(1)} was not prepared`);
    if (plan instanceof PoisonError) throw plan;
    let value: unknown;
    try {
      value = plan.type.fromBuffer(buf.subarray(5));
    } catch (e) {
      throw new PoisonError(`${this.side} does not decode with schema id ${buf.readInt32BE(1)}: ${(e as Error).message.split('\n')[0]}`);
    }
    for (const [at, field] of plan.fields) {
      const v = field === undefined ? value : (value as Record<string, unknown>)[field];
      cells[at] = cellOf(v, this.columns[at]!.type, field ?? this.side);
    }
    return cells;
  }
}

/** The decoder of the `_kafka_key` cell. */
export function keyDecoder(format: Format, registry: Registry | undefined): Decoder {
  const column: Column = { name: '_kafka_key', type: formatType(format), nullable: true, sourceType: `kafka key (${format})` };
  if (format !== 'avro') return simpleDecoder(format, column, 'key');
  return new AvroDecoder(registry!, [column], 'key', true);
}

/**
 * The value columns of an Avro value schema: one per record field (all nullable: a tombstone has no
 * value), or a single `value` column for a non-record schema.
 */
export function avroValueColumns(type: avro.Type): Column[] {
  const d = new AvroDecoder(undefined, [], 'value', false);
  d.learn(type);
  return d.columns;
}

/** The decoder of the value cells; `columns` are the stream's value columns (from discover). */
export function valueDecoder(format: Format, registry: Registry | undefined, columns: Column[]): Decoder {
  if (format !== 'avro') return simpleDecoder(format, columns[0] ?? { name: 'value', type: formatType(format), nullable: true, sourceType: `kafka value (${format})` }, 'value');
  return new AvroDecoder(registry!, columns, 'value', false);
}
