/**
 * Bad records under each policy, from a local directory: ragged CSV rows, invalid UTF-8, invalid
 * JSON lines, a truncated gzip and a truncated Parquet file.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnCli } from '@datakit/testkit';
import { dataOnly, duck, landed, runFile, tempDir } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const STREAMS = 'csvbad=csv/*.csv;jsonbad=json/*.ndjson;gz=gz/*.csv.gz;pq=pq/*.parquet';

let src: string;
beforeAll(async () => {
  src = tempDir('bad-src');
  for (const d of ['csv', 'json', 'gz', 'pq']) mkdirSync(join(src, d));
  writeFileSync(join(src, 'csv/a.csv'), 'id,name\n1,x\n2\n3,z\n');
  writeFileSync(join(src, 'csv/b.csv'), Buffer.concat([Buffer.from('id,name\n4,ok\n5,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n6,fine\n')]));
  writeFileSync(join(src, 'json/a.ndjson'), '{"id": 7, "name": "x"}\nnot json\n{"id": 8, "name": "y"}\n{"id": "nine", "name": "z"}\n');
  const lines = ['id,name', ...Array.from({ length: 20_000 }, (_, i) => `${i + 1},row ${i + 1}`)].join('\n');
  const gz = gzipSync(lines);
  writeFileSync(join(src, 'gz/cut.csv.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
  const pq = join(src, 'whole.parquet');
  await duck(`COPY (SELECT i AS id, 'n' || i AS name FROM range(1000) t(i)) TO '${pq}' (FORMAT parquet)`);
  const bytes = readFileSync(pq);
  writeFileSync(join(src, 'pq/cut.parquet'), bytes.subarray(0, Math.floor(bytes.length / 2)));
});

const env = (policy: string): Record<string, string> => ({
  FILE_URL: `file://${src}`,
  FILE_STREAMS: STREAMS,
  FILE_BAD_RECORDS: policy,
  FILE_COLUMN_TYPES: 'jsonbad.id=int64,pq.id=int64',
});

describe('bad records', () => {
  it('fail: stops with exit 4 naming the file, the line and the reason, and lands nothing of the stream', async () => {
    const root = tempDir('bad-fail');
    const { code, report } = await runFile(env('fail'), root, ['csvbad']);
    expect(code).toBe(4);
    const err = report.streams[0]!.error!;
    expect(err.code).toBe('DATA.INVALID_RECORD');
    expect(err.message).toContain(`file ${join(src, 'csv/a.csv')}, line 3: ragged row: 1 fields where the header has 2`);
    expect(await landed(root, 'csvbad')).toEqual([]);
  });

  it('fail: the built CLI (reading in its worker thread) exits 4 with the same file, line and reason', async () => {
    const root = tempDir('bad-fail-cli');
    const r = await spawnCli(MAIN, ['run', 'csvbad'], { ...env('fail'), BRONZE_URL: `file://${root}` }).done;
    expect(r.code).toBe(4);
    const report = r.json as { streams: { error: { code: string; message: string } }[] };
    expect(report.streams[0]!.error).toMatchObject({ code: 'DATA.INVALID_RECORD', message: expect.stringContaining(`file ${join(src, 'csv/a.csv')}, line 3: ragged row`) });
  });

  it('fail: names the line of invalid JSON and of a value that does not fit its column', async () => {
    const root = tempDir('bad-fail-json');
    const { code, report } = await runFile(env('fail'), root, ['jsonbad']);
    expect(code).toBe(4);
    expect(report.streams[0]!.error!.message).toMatch(/a\.ndjson, line 2: invalid JSON: a record must be a JSON object at offset 0/);
  });

  it('skip: lands every good record and counts the bad ones in the log, per file and per stream', async () => {
    const root = tempDir('bad-skip');
    const r = await spawnCli(MAIN, ['run'], { ...env('skip'), BRONZE_URL: `file://${root}`, LOG_LEVEL: 'info' }).done;
    expect(r.code).toBe(0);
    expect(dataOnly(await landed(root, 'csvbad'))).toEqual([
      { id: '1', name: 'x' },
      { id: '3', name: 'z' },
      { id: '4', name: 'ok' },
      { id: '6', name: 'fine' },
    ]);
    expect(dataOnly(await landed(root, 'jsonbad')).map((x) => x.id)).toEqual(['7', '8']);
    // the truncated gzip: every record before the cut, none after
    const gzIds = (await landed(root, 'gz')).map((x) => Number(x.id));
    expect(gzIds.length).toBeGreaterThan(1000);
    expect(gzIds).toEqual(Array.from({ length: gzIds.length }, (_, i) => i + 1));
    expect(await landed(root, 'pq')).toEqual([]);
    const logs = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const perStream = Object.fromEntries(logs.filter((l) => l.msg === 'stream read').map((l) => [l.stream, l.badRecords]));
    expect(perStream).toEqual({ csvbad: 2, jsonbad: 2, gz: 1, pq: 1 });
    const perFile = logs.filter((l) => l.msg === 'bad records not landed').map((l) => [String(l.file).slice(src.length + 1), l.badRecords, l.firstLine]);
    expect(perFile).toEqual(expect.arrayContaining([['csv/a.csv', 1, 3], ['csv/b.csv', 1, 3], ['json/a.ndjson', 2, 2], ['pq/cut.parquet', 1, 1]]));
    expect(r.stderr).not.toContain('nine');
  });

  it('quarantine: lands the raw text and the reason of every bad record in <stream>_quarantine, beside the good rows', async () => {
    const root = tempDir('bad-quarantine');
    const { code, report } = await runFile(env('quarantine'), root);
    expect(code).toBe(0);
    expect(report.streams.map((s) => [s.stream, s.status])).toEqual([
      ['csvbad', 'succeeded'],
      ['csvbad_quarantine', 'succeeded'],
      ['jsonbad', 'succeeded'],
      ['jsonbad_quarantine', 'succeeded'],
      ['gz', 'succeeded'],
      ['gz_quarantine', 'succeeded'],
      ['pq', 'succeeded'],
      ['pq_quarantine', 'succeeded'],
    ]);
    const q = async (s: string) => (await landed(root, `${s}_quarantine`)).map((r) => [String(r._bronze_file).slice(src.length + 1), r._bronze_file_row, r.reason, r.raw]);
    expect(await q('csvbad')).toEqual([
      ['csv/a.csv', '3', 'ragged row: 1 fields where the header has 2', '2'],
      ['csv/b.csv', '3', 'invalid UTF-8 byte sequence', '5,\uFFFD\uFFFD'],
    ]);
    expect(await q('jsonbad')).toEqual([
      ['json/a.ndjson', '2', 'invalid JSON: a record must be a JSON object at offset 0', 'not json'],
      ['json/a.ndjson', '4', 'column "id": expected a number for int64, got a string', '{"id": "nine", "name": "z"}'],
    ]);
    const gz = await q('gz');
    expect(gz).toHaveLength(1);
    expect(gz[0]![2]).toMatch(/^gzip stream is truncated or corrupt/);
    expect((await q('pq'))[0]![2]).toMatch(/^not a readable Parquet file \(truncated\?\)/);
    expect(dataOnly(await landed(root, 'csvbad')).map((x) => x.id)).toEqual(['1', '3', '4', '6']);
  });
});
