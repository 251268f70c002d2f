/**
 * `FormatReader`: the one interface behind CSV/TSV, JSON, NDJSON and Parquet. A reader turns one file
 * into records — field names and raw values, a resume position, the row number for lineage — and
 * reports a record it cannot read (ragged row, invalid JSON, invalid UTF-8) as a record with an
 * `error`, never by altering it. A file that ends early (truncated gzip or Parquet) ends with a
 * `fatal` error record after every record that could be read.
 */
import type { LogicalType } from '@datakit/core';
import type { FileEntry } from '../store/types.js';
import type { CsvDialect } from '../streams.js';

/** The formats the kit reads. */
export type FormatName = 'csv' | 'tsv' | 'json' | 'ndjson' | 'parquet';

/**
 * How a format's values must be read: `text` (CSV fields, strings), `json` ({@link JsonValue}s) or
 * `typed` (Parquet: values already in their logical form, see `FileRecord.types`).
 */
export type ValueKind = 'text' | 'json' | 'typed';

/** One record of a file, or one that cannot be read. */
export interface FileRecord {
  /** Resume position: strictly increasing within a file (a line number or a record index). */
  pos: number;
  /** The `_bronze_file_row`: the record's first line (text formats) or its 1-based number. */
  row: number;
  /** Field names; CSV and Parquet records of one file share one array. */
  names: readonly string[];
  values: readonly unknown[];
  /** Typed formats: the logical type of each field, aligned with `names`. */
  types?: readonly LogicalType[];
  /** Typed formats: the source type of each field (`parquet:DECIMAL(18,4)`). */
  sourceTypes?: readonly string[];
  /** Why this record cannot be read. */
  error?: string;
  /** The error ends the file (truncated or corrupt input). */
  fatal?: boolean;
  /** The record's source text, for the quarantine. */
  raw?: string;
}

/** One file to read. */
export interface FileSource {
  entry: FileEntry;
  /** Decompressed content (opened lazily, closed when iteration stops). */
  bytes(): AsyncIterable<Buffer>;
  /** Random access to the raw file (Parquet). */
  readRange(start: number, end: number): Promise<Uint8Array>;
}

/** What a reader needs besides the file. */
export interface ReadOptions {
  signal: AbortSignal;
  csv: CsvDialect;
}

/** Reads one format. */
export interface FormatReader {
  readonly format: FormatName;
  readonly kind: ValueKind;
  records(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord>;
  /**
   * The same records in groups, as the reader finds them (a chunk's worth): one `await` per group
   * instead of per record. Optional; readers without it are grouped one record at a time.
   */
  recordGroups?(source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord[]>;
}
