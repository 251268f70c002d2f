/**
 * Reading options end to end through the built CLI, read back with DuckDB: `FILE_SCHEMA=strings`,
 * per-stream settings from a `--config` YAML file, `FILE_INFER_ROWS` as the sample limit, and CSV
 * column evolution recorded in the run report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bronzeStreamName } from '@datakit/core';
import { readParquet, spawnCli } from '@datakit/testkit';
import { dataOnly, landed, tempDir, touch, type RunReport } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');

function source(files: Record<string, string>): string {
  const dir = tempDir('opt-src');
  for (const [i, [path, text]] of Object.entries(files).entries()) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    touch(join(dir, path), `2024-01-0${i + 1}T00:00:00Z`);
  }
  return dir;
}

async function run(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; report: RunReport; root: string; stderr: string }> {
  const root = tempDir('opt-root');
  const r = await spawnCli(MAIN, ['run', ...args], { BRONZE_URL: `file://${root}`, LOG_LEVEL: 'warn', ...env }).done;
  return { code: r.code, report: r.json as unknown as RunReport, root, stderr: r.stderr };
}

/** Column name → DuckDB type of a landed stream (data columns only). */
async function typesOf(root: string, stream: string): Promise<Record<string, string>> {
  const { columns } = await readParquet(join(root, 'file', bronzeStreamName(stream)));
  return Object.fromEntries(columns.filter((c) => !c.name.startsWith('_bronze')).map((c) => [c.name, c.type]));
}

describe('reading options through the built CLI', () => {
  const typed = 'id,amount,day,flag,note\n007,2.50,2024-01-31,true,x\n8,1e3,2024-02-01,false,\n';

  it('FILE_SCHEMA=strings lands every CSV field as text, exactly as written', async () => {
    const src = source({ 'a.csv': typed });
    const inferred = await run({ FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' });
    expect(inferred.code).toBe(0);
    // the default infers types (007 has a leading zero: not an integer, so id stays text)
    expect(await typesOf(inferred.root, 's')).toEqual({ id: 'VARCHAR', amount: 'DOUBLE', day: 'DATE', flag: 'BOOLEAN', note: 'VARCHAR' });
    const strings = await run({ FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv', FILE_SCHEMA: 'strings' });
    expect(strings.code).toBe(0);
    expect(await typesOf(strings.root, 's')).toEqual({ id: 'VARCHAR', amount: 'VARCHAR', day: 'VARCHAR', flag: 'VARCHAR', note: 'VARCHAR' });
    expect(dataOnly(await landed(strings.root, 's'))).toEqual([
      { id: '007', amount: '2.50', day: '2024-01-31', flag: 'true', note: 'x' },
      { id: '8', amount: '1e3', day: '2024-02-01', flag: 'false', note: null },
    ]);
  });

  it('applies per-stream settings of a --config YAML file to that stream only', async () => {
    const src = source({ 'semi/a.csv': 'id;amount;note\n1;2.5;a,b\n', 'plain/a.csv': 'id,amount\n1,2.5\n' });
    const config = join(tempDir('opt-config'), 'file.yaml');
    writeFileSync(
      config,
      [
        `FILE_URL: file://${src}`,
        'streams:',
        '  semi:',
        '    glob: semi/*.csv',
        '    delimiter: ";"',
        '    columns: { amount: "decimal(18,4)" }',
        '  plain: plain/*.csv',
        '',
      ].join('\n'),
    );
    const r = await run({}, ['--config', config]);
    expect({ code: r.code, streams: r.report.streams.map((s) => [s.stream, s.status, s.rows]) }).toEqual({ code: 0, streams: [['semi', 'succeeded', 1], ['plain', 'succeeded', 1]] });
    expect(await typesOf(r.root, 'semi')).toEqual({ id: 'BIGINT', amount: 'DECIMAL(18,4)', note: 'VARCHAR' });
    expect(dataOnly(await landed(r.root, 'semi'))).toEqual([{ id: '1', amount: '2.5000', note: 'a,b' }]);
    expect(await typesOf(r.root, 'plain')).toEqual({ id: 'BIGINT', amount: 'DECIMAL(38,1)' });
    expect(dataOnly(await landed(r.root, 'plain'))).toEqual([{ id: '1', amount: '2.5' }]);
  });

  it('FILE_INFER_ROWS limits the sample: a later value that does not fit the inferred type is a bad record, never altered', async () => {
    const src = source({ 'a.csv': 'id,v\n1,10\n2,20\n3,thirty\n' });
    const env = { FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv' };
    // the whole file in the sample: v widens to text
    const whole = await run(env);
    expect(whole.code).toBe(0);
    expect(await typesOf(whole.root, 's')).toEqual({ id: 'BIGINT', v: 'VARCHAR' });
    expect(dataOnly(await landed(whole.root, 's')).map((r) => r.v)).toEqual(['10', '20', 'thirty']);
    // two rows sampled: v is int64, and line 4 follows the policy
    const failed = await run({ ...env, FILE_INFER_ROWS: '2' });
    expect(failed.code).toBe(4);
    expect(failed.report.streams[0]!.error).toMatchObject({ code: 'DATA.INVALID_RECORD', message: expect.stringMatching(/a\.csv, line 4: column "v"/) });
    expect(failed.stderr + JSON.stringify(failed.report)).not.toContain('thirty');
    const skipped = await run({ ...env, FILE_INFER_ROWS: '2', FILE_BAD_RECORDS: 'skip' });
    expect(skipped.code).toBe(0);
    expect(await typesOf(skipped.root, 's')).toEqual({ id: 'BIGINT', v: 'BIGINT' });
    expect(dataOnly(await landed(skipped.root, 's'))).toEqual([
      { id: '1', v: '10' },
      { id: '2', v: '20' },
    ]);
  });

  it('extends a CSV stream with a column that appears in a later file, and records it in the run report', async () => {
    const src = source({ '1.csv': 'id,a\n1,x\n', '2.csv': 'id,a,c\n2,y,z\n' });
    const r = await run({ FILE_URL: `file://${src}`, FILE_STREAMS: 's=*.csv', FILE_INFER_FILES: '1' });
    expect(r.code).toBe(0);
    expect(r.report.streams[0]).toMatchObject({ stream: 's', status: 'succeeded', rows: 2, newColumns: ['c'] });
    expect(dataOnly(await landed(r.root, 's', 'id'))).toEqual([
      { id: '1', a: 'x', c: null },
      { id: '2', a: 'y', c: 'z' },
    ]);
  });
});
