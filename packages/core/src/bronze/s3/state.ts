/**
 * State of an S3 bronze target: one object per stream (and partition), in the same format as the
 * Parquet target's state (`StoredStreamState`, exact JSON through `stringifyExact`):
 * `<prefix>/_state/<source>/<state key, URI-encoded>.json` holding
 * `{ "version": 1, "source": "…", "stream": "<key>", "state": { … } }`.
 *
 * One object per stream rather than one per source: S3 has no locks, and a stream (or partition) has
 * a single writer, so containers running different streams never overwrite each other's state.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DatakitError } from '../../errors.js';
import { stringifyExact } from '../../values.js';
import { STATE_DIR, STATE_VERSION, validateStoredState } from '../parquet/state.js';
import type { SourceState, StoredStreamState } from '../types.js';
import { s3Error, type S3Location } from './client.js';

/** The key prefix of a source's state objects. */
export function stateDir(loc: S3Location, source: string): string {
  return `${loc.prefix}${STATE_DIR}/${source}/`;
}

/** The object key of one stream's state. */
export function stateObjectKey(loc: S3Location, source: string, key: string): string {
  return `${stateDir(loc, source)}${encodeURIComponent(key)}.json`;
}

/** JSON.parse keeping integers beyond 2^53 as bigint (as the Parquet target reads its state). */
function parseExact(text: string): unknown {
  return JSON.parse(text, (_k: string, v: unknown, ctx?: { source?: string }) =>
    typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? BigInt(ctx.source) : v,
  );
}

/** Every stored stream state of a source; `STATE.CORRUPT` for an unreadable one. */
export async function loadS3State(client: S3Client, loc: S3Location, source: string): Promise<SourceState> {
  const out: SourceState = {};
  const dir = stateDir(loc, source);
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: dir, ...(token ? { ContinuationToken: token } : {}) })).catch((e: unknown) => Promise.reject(s3Error(`listing s3://${loc.bucket}/${dir}`, e)));
    for (const o of page.Contents ?? []) {
      if (!o.Key?.endsWith('.json')) continue;
      const path = `s3://${loc.bucket}/${o.Key}`;
      const body = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: o.Key })).catch((e: unknown) => Promise.reject(s3Error(`reading ${path}`, e)));
      const text = (await body.Body?.transformToString('utf8')) ?? '';
      let doc: { version?: unknown; source?: unknown; stream?: unknown; state?: unknown };
      try {
        doc = parseExact(text) as typeof doc;
      } catch (e) {
        throw new DatakitError('STATE.CORRUPT', `state object ${path} is not valid JSON`, { cause: e, fix: 'run --state-reset <stream>' });
      }
      if (doc?.version !== STATE_VERSION || doc.source !== source || typeof doc.stream !== 'string') {
        throw new DatakitError('STATE.CORRUPT', `state object ${path} is not a version ${STATE_VERSION} state of source ${JSON.stringify(source)}`, { fix: 'run --state-reset <stream>' });
      }
      out[doc.stream] = validateStoredState(doc.state, doc.stream, path);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Store one stream's state (durable when S3 acknowledged the PUT). */
export async function saveS3State(client: S3Client, loc: S3Location, source: string, key: string, state: StoredStreamState): Promise<void> {
  const Key = stateObjectKey(loc, source, key);
  const Body = `${stringifyExact({ version: STATE_VERSION, source, stream: key, state }, 2)}\n`;
  await client.send(new PutObjectCommand({ Bucket: loc.bucket, Key, Body, ContentType: 'application/json' })).catch((e: unknown) => Promise.reject(s3Error(`writing s3://${loc.bucket}/${Key}`, e)));
}

/** Forget these streams' states. */
export async function resetS3State(client: S3Client, loc: S3Location, source: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) {
    const Key = stateObjectKey(loc, source, k);
    await client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key })).catch((e: unknown) => Promise.reject(s3Error(`deleting s3://${loc.bucket}/${Key}`, e)));
  }
}
