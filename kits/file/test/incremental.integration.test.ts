/**
 * Incremental runs from a local directory: new and changed files, schema evolution, resume inside a
 * file, a bounded state, settle time, partitions, and a type that changed since the first load.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, loadConfig, type Batch, type Context } from '@datakit/core';
import { readParquet } from '@datakit/testkit';
import { fileKit } from '../src/index.js';
import type { FileCheckpoint } from '../src/state.js';
import { dataOnly, landed, runFile, tempDir, touch } from './support.js';

function source(files: Record<string, string>, mtime = '2024-01-01T00:00:00Z'): string {
  const dir = tempDir('inc-src');
  for (const [path, text] of Object.entries(files)) write(dir, path, text, mtime);
  return dir;
}

function write(dir: string, path: string, text: string, mtime = '2024-01-02T00:00:00Z'): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
  touch(join(dir, path), mtime);
}

const ctx = (): Context => ({ logger: createLogger({ level: 'silent', pretty: false }), signal: new AbortController().signal, batchSize: 2, runId: 'inc' });

describe('incremental runs', () => {
  it('read only new or changed files; a changed file is read again in full', async () => {
    const src = source({ 'a.csv': 'id\n1\n2\n', 'b.csv': 'id\n3\n' });
    const root = tempDir('inc-root');
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' };
    expect((await runFile(env, root)).report.rows).toBe(3);
    expect((await runFile(env, root)).report.rows).toBe(0);
    write(src, 'c.csv', 'id\n4\n');
    write(src, 'b.csv', 'id\n3\n5\n', '2024-01-03T00:00:00Z');
    expect((await runFile(env, root)).report.rows).toBe(3);
    const rows = await landed(root, 's', 'id');
    expect(rows.map((r) => [r.id, String(r._bronze_file).slice(src.length + 1), r._bronze_file_modified_at])).toEqual([
      ['1', 'a.csv', '2024-01-01 00:00:00+00'],
      ['2', 'a.csv', '2024-01-01 00:00:00+00'],
      ['3', 'b.csv', '2024-01-01 00:00:00+00'],
      ['3', 'b.csv', '2024-01-03 00:00:00+00'],
      ['5', 'b.csv', '2024-01-03 00:00:00+00'],
      ['4', 'c.csv', '2024-01-02 00:00:00+00'],
    ]);
  });

  it('adds columns that appear in later files (never dropping any) and names them in the run report', async () => {
    const src = source({ '1.ndjson': '{"id": 1, "a": "x"}\n' });
    write(src, '2.ndjson', '{"id": 2, "b": {"deep": [1.50]}}\n');
    write(src, '3.csv', 'id,c\n3,text\n', '2024-01-03T00:00:00Z');
    const root = tempDir('inc-evolve');
    const { report } = await runFile({ FILE_URL: `file://${src}`, FILE_STREAMS: 'j=*.ndjson;c=*.csv', FILE_INFER_FILES: '1' }, root, ['j']);
    expect(report.streams[0]).toMatchObject({ status: 'succeeded', rows: 2, newColumns: ['b'] });
    expect(dataOnly(await landed(root, 'j', 'id'))).toEqual([
      { id: '1', a: 'x', b: null },
      { id: '2', a: null, b: '{"deep": [1.50]}' },
    ]);
  });

  it('resumes inside a file after the position its checkpoint stored, without reading a row twice', async () => {
    const src = source({ 'a.csv': 'id\n1\n2\n3\n4\n5\n' });
    const config = loadConfig(fileKit.config, { env: { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' } }).config;
    const [stream] = await fileKit.discover(ctx(), config);
    const batches: Batch[] = [];
    for await (const b of fileKit.read(ctx(), config, stream!, undefined)) batches.push(b);
    expect(batches.map((b) => b.rows.length)).toEqual([2, 2, 1]);
    expect((batches[2]!.checkpoint as FileCheckpoint).current).toBeUndefined();
    const mid = batches[0]!.checkpoint as FileCheckpoint;
    expect(mid.current).toMatchObject({ path: 'a.csv', pos: 3 });
    const resumed: unknown[] = [];
    for await (const b of fileKit.read(ctx(), config, stream!, mid)) resumed.push(...b.rows.map((r) => r[0]));
    expect(resumed).toEqual([3n, 4n, 5n]);
  });

  it('reads 2000 small local files once, in nested directories, and none of them on the next run', async () => {
    const n = 2000;
    const src = source(Object.fromEntries(Array.from({ length: n }, (_, i) => [`d${i % 20}/f ${i} #%.csv`, `id,v\n${i},x\n`])));
    const root = tempDir('inc-many');
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=**/*.csv' };
    const first = await runFile(env, root);
    expect({ code: first.code, rows: first.report.rows }).toEqual({ code: 0, rows: n });
    const ids = (await landed(root, 's', 'id')).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i));
    const again = await runFile(env, root);
    expect({ code: again.code, status: again.report.status, rows: again.report.rows }).toEqual({ code: 0, status: 'succeeded', rows: 0 });
    expect(Object.keys((again.report.streams[0] as unknown as { state: { kit: FileCheckpoint } }).state.kit.files)).toHaveLength(n);
  }, 120_000);

  it('keeps the state bounded: files that no longer match are dropped from it', async () => {
    const src = source({ 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n' });
    const root = tempDir('inc-bounded');
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' };
    await runFile(env, root);
    rmSync(join(src, 'a.csv'));
    const { report } = await runFile(env, root);
    expect(Object.keys((report.streams[0] as unknown as { state: { kit: FileCheckpoint } }).state.kit.files)).toEqual(['b.csv']);
  });

  it('leaves files younger than FILE_MIN_AGE_SECONDS for a later run', async () => {
    const src = source({ 'old.csv': 'id\n1\n' });
    write(src, 'new.csv', 'id\n2\n', new Date().toISOString());
    const root = tempDir('inc-age');
    const { report } = await runFile({ FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv', FILE_MIN_AGE_SECONDS: '3600' }, root);
    expect(report.rows).toBe(1);
  });

  it('splits the files of a stream between --partition i/n runs with no overlap', async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.csv`, `id\n${i}\n`]));
    const src = source(files);
    const root = tempDir('inc-part');
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' };
    const ids: string[] = [];
    for (const p of ['0/3', '1/3', '2/3']) {
      await runFile(env, root, ['--partition', p]);
      const { rows } = await readParquet(join(root, 'file', 's', `partition=${p.replace('/', 'of')}`));
      ids.push(...rows.map((r) => String(r.id)));
    }
    expect(ids.sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('refuses to append when an inferred type changed since the first load, naming the override that pins it', async () => {
    const src = source({ 'a.csv': 'id,v\n1,10\n' });
    const root = tempDir('inc-drift');
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' };
    await runFile(env, root);
    rmSync(join(src, 'a.csv'));
    write(src, 'b.csv', 'id,v\n2,ten\n');
    const { code, report } = await runFile(env, root);
    expect(code).toBe(2);
    expect(report.streams[0]!.error!.message).toContain('FILE_COLUMN_TYPES=s.v=int64');
    const pinned = await runFile({ ...env, FILE_COLUMN_TYPES: 's.v=int64', FILE_BAD_RECORDS: 'skip' }, root);
    expect(pinned.code).toBe(0);
  });
});
