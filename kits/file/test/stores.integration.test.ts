/**
 * The three stores read the same files to the same rows: a local directory, S3 (s3rver) and SFTP
 * (sshd); S3 pages through thousands of objects with hostile names; SFTP authenticates with a
 * passphrase-protected key and refuses a host key that is not the pinned one; and S3 files land in
 * an S3 bronze target end to end.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readParquet, S3RVER_CREDENTIALS, spawnCli, waitFor } from '@datakit/testkit';
import { dataOnly, landed, runFile, s3Endpoint, sftpService, tempDir, writeFixtures } from './support.js';

const STREAMS = 'orders=orders/*.csv*;events=events/*;types=types/*';
const BUCKET = `files-${process.pid}`;
const s3env = { S3_ENDPOINT: s3Endpoint(), S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, S3_REGION: 'us-east-1' };
const client = new S3Client({ endpoint: s3Endpoint(), region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const sftp = sftpService();

let local: string;
beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  local = join(sftp.root, `stores-${process.pid}`);
  await writeFixtures(local);
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  for (const f of walk(local)) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `landing/${relative(local, f)}`, Body: readFileSync(f) }));
});
afterAll(() => client.destroy());

async function rowsFrom(env: Record<string, string>): Promise<Record<string, unknown>> {
  const root = tempDir('stores');
  const { code, report } = await runFile({ FILE_STREAMS: STREAMS, ...env }, root);
  expect({ code, error: report.error ?? report.streams.find((s) => s.error)?.error }).toEqual({ code: 0, error: undefined });
  return { orders: dataOnly(await landed(root, 'orders', 'id')), events: dataOnly(await landed(root, 'events', 'id')), types: dataOnly(await landed(root, 'types', 'id')) };
}

describe('the stores', () => {
  it('land the same rows from a local directory, S3 and SFTP', async () => {
    const fromLocal = await rowsFrom({ FILE_URL: `file://${local}` });
    expect((fromLocal.orders as unknown[]).length).toBe(6);
    const fromS3 = await rowsFrom({ FILE_URL: `s3://${BUCKET}/landing/`, ...s3env });
    const fromSftp = await rowsFrom({ FILE_URL: sftp.url(`stores-${process.pid}`), SFTP_PRIVATE_KEY: sftp.encryptedKey, SFTP_PASSPHRASE: sftp.passphrase, SFTP_HOST_KEY_SHA256: sftp.hostKeyFingerprint });
    expect(fromS3).toEqual(fromLocal);
    expect(fromSftp).toEqual(fromLocal);
  });

  it('names each row\'s file as an s3:// URL, an sftp:// URL or an absolute path', async () => {
    const root = tempDir('stores-lineage');
    await runFile({ FILE_URL: `s3://${BUCKET}/landing`, FILE_STREAMS: 'orders=orders/*.csv', ...s3env }, root);
    expect((await landed(root, 'orders'))[0]!._bronze_file).toBe(`s3://${BUCKET}/landing/orders/2024-01-01.csv`);
  });

  it('pages through thousands of S3 objects with spaces, unicode, # and % in their names, and reads each once', async () => {
    const n = 1500;
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `many/d ${(i + k) % 7}/fïle #${i + k} 100%.csv`, Body: `id,v\n${i + k},x\n` }))),
      );
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }));
    expect(listed.IsTruncated).toBe(true);
    const root = tempDir('stores-many');
    const env = { FILE_URL: `s3://${BUCKET}/many`, FILE_STREAMS: 'many=**/*.csv', ...s3env };
    const first = await runFile(env, root);
    expect(first.report.rows).toBe(n);
    const ids = (await landed(root, 'many', 'id')).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i));
    const again = await runFile(env, root);
    expect(again.report).toMatchObject({ status: 'succeeded', rows: 0 });
  });

  it('refuses an SFTP host key that is not the pinned one (SOURCE.AUTH_FAILED, exit 3)', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    const { code, report } = await runFile({ FILE_URL: sftp.url(`stores-${process.pid}`), SFTP_PASSWORD: sftp.password, SFTP_HOST_KEY_SHA256: other, FILE_STREAMS: STREAMS, MAX_RETRIES: '0' }, tempDir('stores-hostkey'));
    expect(code).toBe(3);
    expect(report.error).toMatchObject({ code: 'SOURCE.AUTH_FAILED' });
    expect(report.error!.message).toContain('SFTP_HOST_KEY_SHA256');
  });

  it('reports a wrong SFTP key passphrase as an authentication error (exit 3) naming the setting, never the passphrase', async () => {
    const wrong = 'not-the-passphrase-7f3a';
    const { code, report } = await runFile({ FILE_URL: sftp.url(`stores-${process.pid}`), SFTP_PRIVATE_KEY: sftp.encryptedKey, SFTP_PASSPHRASE: wrong, SFTP_HOST_KEY_SHA256: sftp.hostKeyFingerprint, FILE_STREAMS: STREAMS, MAX_RETRIES: '0' }, tempDir('stores-passphrase'));
    expect({ code, error: report.error?.code }).toEqual({ code: 3, error: 'SOURCE.AUTH_FAILED' });
    expect(report.error!.message).toContain('bad passphrase');
    expect(report.error!.message).toContain('SFTP_PASSPHRASE');
    expect(JSON.stringify(report)).not.toContain(wrong);
  });

  it('loads neither the AWS SDK nor the SSH client for a local FILE_URL (the built CLI, every module load traced)', async () => {
    const dir = tempDir('stores-loads');
    const hook = join(dir, 'trace.mjs');
    writeFileSync(hook, "import { registerHooks } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nregisterHooks({ load(url, context, next) { appendFileSync(process.env.TRACE_LOADS, url + '\\n'); return next(url, context); } });\n");
    const loads = async (env: Record<string, string>, name: string): Promise<string[]> => {
      const log = join(dir, `${name}.log`);
      writeFileSync(log, '');
      const r = await spawnCli(join(__dirname, '../dist/main.js'), ['run', 'orders'], { FILE_STREAMS: STREAMS, BRONZE_URL: `file://${join(dir, name)}`, LOG_LEVEL: 'warn', NODE_OPTIONS: `--import ${pathToFileURL(hook).href}`, TRACE_LOADS: log, ...env }).done;
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    };
    const sdk = (urls: string[]): string[] => urls.filter((u) => /[/\\](@aws-sdk[/\\]client-s3|@aws-sdk[/\\]lib-storage|ssh2|ssh2-sftp-client)[@/\\]/.test(u) || /node_modules\/\.pnpm\/(ssh2|@aws-sdk\+client-s3)@/.test(u));
    const fromLocal = await loads({ FILE_URL: `file://${local}` }, 'local');
    expect(fromLocal.some((u) => u.endsWith('/dist/store/local.js'))).toBe(true);
    expect(sdk(fromLocal)).toEqual([]);
    // the trace sees them when they are used
    const s3 = await loads({ FILE_URL: `s3://${BUCKET}/landing/`, ...s3env }, 's3');
    expect(sdk(s3).some((u) => u.includes('client-s3'))).toBe(true);
  });

  it('reports unknown S3 credentials as SOURCE.AUTH_FAILED naming the settings, never the secret', async () => {
    const { code, report } = await runFile({ FILE_URL: `s3://${BUCKET}/landing`, FILE_STREAMS: STREAMS, ...s3env, S3_ACCESS_KEY_ID: 'NOSUCHKEY', S3_SECRET_ACCESS_KEY: 'not-the-secret', MAX_RETRIES: '0' }, tempDir('stores-s3auth'));
    expect(code).toBe(3);
    expect(report.error!.message).toContain('S3_SECRET_ACCESS_KEY');
    expect(JSON.stringify(report)).not.toContain('not-the-secret');
  });

  it('resumes into the S3 bronze target after kill -9 of the built CLI without losing or doubling a row', async () => {
    const src = tempDir('stores-kill');
    const n = 120_000;
    writeFileSync(join(src, 'big.csv'), `id,payload\n${Array.from({ length: n }, (_, i) => `${i + 1},${'p'.repeat(40)}`).join('\n')}\n`);
    const prefix = `killed-${process.pid}`;
    const bronze = `s3://${S3RVER_CREDENTIALS.accessKeyId}:${S3RVER_CREDENTIALS.secretAccessKey}@${BUCKET}/${prefix}?endpoint=${encodeURIComponent(s3Endpoint())}`;
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 'big=*.csv', BRONZE_URL: bronze, BATCH_SIZE: '2000', PARQUET_ROLL_ROWS: '4000', LOG_LEVEL: 'warn' };
    const main = join(__dirname, '../dist/main.js');
    const first = spawnCli(main, ['run'], env);
    const stateKey = `${prefix}/_state/file/big.json`;
    await waitFor('three commits in the S3 state', async () => {
      const o = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: stateKey })).catch(() => undefined);
      const seq = o ? (JSON.parse(await o.Body!.transformToString()) as { state: { seq: number } }).state.seq : 0;
      return seq >= 3 || undefined;
    }, { timeoutMs: 60_000 });
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const again = await spawnCli(main, ['run'], env).done;
    expect(again.code).toBe(0);
    const dir = tempDir('stores-kill-read');
    const parts = ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/file/big/` }))).Contents ?? []).filter((o) => o.Key!.endsWith('.parquet'));
    for (const [i, o] of parts.entries()) writeFileSync(join(dir, `${i}.parquet`), await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!.transformToByteArray());
    const { rows } = await readParquet(dir, { columns: ['id'] });
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect({ rows: ids.length, first: ids[0], last: ids.at(-1), distinct: new Set(ids).size }).toEqual({ rows: n, first: 1, last: n, distinct: n });
  }, 180_000);

  it('lands S3 files in an S3 bronze target (BRONZE_URL=s3://…) and appends only new files on the next run', async () => {
    const bronze = `s3://${S3RVER_CREDENTIALS.accessKeyId}:${S3RVER_CREDENTIALS.secretAccessKey}@${BUCKET}/bronze?endpoint=${encodeURIComponent(s3Endpoint())}`;
    const env = { FILE_URL: `s3://${BUCKET}/landing`, FILE_STREAMS: 'orders=orders/*.csv*', ...s3env, BRONZE_URL: bronze };
    const { runInProcess } = await import('@datakit/testkit');
    const { fileKit } = await import('../src/index.js');
    const first = await runInProcess(fileKit, ['run'], env);
    expect(first.json).toMatchObject({ status: 'succeeded', rows: 6, bronze: `s3://${BUCKET}/bronze` });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landing/orders/2024-01-09.csv', Body: 'id,customer_id,amount\n77,1,1.5\n' }));
    const second = await runInProcess(fileKit, ['run'], env);
    expect(second.json).toMatchObject({ status: 'succeeded', rows: 1 });
    const parts = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'bronze/file/orders/' }));
    expect((parts.Contents ?? []).filter((o) => o.Key!.endsWith('.parquet'))).toHaveLength(2);
    const state = await runInProcess(fileKit, ['state', 'show'], env);
    expect(state.json).toMatchObject({ streams: { orders: { phase: 'live', kit: { v: 1 } } } });
  });
});
