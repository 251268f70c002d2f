/**
 * Discover: one stream per configured glob set, its columns inferred from a sample (the oldest
 * FILE_INFER_FILES files, up to FILE_INFER_ROWS good records), then the lineage columns; plus a
 * `<stream>_quarantine` stream for streams whose bad records are quarantined.
 */
import type { Column, Context, Stream } from '@datakit/core';
import type { FileKitConfig } from './config.js';
import { listFiles } from './files.js';
import { readerOf, type ValueKind } from './formats/index.js';
import { Inference } from './infer.js';
import { fileRecords } from './read-file.js';
import { openStore } from './store/index.js';
import type { FileStore } from './store/types.js';
import { quarantineStreamName, streamSpecs, type CsvDialect, type StreamSpec } from './streams.js';

/** Lineage columns every row of a file stream ends with. */
export const LINEAGE_COLUMNS: readonly Column[] = [
  { name: '_bronze_file', type: 'string', nullable: false, sourceType: 'lineage:file' },
  { name: '_bronze_file_row', type: 'int64', nullable: false, sourceType: 'lineage:row' },
  { name: '_bronze_file_modified_at', type: 'timestamptz', nullable: false, sourceType: 'lineage:modified' },
];

/** Columns of a `<stream>_quarantine` stream. */
export const QUARANTINE_COLUMNS: readonly Column[] = [
  ...LINEAGE_COLUMNS,
  { name: 'reason', type: 'string', nullable: false, sourceType: 'quarantine:reason' },
  { name: 'raw', type: 'string', nullable: true, sourceType: 'quarantine:raw' },
];

/** Kit-private details of a stream (`Stream.source`). */
export interface FileStreamSource extends Record<string, unknown> {
  /** The stream whose bad records this quarantine stream holds. */
  quarantineOf?: string;
  /** For a quarantine stream: the data stream's columns (they decide what is bad). */
  dataColumns?: Column[];
}

/** `isNull` of a CSV dialect: the empty field (when FILE_CSV_EMPTY_AS_NULL) and FILE_CSV_NULL_VALUES. */
export function nullTest(d: CsvDialect): (s: string) => boolean {
  const set = new Set(d.nullValues);
  if (d.emptyAsNull) set.add('');
  return set.size === 1 && set.has('') ? (s) => s === '' : (s) => set.has(s);
}

async function inferColumns(ctx: Context, store: FileStore, spec: StreamSpec, config: FileKitConfig): Promise<{ columns: Column[]; files: number }> {
  const files = await listFiles(store, spec, { signal: ctx.signal }, config.minAgeSeconds);
  const inference = new Inference(spec.schema === 'strings');
  const isNull = nullTest(spec.csv);
  outer: for (const file of files.slice(0, config.inferFiles)) {
    let kind: ValueKind = 'text';
    for await (const rec of fileRecords(store, file, spec, ctx.signal, (o) => (kind = readerOf(o.format).kind))) {
      if (rec.error) continue;
      inference.add(rec, kind, isNull);
      if (inference.records >= config.inferRows) break outer;
    }
  }
  const columns = inference.columnsOf(spec.overrides);
  for (const [name, type] of Object.entries(spec.overrides)) {
    if (!columns.some((c) => c.name === name)) columns.push({ name, type, nullable: true, sourceType: 'override' });
  }
  return { columns, files: files.length };
}

/**
 * The streams of the configuration with inferred columns.
 * @example const streams = await discoverStreams(ctx, config);
 */
export async function discoverStreams(ctx: Context, config: FileKitConfig): Promise<Stream[]> {
  const specs = streamSpecs(config);
  const store = await openStore(ctx, config);
  try {
    const out: Stream[] = [];
    for (const spec of specs) {
      const { columns, files } = await inferColumns(ctx, store, spec, config);
      if (!files) ctx.logger.warn({ stream: spec.name, globs: spec.globs }, 'no file matches the stream yet');
      else ctx.logger.info({ stream: spec.name, files, columns: columns.length }, 'stream files listed and columns inferred');
      out.push({
        name: spec.name,
        columns: [...columns, ...LINEAGE_COLUMNS],
        ...(spec.primaryKey ? { primaryKey: spec.primaryKey } : {}),
        cursorCandidates: ['_bronze_file_modified_at'],
        syncMode: spec.syncMode,
        source: {} satisfies FileStreamSource,
      });
      if (spec.badRecords === 'quarantine') {
        out.push({
          name: quarantineStreamName(spec.name),
          columns: [...QUARANTINE_COLUMNS],
          syncMode: spec.syncMode,
          source: { quarantineOf: spec.name, dataColumns: columns } satisfies FileStreamSource,
        });
      }
    }
    return out;
  } finally {
    await store.close();
  }
}
