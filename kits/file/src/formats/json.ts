/**
 * NDJSON/JSONL (one object per line) and JSON files (an array of objects, streamed element by
 * element, or one object per file). Values keep their exact source text (see `json-scan.ts`); a line
 * or element that is not a valid JSON object, or holds invalid UTF-8, is an error record.
 */
import { UnreadableFile } from '../decompress.js';
import { INVALID_UTF8, invalidBytesReason, utf8Bytes, type DecodeInfo } from '../text.js';
import { scanRecord } from './json-scan.js';
import type { FileRecord, FileSource, FormatReader, ReadOptions } from './types.js';

/** Largest JSON file read as one object (the whole text is held in memory). */
const MAX_OBJECT_CHARS = 256 * 1024 * 1024;

function toRecord(text: string, pos: number, row: number, decode: DecodeInfo): FileRecord {
  if (decode.invalid && text.includes(INVALID_UTF8)) return { pos, row, names: [], values: [], error: invalidBytesReason(decode), raw: text };
  const r = scanRecord(text);
  if ('error' in r) return { pos, row, names: [], values: [], error: r.error, raw: text };
  // raw is kept for the quarantine (a value may still not fit its column)
  return { pos, row, names: r.names, values: r.values, raw: text };
}

function fatal(e: unknown, pos: number, row: number): FileRecord {
  if (!(e instanceof UnreadableFile)) throw e;
  return { pos: Number.MAX_SAFE_INTEGER, row, names: [], values: [], error: e.message, fatal: true, raw: '' };
}

/** The NDJSON reader: one JSON object per line; blank lines are skipped. */
export const ndjsonReader: FormatReader = {
  format: 'ndjson',
  kind: 'json',
  async *records(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord> {
    const decode: DecodeInfo = { invalid: false, encoding: 'utf-8' };
    let line = 0;
    let carry: Buffer | undefined;
    const lines = function* (text: string): Iterable<FileRecord> {
      for (const l of text.split('\n')) {
        line++;
        const t = l.endsWith('\r') ? l.slice(0, -1) : l;
        if (t.trim() === '') continue;
        yield toRecord(t, line, line, decode);
      }
    };
    try {
      for await (const chunk of utf8Bytes(source.bytes(), 'utf-8', decode)) {
        opts.signal.throwIfAborted();
        const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
        const nl = buf.lastIndexOf(10);
        if (nl < 0) {
          carry = buf;
          continue;
        }
        carry = nl + 1 < buf.length ? Buffer.from(buf.subarray(nl + 1)) : undefined;
        yield* lines(buf.toString('utf8', 0, nl));
      }
      if (carry) yield* lines(carry.toString('utf8'));
    } catch (e) {
      yield fatal(e, line, line + 1);
    }
  },
};

/** Splits the text of a top-level JSON array into element texts, chunk by chunk. */
class ArraySplitter {
  private depth = 0;
  private inString = false;
  private escape = false;
  private parts: string[] = [];
  ended = false;
  trailing = '';

  /** The opening `[` was read. */
  open(): void {
    this.depth = 1;
  }

  /** Element texts completed by this chunk. */
  push(text: string): string[] {
    const out: string[] = [];
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.ended) {
        if (!(c === 32 || c === 10 || c === 13 || c === 9)) this.trailing += text[i];
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92) this.escape = true;
        else if (c === 34) this.inString = false;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93) {
        this.depth--;
        if (this.depth === 0) {
          this.parts.push(text.slice(from, i));
          out.push(this.take());
          this.ended = true;
        }
      } else if (c === 44 && this.depth === 1) {
        this.parts.push(text.slice(from, i));
        out.push(this.take());
        from = i + 1;
      }
    }
    if (!this.ended) this.parts.push(text.slice(from));
    return out;
  }

  private take(): string {
    const s = this.parts.join('');
    this.parts = [];
    return s;
  }
}

/** The JSON reader: a top-level array of objects (streamed), or a single object (one record). */
export const jsonReader: FormatReader = {
  format: 'json',
  kind: 'json',
  async *records(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord> {
    const decode: DecodeInfo = { invalid: false, encoding: 'utf-8' };
    let mode: 'start' | 'array' | 'object' = 'start';
    const splitter = new ArraySplitter();
    const whole: string[] = [];
    let size = 0;
    let index = 0;
    try {
      for await (const chunk of utf8Bytes(source.bytes(), 'utf-8', decode)) {
        opts.signal.throwIfAborted();
        let text = chunk.toString('utf8');
        if (mode === 'start') {
          text = text.trimStart();
          if (!text) continue;
          mode = text.startsWith('[') ? 'array' : 'object';
          if (mode === 'array') {
            text = text.slice(1);
            splitter.open();
          }
        }
        if (mode === 'object') {
          size += text.length;
          if (size > MAX_OBJECT_CHARS) {
            yield { pos: 1, row: 1, names: [], values: [], error: `a JSON file holding one object is read whole and this one is larger than ${MAX_OBJECT_CHARS} characters; write NDJSON instead`, fatal: true, raw: '' };
            return;
          }
          whole.push(text);
          continue;
        }
        for (const el of splitter.push(text)) {
          if (el.trim() === '' && splitter.ended && index === 0) continue; // []
          index++;
          yield toRecord(el, index, index, decode);
        }
      }
      if (mode === 'object') yield toRecord(whole.join(''), 1, 1, decode);
      else if (mode === 'array' && (!splitter.ended || splitter.trailing)) {
        const why = splitter.ended ? `text after the closing ] (${JSON.stringify(splitter.trailing.slice(0, 20))})` : 'the array is not closed (truncated file?)';
        yield { pos: Number.MAX_SAFE_INTEGER, row: index + 1, names: [], values: [], error: `invalid JSON: ${why}`, fatal: true, raw: '' };
      }
    } catch (e) {
      yield fatal(e, index, index + 1);
    }
  },
};
