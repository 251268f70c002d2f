/**
 * From settings to stream specs: each stream's globs, format, CSV dialect, schema mode, type
 * overrides, primary key, bad-record policy and sync mode (per-stream options win over the globals).
 */
import { DatakitError, type LogicalType } from '@datakit/core';
import type { BadRecordPolicy, FileFormat, FileKitConfig, StreamOptions } from './config.js';

/** How CSV files of a stream are parsed. */
export interface CsvDialect {
  /** `undefined`: `,`, or a tab for `.tsv` files. */
  delimiter?: string;
  quote: string;
  escape: string;
  header: boolean;
  emptyAsNull: boolean;
  nullValues: string[];
  encoding: string;
}

/** Everything the kit needs to know about one configured stream. */
export interface StreamSpec {
  name: string;
  globs: string[];
  format: FileFormat;
  csv: CsvDialect;
  schema: 'infer' | 'strings';
  /** Column name → logical type, from `FILE_COLUMN_TYPES` and `streams.<name>.columns`. */
  overrides: Record<string, LogicalType>;
  primaryKey?: string[];
  badRecords: BadRecordPolicy;
  syncMode: 'incremental' | 'full_refresh';
}

const SCALARS = new Set(['string', 'int32', 'int64', 'float64', 'boolean', 'date', 'time', 'timestamp', 'timestamptz', 'bytes', 'json', 'uuid']);

/**
 * A logical type from its name: `int64`, `decimal(18,4)`; aliases `text`, `bigint`, `integer`,
 * `double`, `bool`, `numeric(p,s)`.
 * @example parseTypeName('decimal(18,4)') // { decimal: [18, 4] }
 */
export function parseTypeName(text: string): LogicalType | undefined {
  const t = text.trim().toLowerCase();
  const alias: Record<string, string> = { text: 'string', varchar: 'string', bigint: 'int64', integer: 'int32', int: 'int32', double: 'float64', float8: 'float64', bool: 'boolean', jsonb: 'json' };
  const name = alias[t] ?? t;
  if (SCALARS.has(name)) return name as LogicalType;
  const m = /^(?:decimal|numeric)\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (!m) return undefined;
  const p = Number(m[1]);
  const s = Number(m[2]);
  return p >= 1 && p <= 38 && s <= p ? { decimal: [p, s] } : undefined;
}

function overridesOf(config: FileKitConfig, name: string, opts: StreamOptions): Record<string, LogicalType> {
  const out: Record<string, LogicalType> = {};
  const add = (column: string, typeText: string, setting: string): void => {
    const t = parseTypeName(typeText);
    if (!t) throw new DatakitError('CONFIG.INVALID', `${setting}: unknown type ${JSON.stringify(typeText)} for column ${JSON.stringify(column)} of stream ${JSON.stringify(name)}`, { fix: 'use string, int32, int64, float64, boolean, date, time, timestamp, timestamptz, json, uuid or decimal(p,s)' });
    out[column] = t;
  };
  for (const [key, typeText] of Object.entries(config.columnTypes)) {
    if (key.startsWith(`${name}.`)) add(key.slice(name.length + 1), typeText, 'FILE_COLUMN_TYPES');
  }
  for (const [column, typeText] of Object.entries(opts.columns ?? {})) add(column, typeText, `streams.${name}.columns`);
  return out;
}

/** The stream specs of the configuration, in the order they are configured. */
export function streamSpecs(config: FileKitConfig): StreamSpec[] {
  const entries = Object.entries(config.streams);
  if (!entries.length) {
    throw new DatakitError('CONFIG.INVALID', 'FILE_STREAMS: no streams configured', { fix: 'set FILE_STREAMS=name=glob;name=glob, e.g. orders=orders/*.csv' });
  }
  const known = new Set(entries.map(([n]) => n));
  for (const key of [...Object.keys(config.columnTypes), ...Object.keys(config.primaryKeys)]) {
    const stream = key.includes('.') ? [...known].find((n) => key.startsWith(`${n}.`)) : key;
    if (!stream || !known.has(stream)) {
      throw new DatakitError('CONFIG.INVALID', `FILE_COLUMN_TYPES/FILE_PRIMARY_KEYS: ${JSON.stringify(key)} names no configured stream`, { fix: `streams are: ${[...known].join(', ')}` });
    }
  }
  return entries.map(([name, value]) => {
    const opts: StreamOptions = typeof value === 'string' ? { glob: value } : value;
    if (!opts.glob) throw new DatakitError('CONFIG.INVALID', `streams.${name}: no glob`, { fix: 'give the stream a glob, e.g. orders/*.csv' });
    const globs = (Array.isArray(opts.glob) ? opts.glob : [opts.glob]).map((g) => g.replace(/^\/+/, ''));
    const pk = opts.primary_key ?? config.primaryKeys[name]?.split('+').map((s) => s.trim()).filter(Boolean);
    return {
      name,
      globs,
      format: opts.format ?? config.format,
      csv: {
        ...(opts.delimiter ?? config.delimiter ? { delimiter: opts.delimiter ?? config.delimiter } : {}),
        quote: opts.quote ?? config.quote,
        escape: opts.escape ?? config.escape ?? opts.quote ?? config.quote,
        header: opts.header ?? config.header,
        emptyAsNull: config.emptyAsNull,
        nullValues: config.nullValues,
        encoding: opts.encoding ?? config.encoding,
      },
      schema: opts.schema ?? config.schema,
      overrides: overridesOf(config, name, opts),
      ...(pk?.length ? { primaryKey: pk } : {}),
      badRecords: opts.bad_records ?? config.badRecords,
      syncMode: opts.sync_mode ?? config.syncMode,
    };
  });
}

/** The name of the stream that holds a stream's quarantined records. */
export function quarantineStreamName(stream: string): string {
  return `${stream}_quarantine`;
}
