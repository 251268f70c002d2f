/**
 * `FileStore`: the one interface behind local directories, S3 and SFTP. A store lists files (with
 * size, modification time and a version that changes with the content) and opens them as streams or
 * reads byte ranges (Parquet needs random access). Paths are relative to the store's root and use `/`.
 */
import type { Readable } from 'node:stream';

/** One file as a listing saw it. */
export interface FileEntry {
  /** Path relative to the store root, `/`-separated, without a leading `/`. */
  path: string;
  size: number;
  /** Modification time in µs since the epoch (S3: LastModified; SFTP: whole seconds). */
  modifiedMicros: bigint;
  /** Changes whenever the content does: the ETag on S3, the modification time elsewhere. */
  version: string;
}

/** Where to list: a directory prefix and how deep below it to go. */
export interface ListScope {
  /** Directory relative to the root (`''` or ending in `/`). */
  dir: string;
  /** Levels of directories below `dir` to descend (`Infinity` for `**`). */
  depth: number;
}

/** Local directory, S3 prefix or SFTP directory. */
export interface FileStore {
  /** `file`, `s3` or `sftp`. */
  readonly kind: string;
  /** Every file under `scope.dir`, down to `scope.depth` levels (order unspecified). */
  list(scope: ListScope, signal: AbortSignal): AsyncIterable<FileEntry>;
  /** The file's content as a byte stream; destroy it to stop early. */
  open(entry: FileEntry, signal: AbortSignal): Promise<Readable>;
  /** Bytes `[start, end)` of the file (random access for Parquet). */
  readRange(entry: FileEntry, start: number, end: number, signal: AbortSignal): Promise<Uint8Array>;
  /** The file's location for lineage and messages: an absolute path or `s3://…`/`sftp://…` (no credentials). */
  location(entry: FileEntry): string;
  /** Prove the root can be listed (check). */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
