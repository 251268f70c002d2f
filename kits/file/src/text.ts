/**
 * Text decoding for CSV, NDJSON and JSON: the bytes come out as valid UTF-8, whatever the file's
 * encoding. A BOM (UTF-8, UTF-16LE/BE) wins over FILE_ENCODING. In UTF-8 input, every invalid byte
 * sequence becomes {@link INVALID_UTF8} — the noncharacter U+10FFFF, which Unicode reserves for
 * internal use — so the record holding it can be reported as a bad record instead of being landed
 * with silently replaced characters. Valid chunks (the normal case) pass through untouched. Other
 * encodings go through a TextDecoder; where one cannot decode its input (UTF-16 of odd length or with
 * an unpaired surrogate, a broken Shift_JIS sequence…) the replacement characters it produces are
 * marked the same way, line by line, apart from a U+FFFD the file really holds (see
 * {@link CheckedDecoder}; latin1 and windows-1252 map every byte, so they never fail).
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/** Marks an invalid UTF-8 sequence in decoded text (U+10FFFF, a noncharacter). */
export const INVALID_UTF8 = '\u{10FFFF}';
const INVALID_BYTES = Buffer.from(INVALID_UTF8, 'utf8');

/** What decoding saw, for the readers. */
export interface DecodeInfo {
  /** Some bytes were not valid in the encoding (records must be checked for {@link INVALID_UTF8}). */
  invalid: boolean;
  encoding: string;
}

/** The bad-record reason for a record holding {@link INVALID_UTF8}: `invalid UTF-8 byte sequence`, `invalid utf-16le byte sequence`. */
export function invalidBytesReason(info: DecodeInfo): string {
  return `invalid ${isUtf8Name(info.encoding) ? 'UTF-8' : info.encoding} byte sequence`;
}

/** Past this many bytes without a safe split point, a chunk is decoded anyway (a split character is then reported, never altered). */
const MAX_CARRY = 8 * 1024 * 1024;

/**
 * A TextDecoder for encodings other than UTF-8 whose failures are marked as {@link INVALID_UTF8}.
 * The bytes are cut where no character can be split (UTF-16: an even offset outside a surrogate
 * pair; ISO-2022-JP: after a line feed; other ASCII-compatible encodings: after a byte below 0x30,
 * which is never part of a multi-byte character, GB18030's four-byte ones included) and each piece is
 * decoded on its own by a fatal decoder. A piece it refuses is decoded again line by line, and only
 * the lines that still fail have their replacement characters marked — a U+FFFD the file really holds
 * elsewhere is kept. windows-1252 (also `latin1`, `ascii`, `iso-8859-1`) maps every byte and is decoded as it is.
 */
class CheckedDecoder {
  private readonly lenient: TextDecoder;
  private readonly strict: TextDecoder | undefined;
  private readonly kind: 'utf-16le' | 'utf-16be' | 'lines' | 'ascii';
  private carry: Buffer | undefined;

  constructor(
    encoding: string,
    private readonly info: DecodeInfo,
  ) {
    this.lenient = new TextDecoder(encoding, { ignoreBOM: true });
    const name = this.lenient.encoding;
    if (name !== 'windows-1252') this.strict = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
    this.kind = name === 'utf-16le' || name === 'utf-16be' ? name : name === 'iso-2022-jp' ? 'lines' : 'ascii';
  }

  /** Decoded text of the next chunk; without one, of what is left at the end of the input. */
  decode(chunk?: Buffer): string {
    if (!this.strict) return chunk ? this.lenient.decode(chunk, { stream: true }) : this.lenient.decode();
    const buf = this.carry && chunk ? Buffer.concat([this.carry, chunk]) : (chunk ?? this.carry ?? Buffer.alloc(0));
    let end = chunk ? this.safeEnd(buf) : buf.length;
    if (end === 0 && buf.length > MAX_CARRY) end = buf.length;
    this.carry = end < buf.length ? Buffer.from(buf.subarray(end)) : undefined;
    const body = buf.subarray(0, end);
    if (!body.length) return '';
    try {
      return this.strict.decode(body);
    } catch {
      this.info.invalid = true;
      let out = '';
      for (const line of this.lines(body)) {
        try {
          out += this.strict.decode(line);
        } catch {
          out += this.lenient.decode(line).replaceAll('\uFFFD', INVALID_UTF8);
        }
      }
      return out;
    }
  }

  private isNewline(b: Buffer, i: number): boolean {
    if (this.kind === 'utf-16le') return i % 2 === 0 && b[i] === 0x0a && b[i + 1] === 0x00;
    if (this.kind === 'utf-16be') return i % 2 === 0 && b[i] === 0x00 && b[i + 1] === 0x0a;
    return b[i] === 0x0a;
  }

  /** Length of the longest prefix of `b` that ends between two characters. */
  private safeEnd(b: Buffer): number {
    if (this.kind === 'utf-16le' || this.kind === 'utf-16be') {
      let n = b.length & ~1;
      const unit = n >= 2 ? (this.kind === 'utf-16le' ? b[n - 2]! | (b[n - 1]! << 8) : (b[n - 2]! << 8) | b[n - 1]!) : 0;
      if (unit >= 0xd800 && unit <= 0xdbff) n -= 2;
      return n;
    }
    for (let i = b.length - 1; i >= 0; i--) if (this.kind === 'lines' ? b[i] === 0x0a : b[i]! < 0x30) return i + 1;
    return 0;
  }

  /** `b` cut after each line feed. */
  private *lines(b: Buffer): Iterable<Buffer> {
    let start = 0;
    const width = this.kind === 'utf-16le' || this.kind === 'utf-16be' ? 2 : 1;
    for (let i = 0; i < b.length; i += width) {
      if (!this.isNewline(b, i)) continue;
      yield b.subarray(start, i + width);
      start = i + width;
    }
    if (start < b.length) yield b.subarray(start);
  }
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
  let decoder: CheckedDecoder | undefined;
  for await (let chunk of bytes) {
    if (first) {
      first = false;
      const bom = bomOf(chunk);
      info.encoding = bom?.encoding ?? encoding;
      if (bom) chunk = chunk.subarray(bom.skip);
      if (!isUtf8Name(info.encoding)) decoder = new CheckedDecoder(info.encoding, info);
    }
    if (decoder) {
      const text = decoder.decode(chunk);
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
