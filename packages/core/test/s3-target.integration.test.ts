/**
 * The S3 bronze target against a real S3-compatible server (s3rver on 127.0.0.1): the local Parquet
 * target's files and rules, under a prefix, with state objects written after the data objects.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import type { Column, OpenStreamParams, Row, Stream, StreamSink } from '@datakit/core';
import { startS3, type S3Service } from '@datakit/testkit';
import { S3Target, s3TargetFromUrl } from '../src/bronze/s3/index.js';
import { createTarget } from '../src/targets.js';
import { runtimeSettings } from '../src/runtime.js';

const SOURCE = 'shop';
const BUCKET = `bronze-${process.pid}`;
const columns: Column[] = [
  { name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' },
  { name: 'amount', type: { decimal: [18, 4] }, nullable: true, sourceType: 'numeric' },
  { name: 'note', type: 'string', nullable: true, sourceType: 'text' },
];
const stream: Stream = { name: 'orders', columns, syncMode: 'full_refresh' };
const run = (runId = 'run-1') => ({ source: SOURCE, runId, loadedAtMicros: 0n, logger: pino({ level: 'silent' }) });
const rowsOf = (from: number, to: number): Row[] => Array.from({ length: to - from + 1 }, (_, i) => [BigInt(from + i), `${from + i}.5000`, `order ${from + i}`]);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let s3: S3Service;
let client: S3Client;
let prefix: string;
let n = 0;

beforeAll(async () => {
  s3 = await startS3();
  client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});
beforeEach(() => {
  prefix = `lake ${++n}/bronze`;
});

const url = (extra = ''): string => `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${BUCKET}/${encodeURIComponent(prefix).replace(/%2F/g, '/')}?endpoint=${encodeURIComponent(s3.endpoint)}${extra}`;

async function openTarget(opts: { rollRows?: number; partSize?: number } = {}): Promise<S3Target> {
  const t = s3TargetFromUrl(url(), { rowGroupRows: 3, ...opts });
  await t.open(SOURCE);
  return t;
}

async function open(t: S3Target, p: Partial<OpenStreamParams> = {}): Promise<StreamSink> {
  const states = await t.loadState(SOURCE);
  return t.openStream({ run: run(), stream, columns, stored: states.orders, bronzeName: 'orders', stateKey: 'orders', staged: true, ...p });
}

async function keys(sub: string): Promise<string[]> {
  const r = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/${sub}` }));
  return (r.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
}

/** The ids a reader of `<prefix>/shop/orders/*.parquet` sees (objects downloaded, read by DuckDB). */
async function liveIds(): Promise<number[]> {
  const live = (await keys(`${SOURCE}/orders/`)).filter((k) => /^shop\/orders\/[^/]+\.parquet$/.test(k));
  if (!live.length) return [];
  const dir = mkdtempSync(join(tmpdir(), 'datakit-s3-read-'));
  try {
    const files: string[] = [];
    for (const [i, k] of live.entries()) {
      const o = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${k}` }));
      const f = join(dir, `${i}.parquet`);
      writeFileSync(f, await o.Body!.transformToByteArray());
      files.push(`'${f}'`);
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const r = await c.runAndReadAll(`SELECT id FROM read_parquet([${files.join(',')}]) ORDER BY id`);
      return r.getRows().map((row) => Number(row[0]));
    } finally {
      c.closeSync();
      db.closeSync();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The middleware stack of a target's S3 client (what its sinks send through). */
function commandsOf(t: S3Target): S3Client['middlewareStack'] {
  return (Reflect.get(t, 'client') as S3Client).middlewareStack;
}

/** Every command a target sends from now on: its name and object key. */
function recordCommands(t: S3Target): { name: string; key: string }[] {
  const sent: { name: string; key: string }[] = [];
  commandsOf(t).add(
    (next, context) => async (args) => {
      sent.push({ name: context.commandName ?? '', key: String((args.input as { Key?: string }).Key ?? '') });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

describe('S3Target', () => {
  it('stages a full refresh out of readers sight, then swaps it in with a manifest and live state', async () => {
    const t = await openTarget({ rollRows: 4 });
    const sink = await open(t);
    await sink.write(rowsOf(1, 4), { at: 4 }, true);
    await sink.write(rowsOf(5, 6), { at: 6 }, true);
    expect((await keys(`${SOURCE}/_staging/orders/`)).length).toBe(1);
    expect(await liveIds()).toEqual([]);
    expect((await t.loadState(SOURCE)).orders).toMatchObject({ phase: 'staging', seq: 1, kit: { at: 4 } });
    await sink.finish();
    expect(await liveIds()).toEqual(range(1, 6));
    expect(await keys(`${SOURCE}/_staging/`)).toEqual([]);
    expect((await t.loadState(SOURCE)).orders).toMatchObject({ phase: 'live', seq: 2, kit: { at: 6 } });
    const manifest = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${SOURCE}/orders/_manifest.json` }))).Body!.transformToString()) as { files: string[] };
    expect(manifest.files).toHaveLength(2);
    await t.close();
  });

  it('replaces the previous generation on the next full refresh and deletes its objects', async () => {
    const t = await openTarget();
    const first = await open(t);
    await first.write(rowsOf(1, 5), { at: 5 }, true);
    await first.finish();
    const second = await open(t);
    await second.write(rowsOf(100, 102), { at: 102 }, true);
    await second.finish();
    expect(await liveIds()).toEqual(range(100, 102));
    expect((await keys(`${SOURCE}/orders/`)).filter((k) => k.endsWith('.parquet'))).toHaveLength(1);
    await t.close();
  });

  it('resumes an interrupted staging generation from its stored seq and drops parts that were never stored', async () => {
    const t = await openTarget({ rollRows: 3 });
    const sink = await open(t);
    await sink.write(rowsOf(1, 3), { at: 3 }, true);
    // a rolled part whose rows carry no checkpoint is uploaded but not stored: a crash orphans it
    await sink.write(rowsOf(4, 6), undefined, false);
    expect((await t.loadState(SOURCE)).orders).toMatchObject({ seq: 1, kit: { at: 3 } });
    expect((await keys(`${SOURCE}/_staging/orders/`)).length).toBe(2);
    // crash: the sink is never finished
    const again = await open(s3TargetFromUrl(url(), { rowGroupRows: 3, rollRows: 3 }));
    expect((await keys(`${SOURCE}/_staging/orders/`)).length).toBe(1);
    await again.write(rowsOf(4, 6), { at: 6 }, true);
    await again.finish();
    expect(await liveIds()).toEqual(range(1, 6));
    await t.close();
  });

  it('appends incremental commits to the live generation and removes orphans of a crash on open', async () => {
    const t = await openTarget({ rollRows: 2 });
    const first = await open(t);
    await first.write(rowsOf(1, 2), { at: 2 }, true);
    await first.finish();
    const stored = (await t.loadState(SOURCE)).orders!;
    const append = await t.openStream({ run: run('run-2'), stream, columns, stored, bronzeName: 'orders', stateKey: 'orders', staged: false });
    await append.write(rowsOf(3, 4), { at: 4 }, true);
    await append.write(rowsOf(5, 6), undefined, false);
    expect(await liveIds()).toEqual(range(1, 6));
    // crash: rows 5-6 were uploaded without a checkpoint
    const next = (await t.loadState(SOURCE)).orders!;
    expect(next).toMatchObject({ phase: 'live', kit: { at: 4 } });
    const resumed = await t.openStream({ run: run('run-3'), stream, columns, stored: next, bronzeName: 'orders', stateKey: 'orders', staged: false });
    expect(await liveIds()).toEqual(range(1, 4));
    await resumed.write(rowsOf(5, 6), { at: 6 }, true);
    await resumed.finish();
    expect(await liveIds()).toEqual(range(1, 6));
    await t.close();
  });

  it('uploads an object larger than the part size as a multipart upload, one UploadPart per part', async () => {
    const t = await openTarget({ partSize: 5 * 1024 * 1024 });
    const sent = recordCommands(t);
    const sink = await open(t);
    // random text that Snappy cannot shrink: ~9 MiB
    const rows: Row[] = Array.from({ length: 9000 }, (_, i) => [BigInt(i + 1), null, randomBytes(512).toString('hex')]);
    await sink.write(rows, { at: 9000 }, true);
    const r = await sink.finish();
    expect(r.bytes).toBeGreaterThan(5 * 1024 * 1024);
    const parquet = sent.filter((c) => c.key.endsWith('.parquet'));
    const count = (name: string): number => parquet.filter((c) => c.name === name).length;
    expect({ create: count('CreateMultipartUploadCommand'), parts: count('UploadPartCommand'), complete: count('CompleteMultipartUploadCommand'), put: count('PutObjectCommand') }).toEqual({ create: 1, parts: 2, complete: 1, put: 0 });
    expect((await liveIds()).length).toBe(9000);
    await t.close();
  });

  it('keeps the state object unchanged and rejects when an upload fails midway', async () => {
    const t = await openTarget({ partSize: 5 * 1024 * 1024 });
    const first = await open(t);
    await first.write(rowsOf(1, 3), { at: 3 }, true);
    await first.finish();
    const stateKey = `${prefix}/_state/${SOURCE}/orders.json`;
    const before = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: stateKey }))).Body!.transformToString();
    // the server fails the second part of the next upload (before the client's retries: none happen)
    let parts = 0;
    commandsOf(t).add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand' && ++parts === 2) throw Object.assign(new Error('injected: service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPart' },
    );
    const sink = await open(t, { run: run('run-2'), stored: (await t.loadState(SOURCE)).orders, staged: false });
    const rows: Row[] = Array.from({ length: 9000 }, (_, i) => [BigInt(i + 4), null, randomBytes(512).toString('hex')]);
    // (s3rver refuses the AbortMultipartUpload that follows, so the error reported may be that one)
    await expect((async () => {
      await sink.write(rows, { at: 9003 }, true);
      await sink.finish();
    })()).rejects.toMatchObject({ code: expect.stringMatching(/^BRONZE\.(UNREACHABLE|WRITE_FAILED)$/), message: expect.stringContaining('uploading s3://') });
    expect(parts).toBe(2);
    const after = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: stateKey }))).Body!.transformToString();
    expect(after).toBe(before);
    expect(await liveIds()).toEqual(range(1, 3));
    await t.close();
  }, 60_000);

  it('keeps integers beyond 2^53 exact in the state and forgets the state on reset', async () => {
    const t = await openTarget();
    const sink = await open(t);
    await sink.write(rowsOf(1, 1), { offset: 9007199254740993n }, true);
    await sink.finish();
    expect((await t.loadState(SOURCE)).orders?.kit).toEqual({ offset: 9007199254740993n });
    await t.resetState(SOURCE, ['orders']);
    expect((await t.loadState(SOURCE)).orders).toBeUndefined();
    await t.close();
  });

  it('refuses an unreadable state object with STATE.CORRUPT', async () => {
    const t = await openTarget();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_state/${SOURCE}/orders.json`, Body: '{ "version": 1, "source": "shop", "stream": "orders", "state": { "phase": "sideways" } }' }));
    await expect(t.loadState(SOURCE)).rejects.toMatchObject({ code: 'STATE.CORRUPT' });
    await t.close();
  });

  it('is what BRONZE_URL=s3://… selects, and bad credentials fail with BRONZE.AUTH_FAILED', async () => {
    const rt = runtimeSettings.parse({ bronzeUrl: url() });
    const t = await createTarget(rt);
    expect(t.kind).toBe('s3');
    expect(t.location).toBe(`s3://${BUCKET}/${encodeURIComponent(prefix).replace(/%2F/g, '/').replace(/%20/g, ' ')}`);
    await t.open(SOURCE);
    const bad = s3TargetFromUrl(url().replace(`${s3.accessKeyId}:${s3.secretAccessKey}@`, 'WRONG:WRONG@'));
    await expect(bad.open(SOURCE)).rejects.toMatchObject({ code: 'BRONZE.AUTH_FAILED' });
    await bad.close();
    await t.close();
  });
});
