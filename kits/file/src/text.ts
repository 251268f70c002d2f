/**
 * Text decoding for CSV, NDJSON and JSON: the bytes come out as valid UTF-8, whatever the file's
 * encoding. A BOM (UTF-8, UTF-16LE/BE) wins over FILE_ENCODING. In UTF-8 input, every invalid byte
 * sequence becomes {@link INVALID_UTF8} — the noncharacter U+10FFFF, which Unicode reserves for
 * internal use — so the record holding it can be reported as a bad record instead of being landed
 * with silently replaced characters. Valid chunks (the normal case) pass through untouched.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/** Marks an invalid UTF-8 sequence in decoded text (U+10FFFF, a noncharacter). */
export const INVALID_UTF8 = '\u{10FFFF}';
const INVALID_BYTES = Buffer.from(INVALID_UTF8, 'utf8');

/** What decoding saw, for the readers. */
export interface DecodeInfo {
  /** Some bytes were not valid UTF-8 (records must be checked for {@link INVALID_UTF8}). */
  invalid: boolean;
  encoding: string;
}

/** Bytes at the end of `b` that start a character not yet complete. */
function incompleteTail(b: Buffer): number {
  const n = b.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Copy `b` with each maximal invalid UTF-8 subsequence replaced by {@link INVALID_BYTES}. */
export function markInvalidUtf8(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    let len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) len = 3;
    else if (c >= 0xf0 && c <= 0xf4) len = 4;
    let ok = len > 0 && i + len <= n;
    if (ok && len > 1) {
      const c1 = b[i + 1]!;
      if (c === 0xe0) ok = c1 >= 0xa0 && c1 <= 0xbf;
      else if (c === 0xed) ok = c1 >= 0x80 && c1 <= 0x9f; // no surrogates
      else if (c === 0xf0) ok = c1 >= 0x90 && c1 <= 0xbf;
      else if (c === 0xf4) ok = c1 >= 0x80 && c1 <= 0x8f;
      else ok = (c1 & 0xc0) === 0x80;
      for (let k = 2; ok && k < len; k++) ok = (b[i + k]! & 0xc0) === 0x80;
    }
    if (ok) {
      i += len;
      continue;
    }
    if (i > start) out.push(b.subarray(start, i));
    out.push(INVALID_BYTES);
    i += 1;
    while (i < n && (b[i]! & 0xc0) === 0x80) i += 1; // the rest of the broken sequence
    start = i;
  }
  if (start < n) out.push(b.subarray(start));
  return Buffer.concat(out);
}

function bomOf(head: Buffer): { encoding: string; skip: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', skip: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', skip: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', skip: 2 };
  return undefined;
}

/** True when the encoding name means UTF-8. */
export function isUtf8Name(encoding: string): boolean {
  return /^utf-?8$/i.test(encoding);
}

/**
 * UTF-8 bytes of a text file (see the module comment). `info` is updated as decoding goes.
 * Throws a RangeError for an encoding this Node does not know.
 */
export async function* utf8Bytes(bytes: AsyncIterable<Buffer>, encoding: string, info: DecodeInfo): AsyncIterable<Buffer> {
  let first = true;
  let carry: Buffer | undefined;
  let decoder: TextDecoder | undefined;
  for await (let chunk of bytes) {
    if (first) {
      first = false;
      const bom = bomOf(chunk);
      info.encoding = bom?.encoding ?? encoding;
      if (bom) chunk = chunk.subarray(bom.skip);
      if (!isUtf8Name(info.encoding)) decoder = new TextDecoder(info.encoding);
    }
    if (decoder) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield Buffer.from(text, 'utf8');
      continue;
    }
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    const tail = incompleteTail(buf);
    const body = tail ? buf.subarray(0, buf.length - tail) : buf;
    carry = tail ? Buffer.from(buf.subarray(buf.length - tail)) : undefined;
    if (!body.length) continue;
    if (isUtf8(body)) yield body;
    else {
      info.invalid = true;
      yield markInvalidUtf8(body);
    }
  }
  if (decoder) {
    const text = decoder.decode();
    if (text) yield Buffer.from(text, 'utf8');
  } else if (carry) {
    info.invalid = true;
    yield markInvalidUtf8(carry);
  }
}
