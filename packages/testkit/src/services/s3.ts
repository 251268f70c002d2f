/**
 * An S3-compatible server for tests: `s3rver` on 127.0.0.1 (recipe: ../shared/TEST-SERVICES.md §3),
 * in-process, ~15 ms to start. The workspace patches its continuation token (DES, refused by
 * OpenSSL 3), so listings of any length page. Clients must send checksums only when required
 * (`requestChecksumCalculation: 'WHEN_REQUIRED'`): s3rver stores the SDK's aws-chunked framing
 * otherwise. `DATAKIT_TEST_S3_ENDPOINT` reuses a running server instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running S3-compatible server. */
export interface S3Service {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stop the server (a no-op for a reused one). */
  stop(): Promise<void>;
}

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

interface S3rverLike {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverLike;

/**
 * Start s3rver with these buckets.
 * @example const s3 = await startS3({ buckets: ['landing'] }); process.env.DATAKIT_TEST_S3_ENDPOINT = s3.endpoint;
 */
export async function startS3(opts: { buckets?: string[] } = {}): Promise<S3Service> {
  const reuse = process.env.DATAKIT_TEST_S3_ENDPOINT;
  if (reuse) return { endpoint: reuse, region: 'us-east-1', ...S3RVER_CREDENTIALS, stop: async () => undefined };
  // s3rver ships no types: loaded by name (and only when a test starts it)
  const specifier = 's3rver';
  const mod = (await import(specifier)) as { default?: S3rverCtor } & S3rverCtor;
  const S3rver: S3rverCtor = mod.default ?? mod;
  const directory = mkdtempSync(join(tmpdir(), 'datakit-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: (opts.buckets ?? []).map((name) => ({ name })) });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    ...S3RVER_CREDENTIALS,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
