/**
 * The file kit's settings: where the files are (`FILE_URL`), which files make which stream
 * (`FILE_STREAMS`), how to parse them, how to infer their types, what to do with bad records, and the
 * S3 / SFTP credentials. Environment first, then the config file (`--config`, with per-stream
 * sections under `streams:`), then the defaults. Secrets are scrubbed from every log line and error.
 */
import { secret, setting } from '@datakit/core';
import { z } from 'zod';

/** Formats the kit reads; `auto` picks by extension, confirmed by sniffing the content. */
export const FORMATS = ['auto', 'csv', 'tsv', 'json', 'ndjson', 'parquet'] as const;
/** What happens to a record that cannot be landed exactly. */
export const BAD_RECORD_POLICIES = ['fail', 'skip', 'quarantine'] as const;
/** How column types are decided. */
export const SCHEMA_MODES = ['infer', 'strings'] as const;

/** One of {@link FORMATS}. */
export type FileFormat = (typeof FORMATS)[number];
/** One of {@link BAD_RECORD_POLICIES}. */
export type BadRecordPolicy = (typeof BAD_RECORD_POLICIES)[number];

const single = z.string().min(1).max(1);

/** Per-stream options (config file `streams:` key, by stream name); each overrides the global setting. */
const streamOptions = z
  .object({
    glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    format: z.enum(FORMATS).optional(),
    delimiter: single.optional(),
    quote: single.optional(),
    escape: single.optional(),
    header: z.boolean().optional(),
    encoding: z.string().min(1).optional(),
    schema: z.enum(SCHEMA_MODES).optional(),
    columns: z.record(z.string().min(1), z.string().min(1)).optional(),
    primary_key: z.array(z.string().min(1)).optional(),
    bad_records: z.enum(BAD_RECORD_POLICIES).optional(),
    sync_mode: z.enum(['incremental', 'full_refresh']).optional(),
  })
  .strict();

/** Options of one stream under the config file's `streams:` key. */
export type StreamOptions = z.infer<typeof streamOptions>;

/** `orders=orders/*.csv.gz;events=events/**\/*.ndjson` → `{ orders: 'orders/*.csv.gz', … }`. */
function streamSpec(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const out: Record<string, string> = {};
  for (const part of v.split(';')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) return v;
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** `orders.amount=decimal(18,4),orders.id=int64` → `{ 'orders.amount': 'decimal(18,4)', … }` (split on `,` outside parentheses). */
function typePairs(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const out: Record<string, string> = {};
  for (const part of v.split(/,(?![^(]*\))/)) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.lastIndexOf('=');
    if (eq <= 0 || eq === item.length - 1) return v;
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

const list = (sep: RegExp) => (v: unknown) => (typeof v === 'string' ? v.split(sep).map((s) => s.trim()).filter(Boolean) : v);

const isFileUrl = (v: string): boolean => /^(file|s3|sftp):\/\//i.test(v);

/**
 * Settings of the file kit.
 *
 * @example
 * FILE_URL=sftp://partner@files.example.com:22/outbox
 * SFTP_PASSWORD_FILE=/run/secrets/sftp
 * FILE_STREAMS=orders=orders/*.csv.gz;events=events/**\/*.ndjson
 * FILE_BAD_RECORDS=quarantine
 */
export const fileConfig = z.object({
  url: setting(z.string().trim().refine(isFileUrl, 'must be file:///dir, s3://bucket/prefix or sftp://user@host:port/dir'), {
    env: 'FILE_URL',
    description: 'Where the files are: file:///data, s3://bucket/prefix/, sftp://user@host:22/path.',
  }),
  streams: setting(z.preprocess(streamSpec, z.record(z.string().min(1), z.union([z.string().min(1), streamOptions]), 'expected name=glob pairs separated by ;')).default({}), {
    env: 'FILE_STREAMS',
    description: 'Streams and their globs, relative to FILE_URL: orders=orders/*.csv.gz;events=events/**/*.ndjson. In the config file a stream may be an object of per-stream options.',
  }),
  format: setting(z.enum(FORMATS).default('auto'), { env: 'FILE_FORMAT', description: 'auto (by extension, confirmed by sniffing) | csv | tsv | json | ndjson | parquet. @default auto' }),
  delimiter: setting(single.optional(), { env: 'FILE_CSV_DELIMITER', description: 'CSV field delimiter. @default , (tab for .tsv)' }),
  quote: setting(single.default('"'), { env: 'FILE_CSV_QUOTE', description: 'CSV quote character. @default "' }),
  escape: setting(single.optional(), { env: 'FILE_CSV_ESCAPE', description: 'CSV escape character inside quoted fields. @default the quote (RFC 4180 doubling)' }),
  header: setting(z.boolean().default(true), { env: 'FILE_CSV_HEADER', description: 'The first CSV line holds column names; without it columns are column_1, column_2, … @default true' }),
  emptyAsNull: setting(z.boolean().default(true), { env: 'FILE_CSV_EMPTY_AS_NULL', description: 'An empty CSV field is NULL (else an empty string). @default true' }),
  nullValues: setting(z.preprocess(list(/,/), z.array(z.string())).default([]), { env: 'FILE_CSV_NULL_VALUES', description: 'CSV field texts that mean NULL besides the empty field, e.g. \\N,NULL. @default none' }),
  encoding: setting(z.string().min(1).default('utf-8'), { env: 'FILE_ENCODING', description: 'Text encoding of CSV files (a BOM wins): utf-8, utf-16le, latin1, windows-1252, … @default utf-8' }),
  schema: setting(z.enum(SCHEMA_MODES).default('infer'), { env: 'FILE_SCHEMA', description: 'infer: column types from a sample; strings: every CSV field lands as text. @default infer' }),
  inferRows: setting(z.coerce.number().int().positive().default(10_000), { env: 'FILE_INFER_ROWS', description: 'Records sampled per stream to infer column types. @default 10000' }),
  inferFiles: setting(z.coerce.number().int().positive().default(10), { env: 'FILE_INFER_FILES', description: 'Files sampled per stream (the oldest first). @default 10' }),
  columnTypes: setting(z.preprocess(typePairs, z.record(z.string().min(1), z.string().min(1), 'expected stream.column=type pairs')).default({}), {
    env: 'FILE_COLUMN_TYPES',
    description: 'Type overrides: orders.amount=decimal(18,4),orders.id=int64 (types: string int32 int64 float64 boolean date time timestamp timestamptz json uuid decimal(p,s)).',
  }),
  primaryKeys: setting(z.preprocess(typePairs, z.record(z.string().min(1), z.string().min(1))).default({}), {
    env: 'FILE_PRIMARY_KEYS',
    description: 'Primary keys reported by discover: orders=id,lines=order_id+line. @default none',
  }),
  badRecords: setting(z.enum(BAD_RECORD_POLICIES).default('fail'), {
    env: 'FILE_BAD_RECORDS',
    description: 'fail: stop with exit 4 naming file, line and reason; skip: count and log them; quarantine: land them in the stream <stream>_quarantine. @default fail',
  }),
  syncMode: setting(z.enum(['incremental', 'full_refresh']).default('incremental'), { env: 'FILE_SYNC_MODE', description: 'incremental: read only new or changed files; full_refresh: read every file and replace the stream. @default incremental' }),
  minAgeSeconds: setting(z.coerce.number().min(0).default(0), { env: 'FILE_MIN_AGE_SECONDS', description: 'Ignore files modified less than this many seconds ago (uploads still in progress). @default 0' }),
  readThread: setting(z.boolean().default(true), { env: 'FILE_READ_THREAD', description: 'Parse files in a worker thread, overlapping with the bronze write (two cores). @default true' }),
  s3Region: setting(z.string().min(1).optional(), { env: ['S3_REGION', 'AWS_REGION'], description: 'S3 region. @default the AWS default chain, else us-east-1' }),
  s3Endpoint: setting(z.url().optional(), { env: ['S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3'], description: 'Endpoint of an S3-compatible store (MinIO, Ceph, R2…).' }),
  s3ForcePathStyle: setting(z.boolean().optional(), { env: 'S3_FORCE_PATH_STYLE', description: 'Path-style requests (http://host/bucket/key). @default true with S3_ENDPOINT' }),
  s3AccessKeyId: secret(z.string().min(1).optional(), 'S3_ACCESS_KEY_ID', 'Access key id (also S3_ACCESS_KEY_ID_FILE). @default the AWS default credential chain'),
  s3SecretAccessKey: secret(z.string().min(1).optional(), 'S3_SECRET_ACCESS_KEY', 'Secret access key (also S3_SECRET_ACCESS_KEY_FILE).'),
  s3SessionToken: secret(z.string().min(1).optional(), 'S3_SESSION_TOKEN', 'Session token of temporary credentials (also S3_SESSION_TOKEN_FILE).'),
  sftpPassword: secret(z.string().optional(), 'SFTP_PASSWORD', 'SFTP password (also SFTP_PASSWORD_FILE; or the password inside FILE_URL).'),
  sftpPrivateKey: secret(z.string().min(1).optional(), 'SFTP_PRIVATE_KEY', 'SFTP private key, PEM/OpenSSH text (also SFTP_PRIVATE_KEY_FILE).'),
  sftpPassphrase: secret(z.string().optional(), 'SFTP_PASSPHRASE', 'Passphrase of the private key (also SFTP_PASSPHRASE_FILE).'),
  sftpHostKey: setting(z.string().regex(/^(SHA256:[A-Za-z0-9+/]{43}=?|[0-9a-fA-F:]{64,95})$/, 'expected SHA256:<base64> (ssh-keygen -lf) or a hex SHA-256').optional(), {
    env: 'SFTP_HOST_KEY_SHA256',
    description: 'Fingerprint of the server host key (SHA256:… as ssh-keygen -l prints it); the connection is refused when it differs. @default not checked (logged)',
  }),
  sftpTimeoutMs: setting(z.coerce.number().int().positive().default(20_000), { env: 'SFTP_TIMEOUT_MS', description: 'SFTP connect timeout. @default 20000' }),
});

/** Validated settings of the file kit. */
export type FileKitConfig = z.infer<typeof fileConfig>;
