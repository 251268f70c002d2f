/**
 * A streaming decoder of PostgreSQL's binary COPY format, the fastest exact way to read rows out of
 * PostgreSQL: `COPY (SELECT …) TO STDOUT (FORMAT binary)` sends every value in its binary `send` form
 * (no text formatting on the server, no parsing here).
 *
 * Format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): the 11-byte
 * signature `PGCOPY\n\377\r\n\0`, int32 flags, int32 header-extension length and that many bytes;
 * then per tuple an int16 field count followed by, per field, an int32 length (-1 = NULL) and the
 * bytes; then the trailer, an int16 -1. All integers are big-endian.
 */
import { newRow } from '@datakit/core';

/**
 * Turns the bytes `buf[start, end)` of one non-NULL field into its JS value. Decoders must not keep
 * a reference to `buf` (it is the network chunk): copy what they return.
 */
export type FieldDecoder = (buf: Buffer, start: number, end: number) => unknown;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags and extension length. */
const HEADER_FIXED = SIGNATURE.length + 8;
/** Flags bit 16: each tuple carries its OID (only `COPY … WITH OIDS`, gone since PostgreSQL 12). */
const FLAG_OIDS = 0x10000;
const EMPTY = Buffer.alloc(0);

function int32At(buf: Buffer, p: number): number {
  return (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
}

/**
 * Decode PostgreSQL binary COPY output (signature, flags, header extension, tuples, trailer) from a
 * chunked byte stream into rows (arrays in column order, `null` for NULL), yielding arrays of at most
 * `batchSize` rows.
 *
 * Fields are decoded straight from the chunk they arrive in; only a tuple that straddles two chunks
 * is copied (once: chunks are collected until the missing bytes are there, so a 1 GB bytea costs one
 * concatenation, not one per chunk). Throws a clear Error on a bad signature, a field count that
 * differs from `decoders.length`, data after the trailer, or a stream that ends early.
 *
 * @example
 * const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
 * for await (const rows of decodeBinaryCopy(stream, mapped.map((m) => m.decode), 10_000)) { … }
 */
export async function* decodeBinaryCopy(
  source: AsyncIterable<Buffer>,
  decoders: FieldDecoder[],
  batchSize: number,
): AsyncGenerator<unknown[][]> {
  if (!(batchSize >= 1)) throw new RangeError(`batchSize must be at least 1, got ${batchSize}`);
  const n = decoders.length;
  /** Unconsumed bytes are `buf[pos…]` followed by `pending`. */
  let buf: Buffer = EMPTY;
  let pos = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  /** Bytes (from `pos`) that must be available before parsing can make progress again. */
  let need = 0;
  let headerDone = false;
  let done = false;
  let rows = 0;
  let batch: unknown[][] = [];

  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    if (done) throw new Error(`binary COPY: ${chunk.length} unexpected bytes after the trailer`);
    if (pos >= buf.length) {
      buf = chunk;
      pos = 0;
    } else {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (buf.length - pos + pendingLen < need) continue;
      buf = Buffer.concat([buf.subarray(pos), ...pending]);
      pos = 0;
      pending = [];
      pendingLen = 0;
    }
    const end = buf.length;

    if (!headerDone) {
      if (end - pos < HEADER_FIXED) {
        need = HEADER_FIXED;
        continue;
      }
      if (buf.compare(SIGNATURE, 0, SIGNATURE.length, pos, pos + SIGNATURE.length) !== 0) {
        throw new Error('binary COPY: bad signature (is the COPY running with FORMAT binary?)');
      }
      const flags = int32At(buf, pos + SIGNATURE.length);
      if (flags & FLAG_OIDS) throw new Error('binary COPY: tuples with OIDs are not supported');
      const extension = int32At(buf, pos + SIGNATURE.length + 4);
      if (extension < 0) throw new Error(`binary COPY: bad header extension length ${extension}`);
      if (end - pos < HEADER_FIXED + extension) {
        need = HEADER_FIXED + extension;
        continue;
      }
      pos += HEADER_FIXED + extension;
      headerDone = true;
    }

    for (;;) {
      if (end - pos < 2) {
        need = 2;
        break;
      }
      const count = (((buf[pos]! << 24) | (buf[pos + 1]! << 16)) >> 16);
      if (count !== n) {
        if (count !== -1) throw new Error(`binary COPY: row ${rows + 1} has ${count} fields, expected ${n}`);
        pos += 2;
        if (pos < end) throw new Error(`binary COPY: ${end - pos} unexpected bytes after the trailer`);
        done = true;
        break;
      }
      const row = newRow(n);
      let p = pos + 2;
      let missing = 0;
      for (let i = 0; i < n; i++) {
        if (p + 4 > end) {
          missing = p + 4;
          break;
        }
        const len = (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
        p += 4;
        if (len < 0) {
          if (len !== -1) throw new Error(`binary COPY: row ${rows + 1} field ${i + 1} has length ${len}`);
          row[i] = null;
          continue;
        }
        if (p + len > end) {
          missing = p + len;
          break;
        }
        row[i] = decoders[i]!(buf, p, p + len);
        p += len;
      }
      if (missing) {
        need = missing - pos;
        break;
      }
      pos = p;
      rows++;
      batch.push(row);
      if (batch.length >= batchSize) {
        const full = batch;
        batch = [];
        yield full;
      }
    }
  }
  if (!done) {
    const left = buf.length - pos + pendingLen;
    const where = headerDone ? `after ${rows} rows` : 'in the header';
    throw new Error(`binary COPY stream ended early ${where} (${left} bytes of an incomplete ${headerDone ? 'tuple' : 'header'} left)`);
  }
  if (batch.length) yield batch;
}
