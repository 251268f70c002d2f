/**
 * Page compression of the Parquet files (`PARQUET_COMPRESSION`). ZSTD and GZIP use Node's native
 * zlib (ZSTD needs Node ≥ 22.15 / 23.8); SNAPPY is hyparquet-writer's own pure-JS encoder. See
 * docs/decisions/0003-parquet-compression.md for the measurements behind the default.
 */
import { constants, gzipSync, zstdCompressSync } from 'node:zlib';
import { DatakitError } from '../../errors.js';

/** The compressions a file can be written with. */
export const PARQUET_COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'none'] as const;

/** A compression of {@link PARQUET_COMPRESSIONS}. */
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/** The default compression: ZSTD at level 1, several times faster than the JS Snappy, and smaller. */
export const DEFAULT_PARQUET_COMPRESSION: ParquetCompression = 'zstd';

/**
 * ZSTD level 1: on the kafka bench's 1 KB JSON pages it was 2.5-3.7× faster than level 3 for the
 * same ratio; on JSON event pages about as fast, 12 % larger.
 */
const ZSTD_LEVEL = 1;
/** GZIP level 1: level 6 (zlib's default) was half as fast for a few % smaller pages. */
const GZIP_LEVEL = 1;

type Compressor = (input: Uint8Array) => Uint8Array;

/** The Parquet codecs used (a subset of hyparquet's `CompressionCodec`). */
export type ParquetCodec = 'ZSTD' | 'GZIP' | 'SNAPPY' | 'UNCOMPRESSED';

/** The codec and compressors hyparquet-writer's `ParquetWriter` is given for a compression. */
export interface CodecSetup {
  codec: ParquetCodec;
  /** Extra compressors (SNAPPY is built in). */
  compressors: Partial<Record<ParquetCodec, Compressor>>;
}

const zstd: Compressor = (input) => zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
const gzip: Compressor = (input) => gzipSync(input, { level: GZIP_LEVEL });

/** The codec setup of a compression; throws `CONFIG.INVALID` for an unknown one. */
export function codecSetup(compression: ParquetCompression): CodecSetup {
  switch (compression) {
    case 'zstd':
      return { codec: 'ZSTD', compressors: { ZSTD: zstd } };
    case 'gzip':
      return { codec: 'GZIP', compressors: { GZIP: gzip } };
    case 'snappy':
      return { codec: 'SNAPPY', compressors: {} };
    case 'none':
      return { codec: 'UNCOMPRESSED', compressors: {} };
    default:
      throw new DatakitError('CONFIG.INVALID', `Parquet compression must be one of ${PARQUET_COMPRESSIONS.join(', ')}, got ${JSON.stringify(compression)}`);
  }
}
