/**
 * The records of one file, whatever its store, compression and format: Parquet by random access,
 * everything else as a decompressed byte stream through the format's reader — the format its name
 * (or setting) says, confirmed by sniffing (see `formats/index.ts`). The file is closed
 * when the iteration ends, also on an early stop.
 */
import type { Readable } from 'node:stream';
import { decompressed, UnreadableFile, type Compression } from './decompress.js';
import { formatOfName, isParquetMagic, looksBinary, readerOf, textFormat, type FileRecord, type FormatName } from './formats/index.js';
import { groupsOf, ungrouped } from './formats/groups.js';
import type { FileEntry, FileStore } from './store/types.js';
import type { StreamSpec } from './streams.js';

/** What was opened (for logs). */
export interface Opened {
  format: FormatName;
  compression: Compression;
}

function fatal(reason: string): FileRecord {
  return { pos: Number.MAX_SAFE_INTEGER, row: 1, names: [], values: [], error: reason, fatal: true, raw: '' };
}

/**
 * Read one file's records (see `formats/types.ts`).
 * @example for await (const rec of fileRecords(store, entry, spec, signal)) …
 */
export function fileRecords(store: FileStore, entry: FileEntry, spec: StreamSpec, signal: AbortSignal, onOpen?: (o: Opened) => void): AsyncIterable<FileRecord> {
  return ungrouped(fileRecordGroups(store, entry, spec, signal, onOpen));
}

/**
 * One file's records in groups (see `formats/groups.ts`), in order.
 * @example for await (const group of fileRecordGroups(store, entry, spec, signal)) for (const rec of group) …
 */
export async function* fileRecordGroups(store: FileStore, entry: FileEntry, spec: StreamSpec, signal: AbortSignal, onOpen?: (o: Opened) => void): AsyncIterable<FileRecord[]> {
  const named = spec.format === 'auto' ? formatOfName(entry.path) : spec.format;
  const readRange = (start: number, end: number): Promise<Uint8Array> => store.readRange(entry, start, end, signal);
  const opts = { signal, csv: spec.csv };
  if (named === 'parquet' || named === undefined) {
    const magic = entry.size >= 4 ? await readRange(0, 4) : new Uint8Array(0);
    if (isParquetMagic(magic)) {
      onOpen?.({ format: 'parquet', compression: 'none' });
      yield* groupsOf(readerOf('parquet'), { entry, bytes: () => (async function* () {})(), readRange }, opts);
      return;
    }
    if (named === 'parquet') {
      yield [fatal(entry.size < 4 ? 'not a Parquet file: it is empty or truncated' : 'not a Parquet file (no PAR1 magic); compressed Parquet files are not supported')];
      return;
    }
  }
  let raw: Readable | undefined;
  try {
    raw = await store.open(entry, signal);
    let opened;
    try {
      opened = await decompressed(raw);
    } catch (e) {
      if (!(e instanceof UnreadableFile)) throw e;
      yield [fatal(e.message)];
      return;
    }
    // PAR1 wins over any name; a text file that merely begins with the letters PAR1 is text
    if (isParquetMagic(opened.head) && (named === 'json' || named === 'ndjson' || looksBinary(opened.head.toString('latin1', 4)))) {
      raw.destroy();
      if (opened.compression !== 'none') {
        yield [fatal(`a ${opened.compression}-compressed Parquet file: Parquet files are read uncompressed (they compress inside)`)];
        return;
      }
      onOpen?.({ format: 'parquet', compression: 'none' });
      yield* groupsOf(readerOf('parquet'), { entry, bytes: () => (async function* () {})(), readRange }, opts);
      return;
    }
    let format: FormatName;
    try {
      format = textFormat(spec.format, entry.path, opened.head, spec.csv.encoding);
    } catch (e) {
      if (!(e instanceof UnreadableFile)) throw e;
      yield [fatal(e.message)];
      return;
    }
    onOpen?.({ format, compression: opened.compression });
    yield* groupsOf(readerOf(format), { entry, bytes: () => opened.bytes, readRange }, opts);
  } finally {
    raw?.destroy();
  }
}
