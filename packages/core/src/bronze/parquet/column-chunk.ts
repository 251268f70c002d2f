/**
 * Column chunks encoded as values arrive. Each value goes straight into its column's page buffer
 * in Parquet's PLAIN form (or, for a low-cardinality string column, as a dictionary index); a page
 * that reaches {@link PAGE_BYTES} is compressed at once, and a row group is only its compressed
 * pages until it is written out. No JavaScript object is kept per value: a row group of strings,
 * bigints and byte arrays held until the end of the group was what the young-generation collector
 * spent its time copying (see docs/decisions/0005-parquet-column-encoder.md).
 *
 * Flat columns only (one leaf per column, definition level 0 or 1, no repetition), which is what
 * core's schema produces. Pages are DATA_PAGE_V2; the page headers, the footer and the offset
 * index are hyparquet-writer's.
 *
 * | physical type         | PLAIN bytes                       | statistics compare           |
 * |-----------------------|-----------------------------------|------------------------------|
 * | INT32                 | int32 LE                          | signed                       |
 * | INT64                 | int64 LE                          | signed (bigint)              |
 * | DOUBLE                | float64 LE                        | numeric; NaN counted apart   |
 * | BOOLEAN               | bit-packed, LSB first             | false < true                 |
 * | BYTE_ARRAY            | uint32 LE length, bytes           | unsigned bytes               |
 * | FIXED_LEN_BYTE_ARRAY  | bytes (uuid), big-endian two's complement (decimal) | bytes / signed (bigint) |
 */
import type { ColumnChunk, Encoding, PageType, SchemaElement } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { Bytes } from './bytes.js';

/** Uncompressed bytes of a data page before it is cut: 1 MiB, as parquet-mr and hyparquet-writer. */
export const PAGE_BYTES = 1 << 20;
/** A string column stops using a dictionary past this many distinct values in a row group. */
const DICTIONARY_MAX_ENTRIES = 32_768;
/** …or past this many dictionary bytes. */
const DICTIONARY_MAX_BYTES = 1 << 20;
/** After this many values of a row group, a dictionary that holds more than half of them is dropped. */
const DICTIONARY_PROBE = 1024;

/** A compressor of page bytes (identity for UNCOMPRESSED). */
export type PageCompressor = (input: Uint8Array) => Uint8Array;

/** One encoded page, held until its row group is written. */
interface Page {
  bytes: Uint8Array;
  rows: number;
  uncompressed: number;
  encoding: Encoding;
}

/** Statistics in the form hyparquet-writer's footer writer takes (`unconvertMinMax`). */
interface Stats {
  min_value?: unknown;
  max_value?: unknown;
  null_count: bigint;
  nan_count?: bigint;
}

/** What a value is compared as for min/max. */
type StatKind = 'number' | 'bigint' | 'boolean' | 'bytes' | 'none';

/** What {@link ColumnChunkWriter.writeTo} appends to the file and reports for the footer. */
export interface WrittenChunk {
  chunk: ColumnChunk;
  /** Page locations when the chunk has more than one data page (hyparquet-writer's offset index). */
  offsetIndex?: { page_locations: { offset: bigint; compressed_page_size: number; first_row_index: bigint }[] };
}

/**
 * The chunk of one column in the row group being built.
 *
 * @example
 * const w = new ColumnChunkWriter(element, 'ZSTD', zstd, true);
 * w.push(42n); w.pushNull();
 * const { chunk } = w.writeTo(out);
 */
export class ColumnChunkWriter {
  private readonly type: NonNullable<SchemaElement['type']>;
  private readonly nullable: boolean;
  private readonly typeLength: number;
  private readonly decimal: boolean;
  private readonly decimalBytes: boolean;
  private readonly statKind: StatKind;
  /** PLAIN values of the open page (a dictionary-encoded page keeps its indexes in {@link indexes}). */
  private readonly values = new Bytes(64 * 1024);
  /** Definition levels of the open page (nullable columns). */
  private defs = new Uint8Array(4096);
  private rows = 0;
  private nulls = 0;
  /** Booleans: the byte being filled and how many of its bits are used. */
  private bitByte = 0;
  private bits = 0;
  private pages: Page[] = [];
  private heldBytes = 0;
  private chunkRows = 0;
  private chunkNulls = 0;
  private min: unknown = undefined;
  private max: unknown = undefined;
  private nans = 0;
  /** The dictionary of a string column while it pays (value → index), its PLAIN entries, and the page's indexes. */
  private dict: Map<string, number> | undefined;
  private readonly dictBytes = new Bytes(0);
  /** Entries of the row group's dictionary (kept when the dictionary is dropped: its page is still written). */
  private dictSize = 0;
  private indexes = new Int32Array(4096);
  private indexCount = 0;
  /** The row group's dictionary pages were used for some page, so the dictionary page must be written. */
  private dictUsed = false;
  private readonly dictionaryAllowed: boolean;
  private static readonly scratch = new ByteWriter(64 * 1024);
  private static readonly levels = new ByteWriter(4096);

  constructor(
    private readonly element: SchemaElement,
    private readonly codec: string,
    private readonly compress: PageCompressor,
    /** Min/max/null counts in the footer. */
    private readonly statistics: boolean,
  ) {
    this.type = element.type!;
    this.nullable = element.repetition_type !== 'REQUIRED';
    this.typeLength = element.type_length ?? 0;
    this.decimal = element.converted_type === 'DECIMAL';
    this.decimalBytes = this.decimal && this.type === 'FIXED_LEN_BYTE_ARRAY';
    // a decimal's min/max are its unscaled values (bigint), whatever its physical type
    this.statKind = !statistics
      ? 'none'
      : this.type === 'INT64' || this.decimal
        ? 'bigint'
        : this.type === 'INT32' || this.type === 'DOUBLE'
          ? 'number'
          : this.type === 'BOOLEAN'
            ? 'boolean'
            : 'bytes';
    this.dictionaryAllowed = this.type === 'BYTE_ARRAY' && element.converted_type === 'UTF8';
    if (this.dictionaryAllowed) this.dict = new Map();
  }

  /** Uncompressed bytes of the open page plus the compressed bytes held for the row group. */
  get bytes(): number {
    return this.heldBytes + this.values.len + this.dictBytes.len + this.indexCount * 4;
  }

  /** A NULL. */
  pushNull(): void {
    this.level(0);
    this.nulls++;
    this.endValue();
  }

  /**
   * A value in its physical form: number (INT32, DOUBLE), bigint (INT64, decimal), boolean,
   * string or bytes (BYTE_ARRAY), bytes (uuid) or bigint (decimal) for FIXED_LEN_BYTE_ARRAY.
   */
  push(v: unknown): void {
    if (this.nullable) this.level(1);
    const out = this.values;
    switch (this.type) {
      case 'INT32': {
        const n = typeof v === 'bigint' ? Number(v) : (v as number);
        out.room(4);
        out.view.setInt32(out.len, n, true);
        out.len += 4;
        if (this.statKind === 'number') this.statNumber(n);
        else if (this.statKind === 'bigint') this.statBigint(BigInt(v as number | bigint));
        break;
      }
      case 'INT64': {
        out.room(8);
        out.view.setBigInt64(out.len, v as bigint, true);
        out.len += 8;
        if (this.statKind === 'bigint') this.statBigint(v as bigint);
        break;
      }
      case 'DOUBLE': {
        const n = v as number;
        out.room(8);
        out.view.setFloat64(out.len, n, true);
        out.len += 8;
        if (this.statKind === 'number') {
          if (Number.isNaN(n)) this.nans++;
          else this.statNumber(n);
        }
        break;
      }
      case 'BOOLEAN': {
        if (v) this.bitByte |= 1 << this.bits;
        if (++this.bits === 8) this.flushBits();
        if (this.statKind === 'boolean') this.statBoolean(v as boolean);
        break;
      }
      case 'BYTE_ARRAY': {
        if (this.dict && typeof v === 'string') {
          this.pushDictionary(v);
          break;
        }
        const at = typeof v === 'string' ? out.string(v) : out.bytes(v as Uint8Array, true);
        this.statBytes(out, at);
        break;
      }
      case 'FIXED_LEN_BYTE_ARRAY': {
        if (this.decimalBytes) {
          this.decimalFixed(v as bigint);
          if (this.statKind === 'bigint') this.statBigint(v as bigint);
        } else {
          const b = v as Uint8Array;
          if (b.byteLength !== this.typeLength) throw new RangeError(`expected ${this.typeLength} bytes, got ${b.byteLength}`);
          const at = out.bytes(b, false);
          this.statBytes(out, at);
        }
        break;
      }
      default:
        throw new RangeError(`no encoder for the Parquet type ${this.type}`);
    }
    this.endValue();
  }

  /**
   * Write the row group's chunk of this column at the writer's position (dictionary page first,
   * then the data pages) and start the next row group empty.
   */
  writeTo(out: ByteWriter): WrittenChunk {
    if (this.rows > 0 || !this.pages.length) this.flushPage();
    const start = out.offset;
    let uncompressed = 0;
    let dictionaryOffset: bigint | undefined;
    const pageTypes: { page_type: PageType; encoding: Encoding; count: number }[] = [];
    const encodings = new Set<Encoding>();
    if (this.dictUsed) {
      dictionaryOffset = BigInt(out.offset);
      const plain = this.dictBytes.buf.subarray(0, this.dictBytes.len);
      const compressed = this.compress(plain);
      const headerStart = out.offset;
      writePageHeader(out, {
        type: 'DICTIONARY_PAGE',
        uncompressed_page_size: plain.byteLength,
        compressed_page_size: compressed.byteLength,
        dictionary_page_header: { num_values: this.dictSize, encoding: 'PLAIN' },
      });
      uncompressed += out.offset - headerStart + plain.byteLength;
      out.appendBytes(compressed);
      pageTypes.push({ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 });
      encodings.add('PLAIN');
    }
    const dataOffset = BigInt(out.offset);
    const locations: NonNullable<WrittenChunk['offsetIndex']>['page_locations'] = [];
    let firstRow = 0;
    for (const p of this.pages) {
      locations.push({ offset: BigInt(out.offset), compressed_page_size: p.bytes.byteLength, first_row_index: BigInt(firstRow) });
      out.appendBytes(p.bytes);
      uncompressed += p.uncompressed;
      firstRow += p.rows;
      encodings.add(p.encoding);
      const seen = pageTypes.find((t) => t.page_type === 'DATA_PAGE_V2' && t.encoding === p.encoding);
      if (seen) seen.count++;
      else pageTypes.push({ page_type: 'DATA_PAGE_V2', encoding: p.encoding, count: 1 });
    }
    const statistics: Stats | undefined = this.statistics
      ? {
          // the Parquet spec orders -0 before +0: a zero min is written as -0 and a zero max as +0
          min_value: this.min === 0 ? -0 : this.min,
          max_value: this.max === 0 ? 0 : this.max,
          null_count: BigInt(this.chunkNulls),
          ...(this.type === 'DOUBLE' ? { nan_count: BigInt(this.nans) } : {}),
        }
      : undefined;
    const chunk: ColumnChunk = {
      file_offset: BigInt(start),
      meta_data: {
        type: this.type,
        encodings: [...encodings],
        path_in_schema: [this.element.name],
        codec: this.codec as NonNullable<ColumnChunk['meta_data']>['codec'],
        num_values: BigInt(this.chunkRows),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(out.offset - start),
        data_page_offset: dataOffset,
        ...(dictionaryOffset !== undefined ? { dictionary_page_offset: dictionaryOffset } : {}),
        ...(statistics ? { statistics: statistics as NonNullable<NonNullable<ColumnChunk['meta_data']>['statistics']> } : {}),
        ...(this.statistics ? { encoding_stats: pageTypes } : {}),
      },
    };
    this.reset();
    return { chunk, ...(locations.length > 1 ? { offsetIndex: { page_locations: locations } } : {}) };
  }

  private reset(): void {
    this.pages = [];
    this.heldBytes = 0;
    this.chunkRows = 0;
    this.chunkNulls = 0;
    this.min = undefined;
    this.max = undefined;
    this.nans = 0;
    this.dictUsed = false;
    this.dictSize = 0;
    this.dictBytes.len = 0;
    if (this.dictionaryAllowed) this.dict = new Map();
  }

  private level(d: number): void {
    if (!this.nullable) return;
    if (this.rows === this.defs.length) {
      const next = new Uint8Array(this.defs.length * 2);
      next.set(this.defs);
      this.defs = next;
    }
    this.defs[this.rows] = d;
  }

  private endValue(): void {
    this.rows++;
    if (this.values.len >= PAGE_BYTES || this.indexCount >= PAGE_BYTES / 4) this.flushPage();
  }

  private flushBits(): void {
    const out = this.values;
    out.room(1);
    out.buf[out.len++] = this.bitByte;
    this.bitByte = 0;
    this.bits = 0;
  }

  private pushDictionary(s: string): void {
    const dict = this.dict!;
    let index = dict.get(s);
    if (index === undefined) {
      const rowsSoFar = this.chunkRows + this.rows;
      if (
        dict.size >= DICTIONARY_MAX_ENTRIES ||
        this.dictBytes.len >= DICTIONARY_MAX_BYTES ||
        (rowsSoFar >= DICTIONARY_PROBE && dict.size * 2 > rowsSoFar)
      ) {
        this.dropDictionary();
        const at = this.values.string(s);
        this.statBytes(this.values, at);
        return;
      }
      index = dict.size;
      dict.set(s, index);
      this.dictSize = dict.size;
      const at = this.dictBytes.string(s);
      this.statBytes(this.dictBytes, at);
    }
    if (this.indexCount === this.indexes.length) {
      const next = new Int32Array(this.indexes.length * 2);
      next.set(this.indexes);
      this.indexes = next;
    }
    this.indexes[this.indexCount++] = index;
  }

  /**
   * The column's values stopped repeating enough: pages before this one keep their dictionary
   * indexes (the dictionary page is still written), the rest of the row group is PLAIN.
   */
  private dropDictionary(): void {
    this.dict = undefined;
    if (this.indexCount > 0) {
      // the open page so far is dictionary-encoded: cut it here (the value being pushed starts the next)
      const level = this.nullable ? this.defs[this.rows] : 0;
      this.flushPage();
      if (this.nullable) this.defs[0] = level!;
    }
  }

  private decimalFixed(v: bigint): void {
    const out = this.values;
    const n = this.typeLength;
    out.room(16 + n);
    if (n <= 16) {
      // the low 128 bits of the two's complement, big-endian, then its last n bytes
      const at = out.len;
      out.view.setBigInt64(at, v >> 64n, false);
      out.view.setBigUint64(at + 8, BigInt.asUintN(64, v), false);
      if (n < 16) out.buf.copyWithin(at, at + 16 - n, at + 16);
      out.len += n;
      return;
    }
    for (let i = n - 1; i >= 0; i--) {
      out.buf[out.len + i] = Number(BigInt.asUintN(8, v));
      v >>= 8n;
    }
    out.len += n;
  }

  private statNumber(n: number): void {
    if (this.min === undefined || n < (this.min as number)) this.min = n;
    if (this.max === undefined || n > (this.max as number)) this.max = n;
  }

  private statBigint(n: bigint): void {
    if (this.min === undefined || n < (this.min as bigint)) this.min = n;
    if (this.max === undefined || n > (this.max as bigint)) this.max = n;
  }

  private statBoolean(b: boolean): void {
    if (this.min === undefined || (!b && this.min)) this.min = b;
    if (this.max === undefined || (b && !this.max)) this.max = b;
  }

  /** Unsigned byte order of the value just appended to `b` (from `from` to its end) against the min and max so far (copied when they change). */
  private statBytes(b: Bytes, from: number): void {
    if (this.statKind !== 'bytes') return;
    const { buf, len } = b;
    const min = this.min as Uint8Array | undefined;
    const max = this.max as Uint8Array | undefined;
    if (min === undefined || buf.compare(min, 0, min.byteLength, from, len) < 0) this.min = b.copy(from, len);
    if (max === undefined || buf.compare(max, 0, max.byteLength, from, len) > 0) this.max = b.copy(from, len);
  }

  /** Compress the open page and hold it for the row group. */
  private flushPage(): void {
    if (this.bits > 0) this.flushBits();
    const dictionaryPage = this.indexCount > 0 || (this.dict !== undefined && this.rows > this.nulls);
    const encoding: Encoding = dictionaryPage ? 'RLE_DICTIONARY' : 'PLAIN';
    const levels = ColumnChunkWriter.levels;
    levels.index = 0;
    levels.offset = 0;
    if (this.nullable) writeRleBitPackedHybrid(levels, this.defs.subarray(0, this.rows), 1);
    let data: Uint8Array;
    if (dictionaryPage) {
      const w = ColumnChunkWriter.scratch;
      w.index = 0;
      w.offset = 0;
      const width = Math.max(1, Math.ceil(Math.log2(Math.max(1, this.dictSize))));
      w.appendUint8(width);
      writeRleBitPackedHybrid(w, this.indexes.subarray(0, this.indexCount), width);
      data = w.getBytes();
      this.dictUsed = true;
    } else {
      data = this.values.buf.subarray(0, this.values.len);
    }
    const compressed = this.compress(data);
    const header = new ByteWriter(64);
    writePageHeader(header, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.offset + data.byteLength,
      compressed_page_size: levels.offset + compressed.byteLength,
      data_page_header_v2: {
        num_values: this.rows,
        num_nulls: this.nulls,
        num_rows: this.rows,
        encoding,
        definition_levels_byte_length: levels.offset,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    });
    const bytes = new Uint8Array(header.offset + levels.offset + compressed.byteLength);
    bytes.set(header.getBytes(), 0);
    bytes.set(levels.getBytes(), header.offset);
    bytes.set(compressed, header.offset + levels.offset);
    this.pages.push({ bytes, rows: this.rows, uncompressed: header.offset + levels.offset + data.byteLength, encoding });
    this.heldBytes += bytes.byteLength;
    this.chunkRows += this.rows;
    this.chunkNulls += this.nulls;
    this.rows = 0;
    this.nulls = 0;
    this.values.len = 0;
    this.indexCount = 0;
  }
}
