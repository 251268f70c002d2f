/**
 * Read a stream: list its files, skip those already landed (same size and version), and turn the
 * others' records into batches of at most `BATCH_SIZE` rows, oldest file first. Every batch carries a
 * checkpoint (`state.ts`): the files finished and the position inside the current one, so a crash,
 * SIGTERM or retry resumes exactly after the last stored row — no file is doubled or skipped.
 *
 * Bad records follow FILE_BAD_RECORDS: `fail` stops with `DATA.INVALID_RECORD` naming file, line and
 * reason; `skip` counts them (logged per file and per stream); `quarantine` counts them here and the
 * `<stream>_quarantine` stream lands them (the same files, read by the same rules).
 */
import { DatakitError, stringifyExact, type Batch, type Column, type Context, type Row, type Stream, type StreamState } from '@datakit/core';
import type { FileKitConfig } from './config.js';
import { LINEAGE_COLUMNS, nullTest, type FileStreamSource } from './discover.js';
import { listFiles } from './files.js';
import { readerOf, type FileRecord, type ValueKind } from './formats/index.js';
import { INVALID_UTF8 } from './text.js';
import { fileRecordGroups } from './read-file.js';
import { RowBuilder } from './rows.js';
import { columnSignature, parseCheckpoint, reconcileColumns, signature, type FileCheckpoint } from './state.js';
import { openStore } from './store/index.js';
import type { FileEntry } from './store/types.js';
import { parseTypeName, streamSpecs, type StreamSpec } from './streams.js';

/** The source text of a bad record for the quarantine: trimmed of its line break, invalid bytes as U+FFFD. */
function rawText(rec: FileRecord): string | null {
  if (rec.raw !== undefined) return rec.raw.replace(/^[\r\n]+|[\r\n]+$/g, '').replaceAll(INVALID_UTF8, '\uFFFD');
  if (!rec.names.length) return null;
  // typed (Parquet) records have no text: the record as JSON
  return stringifyExact(Object.fromEntries(rec.names.map((n, i) => [n, rec.values[i] instanceof Uint8Array ? Buffer.from(rec.values[i] as Uint8Array).toString('base64') : rec.values[i]])));
}

function specOf(config: FileKitConfig, name: string): StreamSpec {
  const spec = streamSpecs(config).find((s) => s.name === name);
  if (!spec) throw new DatakitError('CONFIG.UNKNOWN_STREAM', `stream ${JSON.stringify(name)} is not configured`, { fix: 'check FILE_STREAMS' });
  return spec;
}

/** The plan of one run: files to read (the partly read one first) and where to resume it. */
function planRun(files: FileEntry[], cp: FileCheckpoint): { todo: FileEntry[]; done: Record<string, string>; resume?: { path: string; pos: number } } {
  const present = new Set(files.map((f) => f.path));
  const done: Record<string, string> = {};
  for (const [p, sig] of Object.entries(cp.files)) if (present.has(p)) done[p] = sig;
  const todo = files.filter((f) => done[f.path] !== signature(f));
  const cur = cp.current;
  const partly = cur && todo.find((f) => f.path === cur.path && signature(f) === cur.sig);
  if (!partly || !cur) return { todo, done };
  return { todo: [partly, ...todo.filter((f) => f !== partly)], done, resume: { path: cur.path, pos: cur.pos } };
}

/**
 * The kit's `read`: batches with checkpoints (see the module comment).
 * @example for await (const batch of readStream(ctx, config, stream, state)) …
 */
export async function* readStream(ctx: Context, config: FileKitConfig, stream: Stream, state: StreamState | undefined): AsyncIterable<Batch> {
  const src = (stream.source ?? {}) as FileStreamSource;
  const quarantine = src.quarantineOf !== undefined;
  const spec = specOf(config, src.quarantineOf ?? stream.name);
  const cp = parseCheckpoint(state, stream.name);
  const log = ctx.logger;
  const isNull = nullTest(spec.csv);
  const dataColumns: Column[] = quarantine ? [...(src.dataColumns ?? []), ...LINEAGE_COLUMNS] : [...stream.columns];
  const builder = new RowBuilder(dataColumns, spec.overrides, isNull);
  if (!quarantine) {
    for (const [name, type] of reconcileColumns(stream.name, stream.columns, cp.columns)) {
      builder.addColumn({ name, type: parseTypeName(type) ?? 'string', nullable: true, sourceType: 'landed' });
    }
  }
  let announce = builder.takeAdded().length > 0;
  const store = await openStore(ctx, config);
  try {
    const files = await listFiles(store, spec, ctx, config.minAgeSeconds);
    const { todo, done, resume } = planRun(files, cp);
    log.info({ files: files.length, new: todo.length, resume: resume !== undefined }, 'files listed');
    let rows: Row[] = [];
    let current: FileCheckpoint['current'];
    const totals = { files: 0, rows: 0, bad: 0 };
    const checkpoint = (): FileCheckpoint => ({
      v: 1,
      files: { ...done },
      ...(current ? { current: { ...current } } : {}),
      ...(quarantine ? {} : { columns: columnSignature(builder.columns.filter((c) => !c.name.startsWith('_bronze_file'))) }),
    });
    const batch = (): Batch => {
      const b: Batch = { rows, checkpoint: checkpoint(), ...(announce && !quarantine ? { columns: [...builder.columns] } : {}) };
      rows = [];
      announce = false;
      return b;
    };

    for (const file of todo) {
      const sig = signature(file);
      const location = store.location(file);
      const skipTo = resume?.path === file.path ? resume.pos : 0;
      let kind: ValueKind = 'text';
      let fileRows = 0;
      let fileBad = 0;
      let firstBad: { line: number; reason: string } | undefined;
      for await (const group of fileRecordGroups(store, file, spec, ctx.signal, (o) => {
        kind = readerOf(o.format).kind;
        log.debug({ file: location, format: o.format, compression: o.compression }, 'reading file');
      })) {
        for (const rec of group) {
          if (rec.pos <= skipTo) continue;
          const built = rec.error ?? builder.build(rec, kind, location, file.modifiedMicros);
          if (typeof built === 'string') {
            if (spec.badRecords === 'fail') {
              throw new DatakitError('DATA.INVALID_RECORD', built, { where: { kit: 'file', stream: stream.name, file: location, line: rec.row }, fix: 'fix the file, or set FILE_BAD_RECORDS=skip or quarantine' });
            }
            fileBad++;
            firstBad ??= { line: rec.row, reason: built };
            if (quarantine) rows.push([location, BigInt(rec.row), file.modifiedMicros, built, rawText(rec)]);
          } else if (!quarantine) {
            rows.push(built);
            fileRows++;
          }
          if (builder.takeAdded().length && !quarantine) {
            // rows built before the new column get its NULL
            announce = true;
            for (const r of rows) while (r.length < builder.columns.length) r.push(null);
          }
          current = { path: file.path, sig, pos: rec.pos };
          if (rows.length >= ctx.batchSize) yield batch();
          if (ctx.signal.aborted) {
            if (rows.length) yield batch();
            return;
          }
        }
      }
      done[file.path] = sig;
      current = undefined;
      totals.files++;
      totals.rows += fileRows;
      totals.bad += fileBad;
      if (fileBad) log.warn({ file: location, badRecords: fileBad, firstLine: firstBad?.line, firstReason: firstBad?.reason, policy: spec.badRecords }, quarantine ? 'quarantined bad records' : 'bad records not landed');
      log.debug({ file: location, rows: fileRows, badRecords: fileBad }, 'file done');
    }
    yield batch();
    log.info({ files: totals.files, rows: totals.rows, badRecords: totals.bad, policy: spec.badRecords, columns: builder.columns.length }, 'stream read');
  } finally {
    await store.close();
  }
}
