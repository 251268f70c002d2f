/**
 * Which {@link FormatReader} reads a file: the stream's configured format, else the extension (after
 * a compression extension), confirmed by sniffing the first bytes — Parquet's `PAR1` magic wins over
 * any name, `[` means a JSON array, `{` NDJSON (or one JSON object when the first line is not a
 * complete value), anything else CSV.
 */
import type { FileFormat } from '../config.js';
import { compressionOfName } from '../decompress.js';
import { csvReader } from './csv.js';
import { jsonReader, ndjsonReader } from './json.js';
import { parquetReader } from './parquet.js';
import type { FormatName, FormatReader } from './types.js';

export type { FileRecord, FileSource, FormatName, FormatReader, ReadOptions, ValueKind } from './types.js';

const READERS: Record<FormatName, FormatReader> = {
  csv: csvReader('csv'),
  tsv: csvReader('tsv'),
  json: jsonReader,
  ndjson: ndjsonReader,
  parquet: parquetReader,
};

/** The reader of a format. */
export function readerOf(format: FormatName): FormatReader {
  return READERS[format];
}

/** The format a file name says (`orders.csv.gz` → csv), if any. */
export function formatOfName(path: string): FormatName | undefined {
  const { base } = compressionOfName(path);
  const m = /\.([a-z0-9]+)$/i.exec(base);
  switch (m?.[1]?.toLowerCase()) {
    case 'csv':
    case 'txt':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'json':
      return 'json';
    case 'ndjson':
    case 'jsonl':
      return 'ndjson';
    case 'parquet':
    case 'pq':
      return 'parquet';
    default:
      return undefined;
  }
}

/** True when the bytes begin with Parquet's magic. */
export function isParquetMagic(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}

function sniffJson(head: string): 'json' | 'ndjson' {
  const t = head.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('[')) return 'json';
  const nl = t.indexOf('\n');
  const first = nl < 0 ? t : t.slice(0, nl);
  try {
    JSON.parse(first);
    return 'ndjson';
  } catch {
    // a first line that is not a whole value: one (pretty-printed) object, or a truncated head
    return nl < 0 && t.length >= 4096 ? 'ndjson' : 'json';
  }
}

/**
 * The format of a text file, from the configured format, its name and its first decompressed bytes.
 * Parquet is decided before (it needs random access, see `read-file.ts`).
 */
export function textFormat(configured: FileFormat, path: string, head: Buffer): FormatName {
  const named = configured === 'auto' ? formatOfName(path) : configured;
  const text = head.toString('utf8');
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (named === 'csv' || named === 'tsv') return named;
  if (named === 'ndjson') return 'ndjson';
  if (named === 'json') return sniffJson(text);
  if (first === '[' || first === '{') return sniffJson(text);
  return 'csv';
}
