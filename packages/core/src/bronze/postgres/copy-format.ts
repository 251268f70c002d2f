/**
 * How a `COPY` into the warehouse is written: binary when every column has a binary encoder
 * (`copy-binary.ts`: no formatting here, no parsing on the server), else text (`copy-text.ts`).
 * Chosen per `COPY` from its columns, so a column added mid-run can switch the next one.
 */
import type { Column } from '../../types.js';
import { binaryEncoders, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, copyBinaryChunks } from './copy-binary.js';
import { copyEncoders, copyTextChunks } from './copy-text.js';

export interface CopyFormat {
  binary: boolean;
  /** Bytes that open the COPY data (binary's signature), if any. */
  header?: Buffer;
  /** Bytes that end it, if any. */
  trailer?: Buffer;
  /** The rows' COPY data as chunks; `table` names the target in errors, `onBytes` counts bytes. */
  chunks(rows: readonly unknown[][], table: string, onBytes: (n: number) => void): Iterable<Buffer>;
}

/** The format of a COPY of `columns`; `textOnly` for servers that take no binary COPY. */
export function copyFormat(columns: readonly Column[], textOnly = false): CopyFormat {
  const binary = textOnly ? undefined : binaryEncoders(columns);
  if (binary) {
    return {
      binary: true,
      header: COPY_BINARY_HEADER,
      trailer: COPY_BINARY_TRAILER,
      chunks: (rows, table, onBytes) => copyBinaryChunks(rows, columns, binary, table, onBytes),
    };
  }
  const encoders = copyEncoders(columns);
  return { binary: false, chunks: (rows, table, onBytes) => copyTextChunks(rows, columns, encoders, table, onBytes) };
}
