/**
 * A CSV scanner over UTF-8 bytes, for dialects whose delimiter, quote and escape are single ASCII
 * characters (every common one; others go through csv-parse, see `csv.ts`). It finds records and
 * fields by byte and slices each field into a string once; a record's source text is only decoded
 * when it is asked for (bad records, the quarantine). See docs/decisions/0006-csv-scanner.md for
 * why it is not a library, and what it measured.
 *
 * The grammar is RFC 4180 with the usual liberties:
 * - records end at `\n`, `\r\n` or a lone `\r`; a last record needs no line end; empty lines are
 *   skipped (they still count as lines);
 * - a field that begins with the quote is quoted: it runs to the closing quote, over delimiters and
 *   line ends; inside it the escape (by default the quote itself, i.e. doubling) followed by the
 *   quote or the escape stands for that character, and is otherwise kept as it is;
 * - anything else is unquoted and runs to the next delimiter or line end.
 *
 * Syntax errors are reported as records with a reason and the lines they cover, never by altering
 * a value, and scanning goes on at the next line (the codes are the ones csv-parse uses):
 * - `CSV_INVALID_CLOSING_QUOTE`: a closing quote followed by something other than a delimiter or a
 *   line end;
 * - `CSV_INVALID_OPENING_QUOTE`: a quote inside an unquoted field;
 * - `CSV_QUOTE_NOT_CLOSED`: the file ends inside a quoted field (the rest of the file is the record);
 * - `CSV_RECORD_TOO_LONG`: a record over {@link RECORD_MAX_BYTES} (most likely an unclosed quote);
 *   the file stops there, as memory must stay bounded.
 */

/** The longest record held in memory. */
export const RECORD_MAX_BYTES = 64 << 20;

const LF = 0x0a;
const CR = 0x0d;

/** The characters of a dialect, as bytes. */
export interface ScanDialect {
  delimiter: number;
  quote: number;
  escape: number;
}

/** One record found: its fields (or an error), its byte range in `data` and its lines. */
export interface Scanned {
  fields: string[];
  data: Buffer;
  /** Byte range of the record in `data`, its line end included. */
  start: number;
  end: number;
  firstLine: number;
  lastLine: number;
  /** A syntax error: the code, e.g. `CSV_INVALID_CLOSING_QUOTE`. */
  error?: string;
  /** The error ends the file. */
  fatal?: boolean;
}

declare global {
  interface Buffer {
    /** Node's UTF-8 decoder of a range, without `toString()`'s argument checks. */
    utf8Slice(start: number, end: number): string;
  }
}

/** The single ASCII bytes of a dialect, or undefined when one of its characters is not one. */
export function scanDialect(delimiter: string, quote: string, escape: string): ScanDialect | undefined {
  const byte = (c: string): number | undefined => (c.length === 1 && c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : undefined);
  const d = byte(delimiter);
  const q = byte(quote);
  const e = byte(escape);
  if (d === undefined || q === undefined || e === undefined || d === q || d === LF || d === CR || q === LF || q === CR) return undefined;
  return { delimiter: d, quote: q, escape: e };
}

/**
 * Scans records out of consecutive byte chunks (see the module comment).
 *
 * @example
 * const s = new CsvScanner({ delimiter: 0x2c, quote: 0x22, escape: 0x22 });
 * for await (const chunk of bytes) s.push(chunk, (r) => out.push(r));
 * s.end((r) => out.push(r));
 */
export class CsvScanner {
  /** The physical line the scan position is on (1-based). */
  private line = 1;
  /** Bytes of an unfinished record, waiting for the next chunk. */
  private carry: Buffer | undefined;
  /** Chunks gathered while a long unfinished record grows (scanned again only once it doubled). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stopped = false;

  constructor(
    private readonly d: ScanDialect,
    /** The longest record held (tests set a small one). */
    private readonly maxRecordBytes = RECORD_MAX_BYTES,
  ) {}

  /** The line the scanner has reached (for an error that ends the file). */
  get lineNumber(): number {
    return this.line;
  }

  /** Scan a chunk; calls `emit` for every record it completes. */
  push(chunk: Buffer, emit: (r: Scanned) => void): void {
    if (this.stopped) return;
    if (this.carry && this.carry.length > 4 * chunk.length && this.pendingBytes + chunk.length < this.carry.length) {
      // a record longer than many chunks: rescanning it on every chunk would be quadratic
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.carry.length + this.pendingBytes > this.maxRecordBytes) this.tooLong(emit);
      return;
    }
    const data = this.carry ? Buffer.concat([this.carry, ...this.pending, chunk]) : chunk;
    this.pending = [];
    this.pendingBytes = 0;
    const next = this.scan(data, false, emit);
    this.carry = next < data.length ? data.subarray(next) : undefined;
    if (this.carry && this.carry.length > this.maxRecordBytes) this.tooLong(emit);
  }

  /** The unfinished record outgrew the limit: report it and read no further. */
  private tooLong(emit: (r: Scanned) => void): void {
    this.stopped = true;
    const data = this.carry!;
    this.carry = undefined;
    this.pending = [];
    emit({ fields: [], data, start: 0, end: 0, firstLine: this.line, lastLine: this.line, error: 'CSV_RECORD_TOO_LONG', fatal: true });
  }

  /** The end of the input: the last record needs no line end. */
  end(emit: (r: Scanned) => void): void {
    if (this.stopped) return;
    const data = this.carry ? Buffer.concat([this.carry, ...this.pending]) : undefined;
    this.carry = undefined;
    this.pending = [];
    if (data) this.scan(data, true, emit);
  }

  /** Scan complete records of `data`; returns the offset of the first byte not consumed. */
  private scan(data: Buffer, final: boolean, emit: (r: Scanned) => void): number {
    const { delimiter, quote, escape } = this.d;
    const n = data.length;
    let i = 0;
    records: while (i < n) {
      const start = i;
      const firstLine = this.line;
      let c = data[i]!;
      // an empty line
      if (c === LF || c === CR) {
        if (c === CR && i + 1 >= n && !final) return i;
        i += c === CR && data[i + 1] === LF ? 2 : 1;
        this.line++;
        continue;
      }
      const fields: string[] = [];
      let error: string | undefined;
      for (;;) {
        if (i >= n) {
          if (!final) return this.unfinished(start, firstLine);
          // the file ends after a delimiter: an empty last field
          fields.push('');
          emit({ fields, data, start, end: n, firstLine, lastLine: this.line });
          return n;
        }
        c = data[i]!;
        if (c === quote) {
          let j = i + 1;
          let value = '';
          let seg = j;
          let closed = false;
          while (j < n) {
            const b = data[j]!;
            if (b === escape && escape !== quote && j + 1 < n && (data[j + 1] === quote || data[j + 1] === escape)) {
              value += data.utf8Slice(seg, j);
              seg = j + 1;
              j += 2;
              continue;
            }
            if (b === quote) {
              if (escape === quote && j + 1 < n && data[j + 1] === quote) {
                value += data.utf8Slice(seg, j + 1);
                j += 2;
                seg = j;
                continue;
              }
              // a quote at the end of the data may be the first of a doubled one
              if (escape === quote && j + 1 >= n && !final) break;
              closed = true;
              break;
            }
            if (b === LF) this.line++;
            else if (b === CR && data[j + 1] !== LF) this.line++;
            j++;
          }
          if (!closed) {
            if (!final) return this.unfinished(start, firstLine);
            emit({ fields: [], data, start, end: n, firstLine, lastLine: this.line, error: 'CSV_QUOTE_NOT_CLOSED', fatal: true });
            return n;
          }
          fields.push(value + data.utf8Slice(seg, j));
          i = j + 1;
          if (i < n) {
            c = data[i]!;
            if (c !== delimiter && c !== LF && c !== CR) error = 'CSV_INVALID_CLOSING_QUOTE';
          }
        } else {
          let j = i;
          while (j < n) {
            const b = data[j]!;
            if (b === delimiter || b === LF || b === CR) break;
            if (b === quote) {
              error = 'CSV_INVALID_OPENING_QUOTE';
              break;
            }
            j++;
          }
          if (j >= n && !final) return this.unfinished(start, firstLine);
          if (!error) fields.push(j === i ? '' : data.utf8Slice(i, j));
          i = j;
        }
        if (error) {
          // the rest of the line belongs to the bad record; scanning goes on at the next one
          let j = i;
          while (j < n && data[j] !== LF && data[j] !== CR) j++;
          if (j >= n && !final) return this.unfinished(start, firstLine);
          // a CR at the end of the data may be the first half of a CRLF
          if (j === n - 1 && data[j] === CR && !final) return this.unfinished(start, firstLine);
          const end = j >= n ? n : data[j] === CR && data[j + 1] === LF ? j + 2 : j + 1;
          emit({ fields: [], data, start, end, firstLine, lastLine: this.line, error });
          if (j < n) this.line++;
          i = end;
          continue records;
        }
        if (i >= n) {
          // what follows the field is in the next chunk
          if (!final) return this.unfinished(start, firstLine);
          emit({ fields, data, start, end: n, firstLine, lastLine: this.line });
          return n;
        }
        c = data[i]!;
        if (c === delimiter) {
          i++;
          continue;
        }
        // a line end: LF, CRLF, or a lone CR (a CR at the end of the data waits for what follows)
        if (c === CR && i + 1 >= n && !final) return this.unfinished(start, firstLine);
        const end = c === CR && data[i + 1] === LF ? i + 2 : i + 1;
        emit({ fields, data, start, end, firstLine, lastLine: this.line });
        this.line++;
        i = end;
        continue records;
      }
    }
    return n;
  }

  /** The record that starts at `start` is unfinished: it is scanned again with more data. */
  private unfinished(start: number, firstLine: number): number {
    this.line = firstLine;
    return start;
  }
}
