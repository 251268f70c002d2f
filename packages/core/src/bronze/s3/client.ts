/**
 * The S3 client of the S3 bronze target, from its URL:
 * `s3://[KEY:SECRET@]bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:9000&path_style=true`.
 * Without credentials in the URL the AWS default chain applies (env, profile, SSO, IMDS/ECS roles);
 * `AWS_ENDPOINT_URL_S3` works too. A custom endpoint turns on path-style requests and checksums only
 * when required (S3-compatible stores often mis-store the SDK's default trailing checksums).
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DatakitError, isDatakitError } from '../../errors.js';

/** Where an S3 target writes. */
export interface S3Location {
  bucket: string;
  /** Key prefix without a leading `/`, ending in `/` unless empty. */
  prefix: string;
  /** `s3://bucket/prefix` without credentials. */
  display: string;
  config: S3ClientConfig;
}

/** Parse a `BRONZE_URL=s3://…` (throws `CONFIG.INVALID`). */
export function parseS3Url(url: string): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatakitError('CONFIG.INVALID', 'BRONZE_URL: not a valid s3:// URL', { fix: 'use s3://bucket/prefix' });
  }
  const bucket = u.hostname;
  if (!bucket) throw new DatakitError('CONFIG.INVALID', 'BRONZE_URL: an s3:// URL needs a bucket', { fix: 'use s3://bucket/prefix' });
  const raw = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  const prefix = raw && !raw.endsWith('/') ? `${raw}/` : raw;
  const q = u.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  const pathStyle = q.get('path_style') ?? q.get('force_path_style');
  const custom = endpoint !== undefined || process.env.AWS_ENDPOINT_URL_S3 !== undefined;
  const config: S3ClientConfig = {
    region: q.get('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: pathStyle ? pathStyle === 'true' : custom,
    ...(custom ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    ...(u.username && u.password ? { credentials: { accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) } } : {}),
    maxAttempts: 5,
  };
  return { bucket, prefix, display: `s3://${bucket}/${prefix.replace(/\/$/, '')}`, config };
}

/** A new client for a location. */
export function s3Client(loc: S3Location): S3Client {
  return new S3Client(loc.config);
}

const AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError']);
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EPIPE']);

/**
 * An S3 failure as a DatakitError: credentials → `BRONZE.AUTH_FAILED`, network and 5xx/throttling →
 * `BRONZE.UNREACHABLE` (retried), anything else `BRONZE.WRITE_FAILED`.
 */
export function s3Error(what: string, e: unknown): DatakitError {
  if (isDatakitError(e)) return e;
  const err = (e ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const reason = err.message || err.name || String(e);
  if (AUTH.has(err.name ?? '') || status === 403) {
    return new DatakitError('BRONZE.AUTH_FAILED', `${what}: ${reason}`, { cause: e, fix: 'check the AWS credentials (default chain, or KEY:SECRET@ in BRONZE_URL) and the bucket policy' });
  }
  if (NETWORK.has(err.code ?? '') || (status !== undefined && (status >= 500 || status === 429)) || err.name === 'SlowDown' || err.name === 'TimeoutError') {
    return new DatakitError('BRONZE.UNREACHABLE', `${what}: ${reason}`, { cause: e, fix: 'check the endpoint and network (BRONZE_URL ?endpoint=…)' });
  }
  if (err.name === 'NoSuchBucket') return new DatakitError('BRONZE.WRITE_FAILED', `${what}: the bucket does not exist`, { cause: e, fix: 'create the bucket or fix BRONZE_URL' });
  return new DatakitError('BRONZE.WRITE_FAILED', `${what}: ${reason}`, { cause: e });
}
