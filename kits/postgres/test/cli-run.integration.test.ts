/**
 * The built CLI's `run` from outside (what the image runs): metrics pushed to a Pushgateway for
 * succeeded and failed runs, progress lines on stderr, and bad input refused with one message
 * naming the setting or stream, no secret shown, and bronze and state left untouched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expectExit, expectNoSecrets, fakeGateway, freePort, spawnCli, type CliResult } from '@datakit/testkit';
import { cliSource, type CliSource } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const SETUP = `
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 250) AS i;
CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, payload text);
INSERT INTO events SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', repeat(md5(i::text), 4) FROM generate_series(1, 20000) AS i;
ANALYZE events;`;

let src: CliSource;
beforeAll(async () => {
  src = await cliSource('pgcli', SETUP);
});

const run = (argv: string[], env: Record<string, string>): Promise<CliResult> => spawnCli(MAIN, argv, { MAX_RETRIES: '0', ...env }).done;
const newRoot = (): string => mkdtempSync(join(tmpdir(), 'dk-cli-'));
const shown = (r: CliResult): string => r.stdout + r.stderr;
const errorOf = (r: CliResult) => (r.json as { error?: { code?: string; message?: string } } | undefined)?.error;
const logLines = (r: CliResult): Record<string, unknown>[] =>
  r.stderr.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

/** Every file under `root` with a hash of its content: equal snapshots mean nothing was written. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** The value of one sample in Prometheus text format (`name{labels} value`), labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

describe('metrics pushed to a Pushgateway', () => {
  it('pushes extractions, duration, rows and bytes of a succeeded run with PUT to the job and source group', async () => {
    const gw = await fakeGateway();
    try {
      const r = await run(['run', 'customers'], { ...src.env, BRONZE_URL: `file://${newRoot()}`, PROMETHEUS_PUSHGATEWAY_URL: gw.url });
      expectExit(r, 0);
      const report = r.json as { rows: number; bytes: number };
      expect(gw.pushes.map((p) => [p.method, p.url])).toEqual([['PUT', '/metrics/job/datakit_postgres/source/postgres']]);
      const text = gw.pushes[0]!.body;
      expect(gw.pushes[0]!.contentType).toMatch(/^text\/plain/);
      const stream = { kit: 'postgres', stream: 'customers' };
      expect({
        succeeded: sample(text, 'datakit_extractions_total', { ...stream, status: 'succeeded' }),
        durations: sample(text, 'datakit_extraction_duration_seconds_count', stream),
        durationSum: (sample(text, 'datakit_extraction_duration_seconds_sum', stream) ?? -1) > 0,
        rows: sample(text, 'datakit_rows_total', stream),
        bytes: sample(text, 'datakit_bytes_total', stream),
        runs: sample(text, 'datakit_runs_total', { kit: 'postgres', status: 'succeeded' }),
      }).toEqual({ succeeded: 1, durations: 1, durationSum: true, rows: 250, bytes: report.bytes, runs: 1 });
      expect(report.bytes).toBeGreaterThan(0);
      expect(text).toMatch(/^# TYPE datakit_extraction_duration_seconds histogram$/m);
    } finally {
      await gw.close();
    }
  });

  it('pushes a failed extraction and a failed run when the source rejects the password (exit 3)', async () => {
    const gw = await fakeGateway();
    try {
      const r = await run(['run', 'customers'], { ...src.env, SOURCE_PASSWORD: src.wrongPassword, BRONZE_URL: `file://${newRoot()}`, PROMETHEUS_PUSHGATEWAY_URL: gw.url });
      expectExit(r, 3);
      expect(gw.pushes.map((p) => [p.method, p.url])).toEqual([['PUT', '/metrics/job/datakit_postgres/source/postgres']]);
      const text = gw.pushes[0]!.body;
      expect({
        failed: sample(text, 'datakit_extractions_total', { kit: 'postgres', stream: 'customers', status: 'failed' }),
        succeeded: sample(text, 'datakit_extractions_total', { kit: 'postgres', stream: 'customers', status: 'succeeded' }),
        runs: sample(text, 'datakit_runs_total', { kit: 'postgres', status: 'failed' }),
      }).toEqual({ failed: 1, succeeded: undefined, runs: 1 });
      expectNoSecrets(shown(r) + text, [src.password, src.wrongPassword]);
    } finally {
      await gw.close();
    }
  });

  it('groups a partition run by partition too, so partitions do not overwrite each other', async () => {
    const gw = await fakeGateway();
    try {
      const r = await run(['run', '--partition', '1/2', 'customers'], { ...src.env, BRONZE_URL: `file://${newRoot()}`, PROMETHEUS_PUSHGATEWAY_URL: gw.url });
      expectExit(r, 0);
      expect(gw.pushes.map((p) => [p.method, p.url])).toEqual([['PUT', '/metrics/job/datakit_postgres/source/postgres/partition/1_of_2']]);
    } finally {
      await gw.close();
    }
  });

  it('logs a warning and keeps exit 0 when the Pushgateway cannot be reached or refuses the push', async () => {
    const refusing = await fakeGateway(500);
    try {
      for (const url of [`http://127.0.0.1:${await freePort()}`, refusing.url]) {
        const r = await run(['run', 'customers'], { ...src.env, BRONZE_URL: `file://${newRoot()}`, PROMETHEUS_PUSHGATEWAY_URL: url });
        expectExit(r, 0);
        expect(r.json).toMatchObject({ status: 'succeeded', rows: 250 });
        expect(logLines(r).filter((l) => l.level === 'warn' && String(l.msg).startsWith('metrics push failed'))).toHaveLength(1);
      }
      expect(refusing.pushes).toHaveLength(1);
    } finally {
      await refusing.close();
    }
  });
});

describe('progress lines', () => {
  it('logs progress lines with rows and rows per second on stderr at PROGRESS_INTERVAL_MS', async () => {
    const r = await run(['run', 'events'], { ...src.env, BRONZE_URL: `file://${newRoot()}`, PROGRESS_INTERVAL_MS: '1', BATCH_SIZE: '500', PARQUET_ROLL_ROWS: '2000' });
    expectExit(r, 0);
    const lines = logLines(r).filter((l) => l.msg === 'progress');
    expect(lines.length).toBeGreaterThan(0);
    const bad = lines.filter((l) => l.stream !== 'events' || typeof l.rows !== 'number' || typeof l.rowsPerSecond !== 'number' || (l.rows as number) > 20000);
    expect(bad).toEqual([]);
    // a first full read of an analyzed table: the estimate describes the read
    expect(lines.every((l) => typeof l.percent === 'number')).toBe(true);
  });
});

describe('bad input to run', () => {
  let root: string;
  let before: Record<string, string>;
  beforeAll(async () => {
    // a target with data and state from a good run: bad runs must leave every byte of it alone
    root = newRoot();
    expectExit(await run(['run', 'customers'], { ...src.env, BRONZE_URL: `file://${root}` }), 0);
    before = snapshot(root);
    expect(Object.keys(before)).toContain(join('_state', 'postgres.json'));
  });

  const cases: [string, () => Promise<Record<string, string>>, string[], number, string, RegExp][] = [
    ['a wrong password', async () => ({ SOURCE_PASSWORD: src.wrongPassword }), ['customers'], 3, 'SOURCE.AUTH_FAILED', /password authentication failed for user "dk_cli_\w+" \(check SOURCE_PASSWORD\)$/],
    ['an unreachable host', async () => ({ SOURCE_PORT: String(await freePort()) }), ['customers'], 3, 'SOURCE.UNREACHABLE', /ECONNREFUSED.*\(check SOURCE_HOST\/SOURCE_PORT\)$/],
    ['an unknown stream', async () => ({}), ['no_such_table'], 2, 'CONFIG.UNKNOWN_STREAM', /unknown stream "no_such_table"; the source has: .*customers.*\(run `discover` to list the streams\)$/],
    ['an invalid config value', async () => ({ BATCH_SIZE: 'lots' }), ['customers'], 2, 'CONFIG.INVALID', /^postgres: BATCH_SIZE: .*\(set BATCH_SIZE\)$/],
  ];

  it.each(cases)('refuses %s with one message naming the setting or stream and the fix, no secret, and bronze and state unchanged', async (_what, extra, streams, code, errorCode, message) => {
    const r = await run(['run', ...streams], { ...src.env, ...(await extra()), BRONZE_URL: `file://${root}` });
    expectExit(r, code);
    expect(errorOf(r)).toEqual({ code: errorCode, message: expect.stringMatching(message) });
    const errors = logLines(r).filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).toEqual([errorOf(r)!.message]);
    // secrets, and the rejected value itself, never reach the output
    expectNoSecrets(shown(r), [src.password, src.wrongPassword, 'lots']);
    expect(snapshot(root)).toEqual(before);
  });
});
