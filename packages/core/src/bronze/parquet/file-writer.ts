/**
 * One Parquet file written as rows arrive: each value is encoded into its column's page as it is
 * converted (`column-chunk.ts`), full pages are compressed (ZSTD by default, see
 * {@link ParquetFileOptions.compression}), every `rowGroupRows` rows the columns' chunks are
 * appended to a hidden temp file as a row group, and `finish()` writes the footer (hyparquet-writer's
 * `ParquetWriter`), fsyncs, and renames the file into place.
 *
 * Memory is bounded by one row group: its compressed pages and one open page per column; the
 * encoded bytes go to the file through a 4 MiB buffer. Nothing of earlier row groups is kept except
 * their footer metadata.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ByteWriter, ParquetWriter, type Writer } from 'hyparquet-writer';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import type { Column, Row } from '../../types.js';
import { ColumnChunkWriter, type PageCompressor } from './column-chunk.js';
import { codecSetup, DEFAULT_PARQUET_COMPRESSION, type ParquetCompression } from './compression.js';
import { RowConverter } from './convert.js';
import { fsyncDir, writeFailed } from './fs.js';
import { columnsMetadata, parquetSchema } from './schema.js';

/** Options of {@link ParquetFileWriter}. */
export interface ParquetFileOptions {
  /** Rows per row group; bounds the rows held in memory. @default 16384 */
  rowGroupRows?: number;
  /** Page compression. @default 'zstd' */
  compression?: ParquetCompression;
}

/** What a finished file holds. */
export interface FinishedFile {
  path: string;
  rows: number;
  bytes: number;
}

/** The default rows per row group. */
export const DEFAULT_ROW_GROUP_ROWS = 16_384;

/** The hidden temp name a file is written under: `dir/.part-000001.parquet.tmp`. */
export function tempPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/** The output buffer's size: when full, it is written out even in the middle of a row group. */
const BUFFER_BYTES = 4 << 20;

/**
 * hyparquet-writer's output buffer, drained into a file. While a row group is encoded, the buffer
 * is written out synchronously whenever it is full ({@link BUFFER_BYTES}, as hyparquet-writer's own
 * `fileWriter` does): encoding is synchronous anyway, and a buffer that grew to the whole encoded
 * row group (64 MB and more for 1 KB values) cost memory, copies on each doubling, and the full
 * garbage collections V8 runs when that much external memory is allocated. `ParquetWriter.write()`
 * calls `flush()` after each row group and awaits the promise it returns; that drain is async.
 * Both write at the file's current position, one after the other, never at once.
 */
class FileSinkWriter extends ByteWriter implements Writer {
  constructor(private readonly fh: FileHandle) {
    super(BUFFER_BYTES);
  }

  override ensure(size: number): void {
    if (this.index + size > this.buffer.byteLength && this.index > 0) this.spill();
    super.ensure(size);
  }

  flush(): Promise<void> {
    return this.drain();
  }

  override finish(): Promise<void> {
    return this.drain();
  }

  /** Write the buffer out now (synchronously); throws what `writeSync` throws. */
  private spill(): void {
    let at = 0;
    const end = this.index;
    while (at < end) at += writeSync(this.fh.fd, new Uint8Array(this.buffer, at, end - at));
    this.index = 0;
  }

  private async drain(): Promise<void> {
    let at = 0;
    const end = this.index;
    while (at < end) {
      const { bytesWritten } = await this.fh.write(new Uint8Array(this.buffer, at, end - at));
      at += bytesWritten;
    }
    this.index = 0;
  }
}

/**
 * A Parquet file being written.
 *
 * @example
 * const f = await ParquetFileWriter.open('/data/bronze/pg/_generations/orders/g1/part-000000.parquet', columns);
 * await f.append(rows);
 * const { rows, bytes } = await f.finish();
 */
export class ParquetFileWriter {
  /** The hidden temp file the bytes go to until {@link ParquetFileWriter.finish}. */
  readonly tmpPath: string;
  private readonly converter: RowConverter;
  private groupRows = 0;
  private rowCount = 0;
  private closed = false;
  /** An append failed part-way through a row: the file can only be aborted. */
  private failed = false;

  private constructor(
    /** The final path. */
    readonly path: string,
    private readonly columns: readonly Column[],
    private readonly fh: FileHandle,
    private readonly out: FileSinkWriter,
    private readonly pw: ParquetWriter,
    private readonly rowGroupRows: number,
    private readonly chunks: ColumnChunkWriter[],
  ) {
    this.tmpPath = tempPathOf(path);
    this.converter = new RowConverter(columns);
  }

  /** Create the temp file (and its directory) and start a file with these columns. */
  static async open(path: string, columns: readonly Column[], options: ParquetFileOptions = {}): Promise<ParquetFileWriter> {
    const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw writeFailed(`opening ${path}`, new RangeError(`rowGroupRows must be a positive integer, got ${rowGroupRows}`));
    const schema = parquetSchema(columns);
    const { codec, compressors } = codecSetup(options.compression ?? DEFAULT_PARQUET_COMPRESSION);
    const tmp = tempPathOf(path);
    let fh: FileHandle;
    try {
      await mkdir(dirname(path), { recursive: true });
      fh = await open(tmp, 'w', 0o644);
    } catch (e) {
      throw writeFailed(`creating ${tmp}`, e);
    }
    const out = new FileSinkWriter(fh);
    // hyparquet-writer writes the magic and, at the end, the footer; the column chunks are ours
    const pw = new ParquetWriter({ writer: out, schema, codec, kvMetadata: columnsMetadata(columns), createdBy: 'datakit (hyparquet-writer footer)' });
    const compress: PageCompressor = compressors[codec] ?? (codec === 'SNAPPY' ? snappyCompress : (b) => b);
    // JSON min/max are never written (a truncated prefix is not JSON, a whole one can be huge)
    const chunks = columns.map((c, i) => new ColumnChunkWriter(schema[i + 1]!, codec, compress, c.type !== 'json'));
    return new ParquetFileWriter(path, columns, fh, out, pw, rowGroupRows, chunks);
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Bytes so far: written or buffered, plus the current row group's pages (its open pages uncompressed). */
  get bytes(): number {
    let held = 0;
    for (const c of this.chunks) held += c.bytes;
    return this.out.offset + held;
  }

  /**
   * Add rows (values in column order). Throws `DATA.INVALID_RECORD` for a value that cannot be
   * written exactly; `firstRecord` is the record number of `rows[0]` in that message.
   */
  async append(rows: readonly Row[], firstRecord = 1): Promise<void> {
    this.assertOpen();
    let at = 0;
    while (at < rows.length) {
      const to = Math.min(rows.length, at + this.rowGroupRows - this.groupRows);
      try {
        this.converter.append(rows, at, to, this.chunks, firstRecord);
      } catch (e) {
        this.failed = true;
        throw e;
      }
      this.groupRows += to - at;
      this.rowCount += to - at;
      at = to;
      if (this.groupRows >= this.rowGroupRows) await this.writeRowGroup();
    }
  }

  /** Write the last row group and the footer, fsync, close, rename into place, fsync the directory. */
  async finish(): Promise<FinishedFile> {
    this.assertOpen();
    try {
      await this.writeRowGroup();
      await this.pw.finish();
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
      await rename(this.tmpPath, this.path);
      await fsyncDir(dirname(this.path));
    } catch (e) {
      await this.abort();
      throw writeFailed(`finishing ${this.path}`, e);
    }
    return { path: this.path, rows: this.rowCount, bytes: this.out.offset };
  }

  /** Close and delete the temp file. Never throws. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await unlink(this.tmpPath).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw writeFailed(`writing ${this.path}`, new Error('the file is already finished or aborted'));
    if (this.failed) throw writeFailed(`writing ${this.path}`, new Error('an earlier append failed; the file can only be aborted'));
  }

  private async writeRowGroup(): Promise<void> {
    const n = this.groupRows;
    if (!n) return;
    try {
      const start = this.out.offset;
      const columns = [];
      for (const c of this.chunks) {
        const written = c.writeTo(this.out);
        columns.push(written.chunk);
        // hyparquet-writer writes the offset indexes before the footer
        this.pw.pendingIndexes.push({ chunk: written.chunk, ...(written.offsetIndex ? { offsetIndex: written.offsetIndex } : {}) });
      }
      let total = 0n;
      for (const c of columns) total += c.meta_data?.total_uncompressed_size ?? 0n;
      this.pw.row_groups.push({ columns, total_byte_size: total, num_rows: BigInt(n), total_compressed_size: BigInt(this.out.offset - start) });
      this.pw.num_rows += BigInt(n);
      this.groupRows = 0;
      await this.out.flush();
    } catch (e) {
      throw writeFailed(`writing a row group of ${this.path}`, e);
    }
  }
}
