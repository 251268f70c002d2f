/**
 * One Parquet file written as rows arrive: rows are converted into column buffers, every
 * `rowGroupRows` rows become a row group that is encoded (ZSTD by default, see
 * {@link ParquetFileOptions.compression}) and appended to a hidden temp file,
 * and `finish()` writes the footer, fsyncs, and renames the file into place.
 *
 * Memory is bounded by one row group: its column buffers, plus the pages hyparquet-writer encodes
 * one column at a time; the encoded bytes go to the file through a 4 MiB buffer. Nothing of earlier
 * row groups is kept except their footer metadata.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ByteWriter, ParquetWriter, type SchemaElement, type Writer } from 'hyparquet-writer';
import type { Column, Row } from '../../types.js';
import { codecSetup, DEFAULT_PARQUET_COMPRESSION, type ParquetCompression } from './compression.js';
import { type ColumnValues, RowConverter } from './convert.js';
import { fsyncDir, writeFailed } from './fs.js';
import { columnsMetadata, encodingSchema, parquetSchema } from './schema.js';

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
  private readonly buffers: ColumnValues[];
  private readonly statistics: boolean[];
  private rowCount = 0;
  private closed = false;

  private constructor(
    /** The final path. */
    readonly path: string,
    private readonly columns: readonly Column[],
    private readonly fh: FileHandle,
    private readonly out: FileSinkWriter,
    private readonly pw: ParquetWriter,
    private readonly rowGroupRows: number,
    /** The schema the footer stores (see {@link encodingSchema}). */
    private readonly footerSchema: SchemaElement[],
  ) {
    this.tmpPath = tempPathOf(path);
    this.converter = new RowConverter(columns);
    this.buffers = columns.map(() => []);
    // JSON min/max are never truncated (a prefix is not JSON): whole documents in the footer
    this.statistics = columns.map((c) => c.type !== 'json');
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
    const pw = new ParquetWriter({ writer: out, schema: encodingSchema(schema), codec, compressors, kvMetadata: columnsMetadata(columns), createdBy: 'datakit (hyparquet-writer)' });
    return new ParquetFileWriter(path, columns, fh, out, pw, rowGroupRows, schema);
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Bytes encoded so far (written, or in the output buffer of the current row group). */
  get bytes(): number {
    return this.out.offset;
  }

  /**
   * Add rows (values in column order). Throws `DATA.INVALID_RECORD` for a value that cannot be
   * written exactly; `firstRecord` is the record number of `rows[0]` in that message.
   */
  async append(rows: readonly Row[], firstRecord = 1): Promise<void> {
    this.assertOpen();
    let at = 0;
    while (at < rows.length) {
      const room = this.rowGroupRows - (this.buffers[0]?.length ?? 0);
      const to = Math.min(rows.length, at + room);
      this.converter.append(rows, at, to, this.buffers, firstRecord);
      this.rowCount += to - at;
      at = to;
      if ((this.buffers[0]?.length ?? 0) >= this.rowGroupRows) await this.writeRowGroup();
    }
  }

  /** Write the last row group and the footer, fsync, close, rename into place, fsync the directory. */
  async finish(): Promise<FinishedFile> {
    this.assertOpen();
    try {
      await this.writeRowGroup();
      this.pw.schema = this.footerSchema;
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
    for (const b of this.buffers) b.length = 0;
    await unlink(this.tmpPath).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw writeFailed(`writing ${this.path}`, new Error('the file is already finished or aborted'));
  }

  private async writeRowGroup(): Promise<void> {
    const n = this.buffers[0]?.length ?? 0;
    if (!n) return;
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: this.buffers[i]!, statistics: this.statistics[i]! }));
    try {
      await this.pw.write({ columnData, rowGroupSize: n });
    } catch (e) {
      throw writeFailed(`writing a row group of ${this.path}`, e);
    }
    for (const b of this.buffers) b.length = 0;
  }
}
