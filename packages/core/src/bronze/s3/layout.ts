/**
 * Where a stream's objects live in an S3 target, mirroring the local Parquet layout without symlinks:
 *
 * ```
 * <prefix>/<source>/<bronze name>/part-<gen>-<seq>.parquet     what readers read: the live generation
 * <prefix>/<source>/<bronze name>/_manifest.json               the live generation and its files
 * <prefix>/<source>/<bronze name>/_quarantine/part-<gen>-<seq>.parquet   records set aside by commit seq
 * <prefix>/<source>/_staging/<bronze name>/<gen>/part-<seq>.parquet   a full refresh being written
 * <prefix>/<source>/_staging/<bronze name>/<gen>/_quarantine/part-<seq>.parquet
 * <prefix>/_state/<source>/<state key>.json                     state (see state.ts)
 * ```
 *
 * Part numbers are the state's commit counter (`seq`), as in the local target: a commit re-done after
 * a crash overwrites the same key, and parts at or beyond the stored `seq` are orphans of a crash.
 */
import { CopyObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GENERATION_RE, QUARANTINE_DIR } from '../parquet/layout.js';
import { s3Error, type S3Location } from './client.js';

/** The prefix under `<source>/` that holds full refreshes being written. */
export const STAGING_DIR = '_staging';

const LIVE_RE = /^part-(.+)-(\d{6,})\.parquet$/;
const STAGED_RE = /^part-(\d{6,})\.parquet$/;

/** The object keys of one stream. */
export class S3StreamLayout {
  /** `<prefix>/<source>/<bronze>/` */
  readonly live: string;
  /** `<prefix>/<source>/_staging/<bronze>/` */
  readonly staging: string;

  constructor(
    readonly client: S3Client,
    readonly loc: S3Location,
    readonly source: string,
    readonly bronzeName: string,
  ) {
    this.live = `${loc.prefix}${source}/${bronzeName}/`;
    this.staging = `${loc.prefix}${source}/${STAGING_DIR}/${bronzeName}/`;
  }

  /** The live key of commit `seq` of `generation` (of its quarantine output with `quarantine`). */
  liveKey(generation: string, seq: number, quarantine = false): string {
    return `${this.live}${quarantine ? `${QUARANTINE_DIR}/` : ''}part-${generation}-${String(seq).padStart(6, '0')}.parquet`;
  }

  /** The staging key of commit `seq` of `generation` (of its quarantine output with `quarantine`). */
  stagedKey(generation: string, seq: number, quarantine = false): string {
    return `${this.staging}${generation}/${quarantine ? `${QUARANTINE_DIR}/` : ''}part-${String(seq).padStart(6, '0')}.parquet`;
  }

  /** `s3://bucket/key` */
  url(key: string): string {
    return `s3://${this.loc.bucket}/${key}`;
  }

  /** Keys directly under a prefix (not below its sub-prefixes). */
  async list(prefix: string, deep = false): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: prefix, ...(deep ? {} : { Delimiter: '/' }), ...(token ? { ContinuationToken: token } : {}) }))
        .catch((e: unknown) => Promise.reject(s3Error(`listing ${this.url(prefix)}`, e)));
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Delete keys (1000 per request). */
  async remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.loc.bucket, Delete: { Objects, Quiet: true } })).catch((e: unknown) => Promise.reject(s3Error(`deleting under ${this.url(this.live)}`, e)));
    }
  }

  /**
   * Live parts that do not belong: other generations (a swap interrupted before its cleanup) and
   * parts of `generation` at or beyond `seq` (commits never stored).
   */
  async strayLive(generation: string | undefined, seq: number): Promise<string[]> {
    const q = `${this.live}${QUARANTINE_DIR}/`;
    return [...(await this.list(this.live)), ...(await this.list(q))].filter((k) => {
      const m = LIVE_RE.exec(k.slice(k.startsWith(q) ? q.length : this.live.length));
      return m && (m[1] !== generation || Number(m[2]) >= seq);
    });
  }

  /** Staged parts of other generations, and of `generation` at or beyond `seq`. */
  async strayStaged(generation: string | undefined, seq: number): Promise<string[]> {
    return (await this.stagedParts()).filter((p) => p.generation !== generation || p.seq >= seq).map((p) => p.key);
  }

  /**
   * The staged parts of this stream, `<gen>/part-…` and `<gen>/_quarantine/part-…` (a partition's
   * staging lives one level deeper, under `partition=…/`), of one generation when given.
   */
  async stagedParts(generation?: string): Promise<{ key: string; generation: string; seq: number; quarantine: boolean }[]> {
    const out: { key: string; generation: string; seq: number; quarantine: boolean }[] = [];
    for (const key of await this.list(generation ? `${this.staging}${generation}/` : this.staging, true)) {
      const parts = key.slice(this.staging.length).split('/');
      const quarantine = parts.length === 3 && parts[1] === QUARANTINE_DIR;
      const m = STAGED_RE.exec(parts[parts.length - 1] ?? '');
      if (!m || !GENERATION_RE.test(parts[0]!) || (parts.length !== 2 && !quarantine)) continue;
      out.push({ key, generation: parts[0]!, seq: Number(m[1]), quarantine });
    }
    return out;
  }

  /** Server-side copy of a staged part to its live key. */
  async copy(from: string, to: string): Promise<void> {
    const CopySource = `${this.loc.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    await this.client.send(new CopyObjectCommand({ Bucket: this.loc.bucket, Key: to, CopySource })).catch((e: unknown) => Promise.reject(s3Error(`copying ${this.url(from)} to ${this.url(to)}`, e)));
  }

  /** Write `<live>/_manifest.json`: the live generation and its parts (for readers that want one atomic view). */
  async writeManifest(generation: string, parts: readonly string[]): Promise<void> {
    const Key = `${this.live}_manifest.json`;
    const Body = `${JSON.stringify({ generation, files: parts.map((k) => k.slice(this.live.length)), updatedAt: new Date().toISOString() }, null, 2)}\n`;
    await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key, Body, ContentType: 'application/json' })).catch((e: unknown) => Promise.reject(s3Error(`writing ${this.url(Key)}`, e)));
  }
}
