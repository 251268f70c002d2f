/**
 * Which {@link FormatReader} reads a file: the stream's configured format, else the extension (after
 * a compression extension), confirmed by sniffing the first bytes — Parquet's `PAR1` magic wins over
 * any name, `[` means a JSON array, `{` NDJSON (or one JSON object when the first line is not a
 * complete value), anything else CSV. Content that contradicts the name (binary in a text format,
 * JSON in a `.csv`, text in a `.ndjson`) is an unreadable file, not rows of garbage.
 */
import type { FileFormat } from '../config.js';
import { TextDecoder } from 'node:util';
import { compressionOfName, UnreadableFile } from '../decompress.js';
import { isUtf8Name } from '../text.js';
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

/** Decode the sniffed head as the reader will (a BOM wins); an unknown encoding falls back to UTF-8. */
function headText(head: Buffer, encoding: string): string {
  let enc = encoding;
  let body = head;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) [enc, body] = ['utf-8', head.subarray(3)];
  else if (head[0] === 0xff && head[1] === 0xfe) [enc, body] = ['utf-16le', head.subarray(2)];
  else if (head[0] === 0xfe && head[1] === 0xff) [enc, body] = ['utf-16be', head.subarray(2)];
  if (isUtf8Name(enc)) return body.toString('utf8');
  try {
    return new TextDecoder(enc).decode(body);
  } catch {
    return body.toString('utf8');
  }
}

/**
 * True when decoded text is binary rather than text: it holds a NUL, or more than 5 % C0 control
 * characters besides tab, line feed, form feed and carriage return. Text in any encoding, decoded,
 * has neither (a UTF-16 file read as UTF-16 has no NULs left).
 */
export function looksBinary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) controls++;
  }
  return controls > 0 && controls > text.length * 0.05;
}

/**
 * True when text (trimmed) is the start of a JSON document rather than CSV: its first line is a whole
 * JSON object or array, or it opens one the JSON way (`[{`, `[[`, `["`, `[1`, `{"`, `{}`). A CSV
 * header like `[id],[name]` or `{id},x` is not JSON.
 */
function looksLikeJson(t: string): boolean {
  if (t[0] !== '{' && t[0] !== '[') return false;
  const nl = t.indexOf('\n');
  try {
    const v: unknown = JSON.parse(nl < 0 ? t : t.slice(0, nl));
    if (typeof v === 'object' && v !== null) return true;
  } catch {
    // not one whole line: look at how it opens
  }
  return /^\[\s*(?:[{["\]]|-?\d|true\b|false\b|null\b)|^\{\s*["}]/.test(t);
}

const TEXT_NAMES: Record<FormatName, string> = { csv: 'CSV', tsv: 'TSV', json: 'JSON', ndjson: 'NDJSON', parquet: 'Parquet' };

/**
 * The format of a text file, from the configured format, its name and its first decompressed bytes
 * (`encoding`: the CSV encoding the head is decoded with; JSON is UTF-8). Parquet is decided before
 * (it needs random access, see `read-file.ts`). The sniff confirms the name: binary content, a JSON
 * document where CSV is expected, or non-JSON where JSON is expected throws an {@link UnreadableFile}
 * (one bad record for the whole file) instead of being read as rows of garbage.
 */
export function textFormat(configured: FileFormat, path: string, head: Buffer, encoding = 'utf-8'): FormatName {
  const named = configured === 'auto' ? formatOfName(path) : configured;
  const isJson = named === 'json' || named === 'ndjson';
  const text = headText(head, isJson ? 'utf-8' : encoding);
  const expected = named && named !== 'parquet' ? TEXT_NAMES[named] : 'text';
  if (looksBinary(text)) {
    throw new UnreadableFile(`the content is binary, not ${expected} (a NUL or control characters in its first ${head.length} bytes)${named === 'csv' || named === 'tsv' || !named ? '; check FILE_ENCODING and the file' : ''}`);
  }
  const t = text.trimStart();
  const first = t[0];
  if (named === 'csv' || named === 'tsv') {
    if (looksLikeJson(t)) throw new UnreadableFile(`the content is JSON, not ${expected}; name the file .json or .ndjson, or set the stream's format`);
    return named;
  }
  if (isJson) {
    if (first !== undefined && first !== '{' && first !== '[') throw new UnreadableFile(`the content is not ${expected}: it begins with neither { nor [`);
    return named === 'ndjson' ? 'ndjson' : sniffJson(text);
  }
  if (first === '[' || first === '{') return sniffJson(text);
  return 'csv';
}
