/**
 * The page buffers of `column-chunk.ts`: a growable `Buffer` with a `DataView` over it, and the two
 * appends a PLAIN page needs (a length-prefixed string or byte array).
 */
/** A growable byte buffer with a DataView over it. */
export class Bytes {
  buf: Buffer;
  view: DataView;
  len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Make room for `n` more bytes. */
  room(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.byteLength * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Append a string's UTF-8 with its uint32 length before it; returns where the bytes start. */
  string(s: string): number {
    this.room(4 + 3 * s.length);
    const at = this.len + 4;
    const n = this.buf.utf8Write(s, at);
    this.view.setUint32(this.len, n, true);
    this.len = at + n;
    return at;
  }

  /** Append bytes (with a uint32 length before them when `prefixed`); returns where they start. */
  bytes(b: Uint8Array, prefixed: boolean): number {
    this.room(4 + b.byteLength);
    if (prefixed) {
      this.view.setUint32(this.len, b.byteLength, true);
      this.len += 4;
    }
    const at = this.len;
    this.buf.set(b, at);
    this.len += b.byteLength;
    return at;
  }

  /** A copy of `[from, to)`. */
  copy(from: number, to: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, from, to);
  }
}

declare global {
  interface Buffer {
    /** Node's UTF-8 writer without `write()`'s argument parsing (present since Node 0.x). */
    utf8Write(s: string, offset?: number, length?: number): number;
  }
}
