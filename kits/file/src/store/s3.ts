/**
 * An S3 prefix as a {@link FileStore}: `s3://bucket/prefix/`. Lists with ListObjectsV2 (every page, so
 * any number of objects), reads with a streaming GetObject pinned to the listed ETag (`If-Match`: a
 * file replaced between listing and reading fails retriably instead of mixing versions), and byte
 * ranges for Parquet. Credentials: S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY (or `_FILE`), else the AWS
 * default chain. S3_ENDPOINT + path-style serve S3-compatible stores.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { storeError } from '../errors.js';
import type { FileKitConfig } from '../config.js';
import type { FileEntry, FileStore, ListScope } from './types.js';

/** The S3 client options of the settings. */
export function s3ClientConfig(config: FileKitConfig): S3ClientConfig {
  const custom = config.s3Endpoint !== undefined;
  return {
    region: config.s3Region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(custom ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle ?? custom,
    // S3-compatible stores often reject or mis-store the SDK's default trailing checksums
    ...(custom ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    ...(config.s3AccessKeyId && config.s3SecretAccessKey
      ? { credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey, ...(config.s3SessionToken ? { sessionToken: config.s3SessionToken } : {}) } }
      : {}),
    maxAttempts: 3,
  };
}

/** A store over `s3://bucket/prefix`. */
export class S3Store implements FileStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(
    private readonly bucket: string,
    prefix: string,
    config: FileKitConfig,
  ) {
    this.prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    this.client = new S3Client(s3ClientConfig(config));
  }

  async *list(scope: ListScope, signal: AbortSignal): AsyncIterable<FileEntry> {
    const prefix = this.prefix + scope.dir;
    let token: string | undefined;
    do {
      signal.throwIfAborted();
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }), { abortSignal: signal })
        .catch((e: unknown) => Promise.reject(storeError(e, 's3', `listing s3://${this.bucket}/${prefix}`)));
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        const path = o.Key.slice(this.prefix.length);
        if (scope.depth !== Infinity && path.slice(scope.dir.length).split('/').length - 1 > scope.depth) continue;
        const ms = BigInt(o.LastModified?.getTime() ?? 0);
        yield { path, size: Number(o.Size ?? 0), modifiedMicros: ms * 1000n, version: (o.ETag ?? ms.toString()).replace(/"/g, '') };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async open(entry: FileEntry, signal: AbortSignal): Promise<Readable> {
    const r = await this.get(entry, undefined, signal);
    return r as Readable;
  }

  async readRange(entry: FileEntry, start: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const body = await this.get(entry, `bytes=${start}-${end - 1}`, signal);
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  private async get(entry: FileEntry, range: string | undefined, signal: AbortSignal): Promise<unknown> {
    const key = this.prefix + entry.path;
    const etag = /^[0-9a-f-]+$/i.test(entry.version) ? `"${entry.version}"` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: range } : {}), ...(etag ? { IfMatch: etag } : {}) }), { abortSignal: signal });
      return r.Body;
    } catch (e) {
      throw storeError(e, 's3', `reading s3://${this.bucket}/${key}`);
    }
  }

  location(entry: FileEntry): string {
    return `s3://${this.bucket}/${this.prefix}${entry.path}`;
  }

  async probe(signal: AbortSignal): Promise<void> {
    await this.client
      .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }), { abortSignal: signal })
      .catch((e: unknown) => Promise.reject(storeError(e, 's3', `listing s3://${this.bucket}/${this.prefix}`)));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
