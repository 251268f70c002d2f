/**
 * CSV and TSV through csv-parse: delimiter, quote, escape, header or not, multi-line quoted fields,
 * `\n`/`\r\n` line ends, any encoding (see `text.ts`). Records and parse errors are collected in the
 * parser's own order (its `on_record`/`on_skip` hooks), so a bad record keeps its place between good
 * ones: ragged rows, broken quoting and bytes invalid in the encoding become error records with their line and raw text.
 */
import { Parser, type CsvError, type Options } from 'csv-parse';
import { INVALID_UTF8, invalidBytesReason, utf8Bytes, type DecodeInfo } from '../text.js';
import { UnreadableFile } from '../decompress.js';
import { ungrouped } from './groups.js';
import { CsvScanner, RECORD_MAX_BYTES, scanDialect, type ScanDialect, type Scanned } from './csv-scan.js';
import type { FileRecord, FileSource, FormatReader, ReadOptions } from './types.js';

interface Parsed {
  record: string[];
  raw: string;
}

/** Unique, non-empty column names from a header record. */
export function headerNames(fields: readonly string[]): string[] {
  const seen = new Set<string>();
  return fields.map((f, i) => {
    let name = f === '' ? `column_${i + 1}` : f;
    for (let k = 2; seen.has(name); k++) name = `${f || `column_${i + 1}`}_${k}`;
    seen.add(name);
    return name;
  });
}

/**
 * csv-parse's stream parser with its records taken as it pushes them: synchronously, in order with
 * its `on_skip` errors, and without the per-record info object an `on_record` hook would build.
 */
class CapturingParser extends Parser {
  constructor(
    private readonly onPush: (rec: Parsed) => void,
    options: Options,
  ) {
    super(options);
  }

  override push(chunk: unknown): boolean {
    if (chunk === null) return super.push(null);
    this.onPush(chunk as Parsed);
    return true;
  }
}

function write(parser: Parser, chunk: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (chunk) parser.write(chunk, done);
    else {
      parser.once('error', reject);
      parser.end(() => resolve());
    }
  });
}

/** Column names from the first record: its fields (header) or `column_1`, `column_2`, … */
function namesOf(first: readonly string[], header: boolean): string[] {
  return header ? headerNames(first) : first.map((_, i) => `column_${i + 1}`);
}

/** Why a parsed record cannot be read, if it cannot: undecodable bytes first (they may also be what makes a row look ragged), then raggedness. */
function recordError(fields: number, names: number, undecodable: boolean, decode: DecodeInfo): string | undefined {
  if (undecodable) return invalidBytesReason(decode);
  if (fields !== names) return `ragged row: ${fields} fields where the header has ${names}`;
  return undefined;
}

/** A record of the scanner: its source text is decoded only when asked for. */
class ScannedRecord implements FileRecord {
  error?: string;
  fatal?: boolean;

  constructor(
    readonly pos: number,
    readonly row: number,
    readonly names: readonly string[],
    readonly values: readonly unknown[],
    private readonly data: Buffer,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get raw(): string {
    return this.data.utf8Slice(this.start, this.end);
  }
}

/** Records through {@link CsvScanner} (single-byte ASCII dialects). */
async function* scannedGroups(source: FileSource, opts: ReadOptions, dialect: ScanDialect): AsyncIterable<FileRecord[]> {
  const d = opts.csv;
  const decode: DecodeInfo = { invalid: false, encoding: d.encoding };
  const scanner = new CsvScanner(dialect);
  let names: string[] | undefined;
  const queue: FileRecord[] = [];
  const onRecord = (r: Scanned): void => {
    if (r.error) {
      const more = r.lastLine > r.firstLine ? ` (the unparsable text runs to line ${r.lastLine})` : '';
      const rec = new ScannedRecord(r.lastLine, r.firstLine, [], [], r.data, r.start, r.end);
      rec.error = r.error === 'CSV_RECORD_TOO_LONG' ? `CSV syntax: ${r.error} at line ${r.firstLine}: a record of more than ${RECORD_MAX_MB} MiB (an unclosed quote?); the rest of the file is not read` : `CSV syntax: ${r.error} at line ${r.firstLine}${more}`;
      if (r.fatal) rec.fatal = true;
      queue.push(rec);
      return;
    }
    if (!names) {
      names = namesOf(r.fields, d.header);
      if (d.header) return;
    }
    const rec = new ScannedRecord(r.lastLine, r.firstLine, names, r.fields, r.data, r.start, r.end);
    const error = recordError(r.fields.length, names.length, decode.invalid && r.data.subarray(r.start, r.end).includes(INVALID_UTF8_BYTES), decode);
    if (error) rec.error = error;
    queue.push(rec);
  };
  try {
    for await (const chunk of utf8Bytes(source.bytes(), d.encoding, decode)) {
      opts.signal.throwIfAborted();
      scanner.push(chunk, onRecord);
      if (queue.length) yield queue.splice(0);
    }
    scanner.end(onRecord);
    if (queue.length) yield queue.splice(0);
  } catch (e) {
    if (!(e instanceof UnreadableFile)) throw e;
    queue.push({ pos: Number.MAX_SAFE_INTEGER, row: scanner.lineNumber, names: [], values: [], error: e.message, fatal: true, raw: '' });
    yield queue.splice(0);
  }
}

const RECORD_MAX_MB = RECORD_MAX_BYTES >> 20;
const INVALID_UTF8_BYTES = Buffer.from(INVALID_UTF8, 'utf8');

/** The CSV (or TSV) reader. */
export function csvReader(format: 'csv' | 'tsv'): FormatReader {
  return {
    format,
    kind: 'text',
    records: (source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord> => ungrouped(recordGroups(source, opts)),
    recordGroups,
  };
  async function* recordGroups(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord[]> {
    const d = opts.csv;
    const delimiter = d.delimiter ?? (format === 'tsv' ? '\t' : ',');
    const fast = scanDialect(delimiter, d.quote, d.escape);
    if (fast) {
      yield* scannedGroups(source, opts, fast);
      return;
    }
    const decode: DecodeInfo = { invalid: false, encoding: d.encoding };
    const queue: FileRecord[] = [];
    let names: string[] | undefined;
    let prevEnd = 0;
    let skipped: { reason: string; raw: string } | undefined;
    let prevEmpty = 0;
    /**
     * The first and last line of a record: after the previous record and the empty lines skipped
     * since, spanning the line breaks of its raw text. Counted here because csv-parse counts a CRLF
     * inside quotes as two lines (and keeps skipped empty lines in the raw text only sometimes).
     */
    const span = (raw: string, emptyLines: number): { start: number; end: number } => {
      const core = raw.replace(/^[\r\n]+/, '');
      const nl = core.includes('\n') ? '\n' : '\r';
      const breaks = core.split(nl).length - 1;
      const start = prevEnd + (emptyLines - prevEmpty) + 1;
      const end = start + breaks - (core.endsWith(nl) ? 1 : 0);
      prevEnd = Math.max(end, start);
      prevEmpty = emptyLines;
      return { start, end: prevEnd };
    };
    const flushSkip = (): void => {
      if (!skipped) return;
      const { start, end } = span(skipped.raw, parser.info.empty_lines);
      // a broken quote can hide record ends: say how far the unparsable text runs
      const more = end > start ? ` (the unparsable text runs to line ${end})` : '';
      queue.push({ pos: end, row: start, names: [], values: [], error: `${skipped.reason} at line ${start}${more}`, raw: skipped.raw });
      skipped = undefined;
    };
    const onRecord = ({ record, raw }: Parsed): void => {
      flushSkip();
      const { start, end } = span(raw, parser.info.empty_lines);
      if (!names) {
        names = namesOf(record, d.header);
        if (d.header) return;
      }
      // raw is kept for the quarantine (a value may still not fit its column)
      const rec: FileRecord = { pos: end, row: start, names, values: record, raw };
      const error = recordError(record.length, names.length, decode.invalid && raw.includes(INVALID_UTF8), decode);
      if (error) rec.error = error;
      queue.push(rec);
    };
    const parser = new CapturingParser(onRecord, {
      delimiter,
      quote: d.quote,
      escape: d.escape,
      relax_column_count: true,
      skip_records_with_error: true,
      skip_empty_lines: true,
      raw: true,
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        const text = raw ?? '';
        // csv-parse reports one broken record again as it grows: keep its first reason, its last text
        if (skipped && text.startsWith(skipped.raw)) skipped = { ...skipped, raw: text };
        else {
          flushSkip();
          skipped = { reason: `CSV syntax: ${err?.code ?? 'unparsable record'}`, raw: text };
        }
        return undefined;
      },
    });
    try {
      for await (const chunk of utf8Bytes(source.bytes(), d.encoding, decode)) {
        opts.signal.throwIfAborted();
        await write(parser, chunk);
        if (queue.length) yield queue.splice(0);
      }
      await write(parser, undefined);
      flushSkip();
      if (queue.length) yield queue.splice(0);
    } catch (e) {
      if (e instanceof RangeError && /encoding/i.test(e.message)) throw e;
      if (!(e instanceof UnreadableFile) && !(e as CsvError).code?.startsWith?.('CSV_')) throw e;
      flushSkip();
      queue.push({ pos: Number.MAX_SAFE_INTEGER, row: prevEnd + 1, names: [], values: [], error: e instanceof UnreadableFile ? e.message : `CSV syntax: ${(e as CsvError).code}`, fatal: true, raw: '' });
      yield queue.splice(0);
    } finally {
      parser.destroy();
    }
  }
}
