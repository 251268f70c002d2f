import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import type { Column, OpenStreamParams, Row, StoredStreamState, Stream, StreamSink } from '@datakit/core';
import { ParquetTarget, parquetTargetFromUrl, saveStreamState, stateFilePath } from '../src/bronze/parquet/index.js';

const SOURCE = 'shop';
const idCol: Column = { name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' };
const nameCol: Column = { name: 'name', type: 'string', nullable: true, sourceType: 'text' };
const columns = [idCol, nameCol];
const stream: Stream = { name: 'orders', columns, syncMode: 'full_refresh' };
const run = (runId = 'run-1') => ({ source: SOURCE, runId, loadedAtMicros: 0n, logger: pino({ level: 'silent' }) });

/** Rows with ids from..to (inclusive). */
const rowsOf = (from: number, to: number): Row[] => Array.from({ length: to - from + 1 }, (_, i) => [BigInt(from + i), `order ${from + i}`]);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'datakit-pq-target-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const liveDir = (name = 'orders'): string => join(root, SOURCE, name);
const parts = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const generations = (name = 'orders'): string[] => parts(join(root, SOURCE, '_generations', name));

async function openTarget(opts: { rollRows?: number; rollBytes?: number } = {}): Promise<ParquetTarget> {
  const t = new ParquetTarget({ root, rowGroupRows: 3, ...opts });
  await t.open(SOURCE);
  return t;
}

async function open(t: ParquetTarget, p: Partial<OpenStreamParams> = {}): Promise<StreamSink> {
  const states = await t.loadState(SOURCE);
  return t.openStream({ run: run(), stream, columns, stored: states.orders, bronzeName: 'orders', stateKey: 'orders', staged: true, ...p });
}

/** The ids a reader of the live directory sees (DuckDB over `<dir>/*.parquet`). */
async function liveIds(dir = liveDir()): Promise<number[]> {
  if (!parts(dir).some((n) => n.endsWith('.parquet'))) return [];
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT id FROM read_parquet('${dir}/*.parquet', union_by_name = true) ORDER BY id`);
    return r.getRows().map((row) => Number(row[0]));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const stateOf = async (t: ParquetTarget, key = 'orders'): Promise<StoredStreamState | undefined> => (await t.loadState(SOURCE))[key];

describe('ParquetTarget', () => {
  it('rolls a file at rollRows and stores each roll with the checkpoint of its last row', async () => {
    const t = await openTarget({ rollRows: 10 });
    const sink = await open(t);
    for (let b = 0; b < 3; b++) await sink.write(rowsOf(b * 4 + 1, b * 4 + 4), { cursor: b * 4 + 4 }, true);
    // 12 rows ≥ 10: part-000000 rolled and committed
    expect(await stateOf(t)).toMatchObject({ phase: 'staging', seq: 1, kit: { cursor: 12 }, columns: ['id', 'name'] });
    await sink.write(rowsOf(13, 16), { cursor: 16 }, true);
    expect((await stateOf(t))?.seq).toBe(1);
    await sink.commit();
    expect(await stateOf(t)).toMatchObject({ seq: 2, kit: { cursor: 16 } });
    const result = await sink.finish();
    expect(parts(liveDir())).toEqual(['part-000000.parquet', 'part-000001.parquet']);
    expect(await liveIds()).toEqual(range(1, 16));
    expect(result).toMatchObject({ rows: 16, outputs: ['shop/orders/part-000000.parquet', 'shop/orders/part-000001.parquet'], stored: { phase: 'live', seq: 2 } });
    expect(result.bytes).toBeGreaterThan(0);
  });

  it('keeps a rolled file uncommitted while its last rows have no checkpoint', async () => {
    const t = await openTarget({ rollRows: 5 });
    const sink = await open(t);
    await sink.write(rowsOf(1, 6), undefined, false);
    expect(await stateOf(t)).toBeUndefined();
    await sink.write(rowsOf(7, 7), { cursor: 7 }, true);
    await sink.commit();
    expect(await stateOf(t)).toMatchObject({ seq: 2, kit: { cursor: 7 } });
    await sink.finish();
    expect(await liveIds()).toEqual(range(1, 7));
  });

  it('keeps a staged generation invisible until finish, then swaps it in and removes the old one', async () => {
    const t = await openTarget();
    const first = await open(t);
    await first.write(rowsOf(1, 3), { c: 1 }, true);
    await first.finish();
    const genA = (await stateOf(t))!.generation;
    expect(lstatSync(liveDir()).isSymbolicLink()).toBe(true);
    expect(readlinkSync(liveDir())).toBe(join('_generations', 'orders', genA));

    const second = await open(t, { stream: { ...stream, syncMode: 'full_refresh' } });
    await second.write(rowsOf(100, 104), { c: 2 }, true);
    await second.commit();
    const staging = (await stateOf(t))!;
    expect(staging).toMatchObject({ phase: 'staging', seq: 1 });
    expect(staging.generation).not.toBe(genA);
    // readers still see exactly the old generation
    expect(await liveIds()).toEqual([1, 2, 3]);
    expect(generations()).toEqual([genA, staging.generation].sort());

    await second.finish();
    expect(await liveIds()).toEqual(range(100, 104));
    expect(await stateOf(t)).toMatchObject({ phase: 'live', generation: staging.generation, seq: 1, kit: { c: 2 } });
    expect(generations()).toEqual([staging.generation]);
    expect(readdirSync(join(root, SOURCE)).filter((n) => n.includes('.swap-'))).toEqual([]);
  });

  it('resumes a staging generation after a crash without duplicates, removing orphan files', async () => {
    const t1 = await openTarget({ rollRows: 4 });
    const crashed = await open(t1);
    await crashed.write(rowsOf(1, 4), { cursor: 4 }, true); // part-000000, committed
    await crashed.write(rowsOf(5, 8), { cursor: 8 }, true); // part-000001, committed
    await crashed.write(rowsOf(9, 10), { cursor: 10 }, true); // in the open temp file
    const stored = (await stateOf(t1))!;
    expect(stored).toMatchObject({ phase: 'staging', seq: 2, kit: { cursor: 8 } });
    const gen = join(root, SOURCE, '_generations', 'orders', stored.generation);
    // a commit that renamed its file but died before storing the state
    copyFileSync(join(gen, 'part-000001.parquet'), join(gen, 'part-000002.parquet'));
    expect(parts(gen)).toEqual(['.part-000002.parquet.tmp', 'part-000000.parquet', 'part-000001.parquet', 'part-000002.parquet']);
    // the process dies here: no finish, no abort — only its descriptor goes, as the kernel would close it
    await (crashed as unknown as { file: { fh: { close(): Promise<void> } } }).file.fh.close();

    const t2 = await openTarget({ rollRows: 4 });
    const resumed = await open(t2);
    expect(parts(gen)).toEqual(['part-000000.parquet', 'part-000001.parquet']);
    // the kit resumes after cursor 8
    await resumed.write(rowsOf(9, 12), { cursor: 12 }, true);
    await resumed.write(rowsOf(13, 14), { cursor: 14 }, true);
    await resumed.finish();
    expect(await liveIds()).toEqual(range(1, 14));
    expect(await stateOf(t2)).toMatchObject({ phase: 'live', generation: stored.generation, seq: 4, kit: { cursor: 14 } });
  });

  it('appends incremental commits to the live generation', async () => {
    const t = await openTarget();
    const load = await open(t);
    await load.write(rowsOf(1, 3), { cursor: 3 }, true);
    await load.finish();
    const live = (await stateOf(t))!;

    const inc = await open(t, { staged: false, stored: live, stream: { ...stream, syncMode: 'incremental' } });
    await inc.write(rowsOf(4, 5), { cursor: 5 }, true);
    await inc.commit();
    // visible as soon as committed
    expect(await liveIds()).toEqual(range(1, 5));
    await inc.write(rowsOf(6, 6), { cursor: 6 }, true);
    const result = await inc.finish();
    expect(await liveIds()).toEqual(range(1, 6));
    expect(parts(liveDir())).toEqual(['part-000000.parquet', 'part-000001.parquet', 'part-000002.parquet']);
    expect(result.stored).toMatchObject({ phase: 'live', generation: live.generation, seq: 3, kit: { cursor: 6 } });
    expect(generations()).toEqual([live.generation]);
  });

  it('refuses to append when the live generation directory is missing (STATE.CORRUPT)', async () => {
    const t = await openTarget();
    const load = await open(t);
    await load.write(rowsOf(1, 1), { c: 1 }, true);
    await load.finish();
    const live = (await stateOf(t))!;
    rmSync(join(root, SOURCE, '_generations'), { recursive: true });
    await expect(open(t, { staged: false, stored: live })).rejects.toMatchObject({ code: 'STATE.CORRUPT', fix: 'run --state-reset orders' });
  });

  it('refuses a real directory where the live link belongs (BRONZE.WRITE_FAILED)', async () => {
    mkdirSync(liveDir(), { recursive: true });
    writeFileSync(join(liveDir(), 'precious.parquet'), 'x');
    const t = await openTarget();
    await expect(open(t)).rejects.toMatchObject({ code: 'BRONZE.WRITE_FAILED', message: expect.stringContaining('not the symlink') });
    expect(parts(liveDir())).toEqual(['precious.parquet']);
  });

  it('swaps in an empty generation for a stream without rows', async () => {
    const t = await openTarget();
    const sink = await open(t);
    await sink.write([], { c: 0 }, true);
    const result = await sink.finish();
    expect(lstatSync(liveDir()).isSymbolicLink()).toBe(true);
    expect(parts(liveDir())).toEqual([]);
    expect(result).toMatchObject({ rows: 0, outputs: [], stored: { phase: 'live', seq: 0, kit: { c: 0 } } });
  });

  it('writes wider files after evolve, readable by name', async () => {
    const t = await openTarget();
    const sink = await open(t);
    await sink.write(rowsOf(1, 2), { c: 1 }, true);
    const wider = [...columns, { name: 'note', type: 'json', nullable: true, sourceType: 'jsonb' } as Column];
    await sink.evolve!(wider);
    await sink.write([[3n, 'three', '{"a":1}']], { c: 2 }, true);
    await sink.finish();
    expect(parts(liveDir())).toEqual(['part-000000.parquet', 'part-000001.parquet']);
    expect(await liveIds()).toEqual([1, 2, 3]);
    expect(await stateOf(t)).toMatchObject({ seq: 2, columns: ['id', 'name', 'note'] });
  });

  it('abort drops the temp file and a generation it created', async () => {
    const t = await openTarget();
    const sink = await open(t);
    await sink.write(rowsOf(1, 5), undefined, false);
    await sink.abort();
    await sink.abort();
    expect(generations()).toEqual([]);
    expect(await stateOf(t)).toBeUndefined();
  });

  it('keeps partitions of a stream in their own generations', async () => {
    const t = await openTarget();
    for (const i of [0, 1]) {
      const key = `orders#${i}/2`;
      const sink = await t.openStream({ run: run(), stream, columns, bronzeName: `orders/partition=${i}of2`, stateKey: key, staged: true });
      await sink.write(rowsOf(i * 10 + 1, i * 10 + 2), { p: i }, true);
      await sink.finish();
    }
    expect(await liveIds(liveDir('orders/partition=0of2'))).toEqual([1, 2]);
    expect(await liveIds(liveDir('orders/partition=1of2'))).toEqual([11, 12]);
    expect(Object.keys(await t.loadState(SOURCE)).sort()).toEqual(['orders#0/2', 'orders#1/2']);
  });
});

describe('ParquetTarget splits', () => {
  it('refuses to write a split inside the link of the stream written unsplit, before writing anything', async () => {
    const t = await openTarget();
    const whole = await open(t);
    await whole.write(rowsOf(1, 2), { cursor: 2 }, true);
    await whole.finish();
    await expect(open(t, { bronzeName: 'orders/partition=0of1', stateKey: 'orders#0/1', stored: undefined })).rejects.toMatchObject({
      code: 'BRONZE.WRITE_FAILED',
      message: expect.stringContaining('holds the stream written unsplit'),
    });
    expect(parts(liveDir())).toEqual(['part-000000.parquet']);
    await t.close();
  });
});

describe('Parquet state file', () => {
  const entry = (generation: string, kit?: unknown): StoredStreamState => ({ generation, phase: 'live', seq: 1, runId: 'r', updatedAt: '2026-01-01T00:00:00.000Z', ...(kit !== undefined ? { kit } : {}) });

  it('merges concurrent saves of different streams without losing one', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `s${i}#${i % 3}/3`);
    await Promise.all(keys.map((k, i) => saveStreamState(root, SOURCE, k, entry(`20260101T000000Z-000${i % 10}`, { cursor: 9223372036854775807n, i }))));
    const t = await openTarget();
    const states = await t.loadState(SOURCE);
    expect(Object.keys(states).sort()).toEqual([...keys].sort());
    expect(states['s5#2/3']?.kit).toEqual({ cursor: 9223372036854775807n, i: 5 });
    const doc = JSON.parse(readFileSync(stateFilePath(root, SOURCE), 'utf8')) as Record<string, unknown>;
    expect(doc).toMatchObject({ version: 1, source: SOURCE });
    // nothing but the state file itself is left behind (no temp files, no lock)
    expect(readdirSync(join(root, '_state'))).toEqual([`${SOURCE}.json`]);
  });

  it('reports a state file that is not JSON as STATE.CORRUPT, and a reset sets it aside', async () => {
    mkdirSync(join(root, '_state'), { recursive: true });
    writeFileSync(stateFilePath(root, SOURCE), '{"version": 1, "source": "shop", "streams": {');
    const t = await openTarget();
    const err = await t.loadState(SOURCE).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATE.CORRUPT', message: expect.stringContaining('is not valid JSON'), fix: expect.stringContaining('run --state-reset') });
    await t.resetState(SOURCE, ['orders']);
    expect(await t.loadState(SOURCE)).toEqual({});
    expect(readdirSync(join(root, '_state')).some((n) => n.startsWith(`${SOURCE}.json.corrupt-`))).toBe(true);
  });

  it('reports a corrupt stream entry as STATE.CORRUPT for that stream, and a reset removes only it', async () => {
    await saveStreamState(root, SOURCE, 'customers', entry('20260101T000000Z-abcd'));
    const doc = JSON.parse(readFileSync(stateFilePath(root, SOURCE), 'utf8')) as { streams: Record<string, unknown> };
    doc.streams.orders = { generation: 17, phase: 'sideways', seq: -1, kit: { cursor: 'not a position' } };
    writeFileSync(stateFilePath(root, SOURCE), JSON.stringify(doc));
    const t = await openTarget();
    await expect(t.loadState(SOURCE)).rejects.toMatchObject({ code: 'STATE.CORRUPT', where: { stream: 'orders' }, fix: 'run --state-reset orders' });
    await t.resetState(SOURCE, ['orders']);
    expect(Object.keys(await t.loadState(SOURCE))).toEqual(['customers']);
  });

  it('refuses a state file of another version or source', async () => {
    mkdirSync(join(root, '_state'), { recursive: true });
    writeFileSync(stateFilePath(root, SOURCE), JSON.stringify({ version: 2, source: SOURCE, streams: {} }));
    const t = await openTarget();
    await expect(t.loadState(SOURCE)).rejects.toMatchObject({ code: 'STATE.CORRUPT' });
  });
});

describe('parquetTargetFromUrl', () => {
  it('accepts file:// URLs and plain paths', () => {
    expect(parquetTargetFromUrl('file:///data/bronze').location).toBe('file:///data/bronze');
    expect(parquetTargetFromUrl('/data/bronze', { rollRows: 5 }).root).toBe('/data/bronze');
    expect(parquetTargetFromUrl('file://relative/dir').root).toBe(join(process.cwd(), 'relative/dir'));
    expect(() => parquetTargetFromUrl('file:///x', { rollRows: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG.INVALID' }));
  });
});
