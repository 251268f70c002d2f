/**
 * Core's own settings, shared by every kit: batching, retries, the bronze target, metrics, selection.
 */
import { z } from 'zod';
import { DEFAULT_PARQUET_COMPRESSION, PARQUET_COMPRESSIONS } from './bronze/parquet/compression.js';
import { setting } from './config.js';

const patterns = z.preprocess((v) => (typeof v === 'string' ? v.split(/[,;]/).map((s) => s.trim()).filter(Boolean) : v), z.array(z.string()));

/** Runtime settings of every kit (merged into `spec`). */
export const runtimeSettings = z.object({
  batchSize: setting(z.coerce.number().int().positive().max(10_000_000).default(10_000), { env: 'BATCH_SIZE', description: 'Rows per batch read from the source.' }),
  maxRetries: setting(z.coerce.number().int().min(0).max(100).default(3), { env: 'MAX_RETRIES', description: 'Retries of retriable errors (exponential backoff with jitter).' }),
  bronzeUrl: setting(z.string().min(1).optional(), { env: 'BRONZE_URL', writeOnly: true, description: 'Bronze target: file:///path (Parquet), postgres://… (warehouse). Default: WAREHOUSE_DATABASE_URL, else ./bronze.' }),
  warehouseUrl: setting(z.string().min(1).optional(), { env: 'WAREHOUSE_DATABASE_URL', writeOnly: true, description: 'Postgres warehouse used as bronze target when BRONZE_URL is not set.' }),
  bronzeSource: setting(z.string().regex(/^[^/\\\0]+$/, 'must not contain / or \\').optional(), { env: 'BRONZE_SOURCE', description: 'Value of _bronze_source and the source folder/state key. Default: the kit name.' }),
  pushgatewayUrl: setting(z.url().optional(), { env: 'PROMETHEUS_PUSHGATEWAY_URL', description: 'Push metrics here at the end of a run.' }),
  include: setting(patterns.optional(), { env: 'STREAMS_INCLUDE', description: 'Stream name patterns to run (`*` wildcard), when no streams are named on the command line.' }),
  exclude: setting(patterns.optional(), { env: 'STREAMS_EXCLUDE', description: 'Stream name patterns to skip.' }),
  parquetRollRows: setting(z.coerce.number().int().positive().default(1_000_000), { env: 'PARQUET_ROLL_ROWS', description: 'Rows per Parquet file before a new one starts (each file is a commit).' }),
  parquetRollBytes: setting(z.coerce.number().int().positive().default(256 * 1024 * 1024), { env: 'PARQUET_ROLL_BYTES', description: 'Bytes per Parquet file before a new one starts.' }),
  warehouseCommitRows: setting(z.coerce.number().int().positive().default(1), { env: 'WAREHOUSE_COMMIT_ROWS', description: 'Warehouse: rows after which a checkpointed batch commits its transaction (data and state together); 1 commits every checkpointed batch.' }),
  warehouseCopyFormat: setting(z.enum(['auto', 'text']).default('auto'), { env: 'WAREHOUSE_COPY_FORMAT', description: 'Warehouse: COPY format. auto: binary when every column has a binary form, else text; text: always text (for servers that speak the PostgreSQL protocol without binary COPY).' }),
  warehouseCommitSeconds: setting(z.coerce.number().positive().default(10), { env: 'WAREHOUSE_COMMIT_SECONDS', description: 'Warehouse: seconds after which a checkpointed batch commits its transaction.' }),
  parquetRowGroupRows: setting(z.coerce.number().int().positive().default(16_384), { env: 'PARQUET_ROW_GROUP_ROWS', description: 'Rows per Parquet row group (bounds memory).' }),
  parquetCompression: setting(z.enum(PARQUET_COMPRESSIONS).default(DEFAULT_PARQUET_COMPRESSION), { env: 'PARQUET_COMPRESSION', description: 'Parquet page compression: zstd (level 1), snappy, gzip (level 1) or none.' }),
  progressIntervalMs: setting(z.coerce.number().int().positive().default(10_000), { env: 'PROGRESS_INTERVAL_MS', description: 'How often a long stream logs progress.' }),
});

export type RuntimeSettings = z.infer<typeof runtimeSettings>;
