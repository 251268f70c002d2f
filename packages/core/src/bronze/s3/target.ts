/**
 * The S3 bronze target: `BRONZE_URL=s3://bucket/prefix` writes the local Parquet target's files
 * (same encoding, same exact logical types, same roll sizes) to S3, and its state beside them (see
 * `layout.ts`, `state.ts`, `sink.ts`). Staged generations are resumed, appended ones opened, and
 * orphans of an interrupted run removed exactly like the local target does.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DatakitError } from '../../errors.js';
import { DEFAULT_PARQUET_COMPRESSION, type ParquetCompression } from '../parquet/compression.js';
import { DEFAULT_ROW_GROUP_ROWS } from '../parquet/file-writer.js';
import { newGenerationId } from '../parquet/layout.js';
import type { BronzeTarget, OpenStreamParams, SourceState, StreamSink } from '../types.js';
import { parseS3Url, s3Client, s3Error, type S3Location } from './client.js';
import { S3StreamLayout } from './layout.js';
import { S3StreamSink } from './sink.js';
import { loadS3State, resetS3State } from './state.js';

/** Options of {@link S3Target}. */
export interface S3TargetOptions {
  /** Rows per object before the next one starts (each object is a commit). @default 1_000_000 */
  rollRows?: number;
  /** Encoded bytes per object before the next one starts. @default 268435456 */
  rollBytes?: number;
  /** Rows per row group. @default 16384 */
  rowGroupRows?: number;
  /** Page compression. @default 'zstd' */
  compression?: ParquetCompression;
  /** Multipart upload part size. @default 8 MiB */
  partSize?: number;
}

function checkSource(source: string): void {
  // eslint-disable-next-line no-control-regex
  if (!source || /[/\\\u0000-\u001f]/.test(source) || source.startsWith('.') || source.startsWith('_')) {
    throw new DatakitError('CONFIG.INVALID', `bronze source ${JSON.stringify(source)} cannot name a prefix of the S3 target`, { fix: 'set BRONZE_SOURCE to a name without / or \\ that does not start with . or _' });
  }
}

/**
 * A bronze target writing Parquet objects under an S3 prefix.
 * @example const t = s3TargetFromUrl('s3://lake/bronze?region=eu-west-1'); await t.open('file');
 */
export class S3Target implements BronzeTarget {
  readonly kind = 's3';
  readonly location: string;
  private readonly client: S3Client;
  private readonly sinks = new Set<S3StreamSink>();

  constructor(
    private readonly loc: S3Location,
    private readonly options: S3TargetOptions = {},
  ) {
    this.location = loc.display;
    this.client = s3Client(loc);
  }

  /** Prove the bucket can be listed (nothing to create: prefixes exist with their objects). */
  async open(source: string): Promise<void> {
    checkSource(source);
    await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.loc.prefix, MaxKeys: 1 })).catch((e: unknown) => Promise.reject(s3Error(`listing ${this.location}`, e)));
  }

  loadState(source: string): Promise<SourceState> {
    checkSource(source);
    return loadS3State(this.client, this.loc, source);
  }

  async resetState(source: string, keys: string[]): Promise<void> {
    checkSource(source);
    await resetS3State(this.client, this.loc, source, keys);
  }

  async openStream(params: OpenStreamParams): Promise<StreamSink> {
    const { stored, stateKey, staged } = params;
    const source = params.run.source;
    checkSource(source);
    const layout = new S3StreamLayout(this.client, this.loc, source, params.bronzeName);
    let setup: { generation: string; seq: number; kit: unknown };
    if (staged && stored?.phase === 'staging') {
      // resume: drop parts never stored, keep the live generation readers see
      await layout.remove(await layout.strayStaged(stored.generation, stored.seq));
      setup = { generation: stored.generation, seq: stored.seq, kit: stored.kit };
    } else if (staged) {
      await layout.remove(await layout.strayStaged(undefined, 0));
      setup = { generation: newGenerationId(), seq: 0, kit: undefined };
    } else {
      if (!stored || stored.phase !== 'live') throw new DatakitError('INTERNAL.ERROR', `stream ${stateKey}: append requested without a live generation in the state`);
      const stray = await layout.strayLive(stored.generation, stored.seq);
      if (stray.length) params.run.logger.info({ stream: stateKey, removed: stray.length }, 'removed objects of commits that were never stored (an interrupted run)');
      await layout.remove(stray);
      setup = { generation: stored.generation, seq: stored.seq, kit: stored.kit };
    }
    const sink: S3StreamSink = new S3StreamSink({
      layout,
      params,
      ...setup,
      rollRows: this.options.rollRows ?? 1_000_000,
      rollBytes: this.options.rollBytes ?? 256 * 1024 * 1024,
      rowGroupRows: this.options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
      compression: this.options.compression ?? DEFAULT_PARQUET_COMPRESSION,
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      onDone: () => this.sinks.delete(sink),
    });
    this.sinks.add(sink);
    return sink;
  }

  async close(): Promise<void> {
    for (const sink of [...this.sinks]) await sink.abort();
    this.client.destroy();
  }
}

/**
 * The S3 target of a `BRONZE_URL` (see `client.ts` for the URL's options).
 * @example s3TargetFromUrl('s3://lake/bronze?endpoint=http://127.0.0.1:9000', { rollRows: 500_000 });
 */
export function s3TargetFromUrl(url: string, options: S3TargetOptions = {}): S3Target {
  return new S3Target(parseS3Url(url), options);
}
