/**
 * The S3 bronze target when uploads start failing mid-run: the built CLI writes through a proxy in
 * front of the test's S3 server that, after two Parquet objects, answers every further Parquet
 * upload with 503. The run must exit non-zero with the state object exactly as the last successful
 * commit left it, and a later run must land every row exactly once.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readParquet, S3RVER_CREDENTIALS, spawnCli } from '@datakit/testkit';
import { s3Endpoint, tempDir } from './support.js';

const BUCKET = `failing-${process.pid}`;
const client = new S3Client({ endpoint: s3Endpoint(), region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

/** An HTTP proxy to the S3 server that fails Parquet uploads after `okParquet` of them, and remembers the state bodies it passed. */
async function faultyProxy(okParquet: number): Promise<{ endpoint: string; states: string[]; failed: () => number; heal(): void; close(): Promise<void> }> {
  const upstream = new URL(s3Endpoint());
  const states: string[] = [];
  let parquetPuts = 0;
  let failed = 0;
  let healed = false;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT' && /\.parquet(\?|$)/.test(path) && !healed && ++parquetPuts > okParquet) {
        failed++;
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected by the test</Message></Error>');
        return;
      }
      const body = Buffer.concat(chunks);
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        if (req.method === 'PUT' && path.includes('/_state/') && r.statusCode === 200) states.push(body.toString('utf8'));
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    states,
    failed: () => failed,
    heal: () => (healed = true),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(() => client.destroy());

describe('the S3 bronze target when uploads fail mid-run', () => {
  it('exits non-zero leaving the state object as its last commit wrote it, and the next run lands every row once', async () => {
    const src = tempDir('s3fail-src');
    const n = 20_000;
    writeFileSync(join(src, 'big.csv'), `id,payload\n${Array.from({ length: n }, (_, i) => `${i + 1},${'p'.repeat(20)}`).join('\n')}\n`);
    const proxy = await faultyProxy(2);
    try {
      const prefix = 'bronze';
      const bronze = `s3://${S3RVER_CREDENTIALS.accessKeyId}:${S3RVER_CREDENTIALS.secretAccessKey}@${BUCKET}/${prefix}?endpoint=${encodeURIComponent(proxy.endpoint)}`;
      const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 'big=*.csv', BRONZE_URL: bronze, BATCH_SIZE: '2000', PARQUET_ROLL_ROWS: '4000', MAX_RETRIES: '0', LOG_LEVEL: 'warn' };
      const main = join(__dirname, '../dist/main.js');
      const first = await spawnCli(main, ['run'], env).done;
      // a 503 that outlives the SDK's own retries: BRONZE.UNREACHABLE, exit 3
      expect({ code: first.code, error: (first.json as { streams: { error?: { code: string } }[] }).streams[0]!.error?.code }).toEqual({ code: 3, error: 'BRONZE.UNREACHABLE' });
      expect(proxy.failed()).toBeGreaterThan(0);
      // the state object is what the last successful state write put there, and names only the two stored objects
      const stateKey = `${prefix}/_state/file/big.json`;
      const stored = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: stateKey }))).Body!.transformToString();
      expect(proxy.states.length).toBeGreaterThan(0);
      expect(stored).toBe(proxy.states.at(-1));
      expect((JSON.parse(stored) as { state: { seq: number } }).state.seq).toBeLessThanOrEqual(3);

      proxy.heal();
      const again = await spawnCli(main, ['run'], env).done;
      expect({ code: again.code, stderr: again.code === 0 ? '' : again.stderr.slice(-1000) }).toEqual({ code: 0, stderr: '' });
      const dir = tempDir('s3fail-read');
      const parts = ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/file/big/` }))).Contents ?? []).filter((o) => /\/[^/_][^/]*\.parquet$/.test(o.Key!));
      for (const [i, o] of parts.entries()) writeFileSync(join(dir, `${i}.parquet`), await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!.transformToByteArray());
      const { rows } = await readParquet(dir, { columns: ['id'] });
      const ids = rows.map((r) => Number(r.id));
      expect({ rows: ids.length, distinct: new Set(ids).size, max: Math.max(...ids) }).toEqual({ rows: n, distinct: n, max: n });
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
