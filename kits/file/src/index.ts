/**
 * `@datakit/kit-file`: files from local directories, S3 and SFTP into bronze, exactly. See docs/kits/file.md.
 */
export { fileKit, check } from './kit.js';
export { fileConfig, FORMATS, BAD_RECORD_POLICIES, SCHEMA_MODES, type FileKitConfig, type FileFormat, type BadRecordPolicy, type StreamOptions } from './config.js';
export { discoverStreams, LINEAGE_COLUMNS, QUARANTINE_COLUMNS, type FileStreamSource } from './discover.js';
export { readStream } from './read.js';
export { streamSpecs, parseTypeName, quarantineStreamName, type StreamSpec, type CsvDialect } from './streams.js';
export { openStore, parseFileUrl, type FileEntry, type FileStore, type ListScope } from './store/index.js';
export { readerOf, formatOfName, type FileRecord, type FormatReader, type FormatName } from './formats/index.js';
export { scanRecord, JsonNumber, JsonText } from './formats/json-scan.js';
export { Inference } from './infer.js';
export { MAPPED_TYPES, mappedTypeKey } from './type-map.js';
export type { FileCheckpoint } from './state.js';
