/**
 * The Parquet bronze target (local directory). Loaded lazily by `createTarget` (see `targets.ts`).
 */
export { ParquetTarget, parquetTargetFromUrl, type ParquetTargetOptions } from './target.js';
export { ParquetStreamSink, type ParquetSinkSetup } from './sink.js';
export { codecSetup, DEFAULT_PARQUET_COMPRESSION, PARQUET_COMPRESSIONS, type ParquetCompression } from './compression.js';
export { ParquetFileWriter, DEFAULT_ROW_GROUP_ROWS, type FinishedFile, type ParquetFileOptions } from './file-writer.js';
export { columnElement, columnsMetadata, parquetSchema, COLUMNS_METADATA_KEY } from './schema.js';
export { PARQUET_DATE_NEG_INFINITY, PARQUET_TIMESTAMP_NEG_INFINITY, valueConverter } from './convert.js';
export { StreamLayout, GENERATIONS_DIR, newGenerationId, partFileName } from './layout.js';
export { readSourceState, saveStreamState, removeStreamStates, stateFilePath, STATE_DIR } from './state.js';
