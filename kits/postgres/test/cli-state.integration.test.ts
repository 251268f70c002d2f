/**
 * Operator commands of the built CLI on both bronze targets: `state show` prints the stored cursors,
 * `run --state-reset <stream>` and `state reset <stream>` reload one stream fully and leave the
 * others' state alone; and SIGINT stops a run with exit 130, its state stored, resumable.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTimestamp } from '@datakit/core';
import { expectExactKeys, expectExit, expectNoSecrets, FatalWait, keysIn, openTarget, spawnCli, waitFor, type CliResult, type TargetHandle } from '@datakit/testkit';
import { cliSource, type CliSource } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const SETUP = `
CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO orders SELECT i, timestamptz '2024-01-01 00:00:00.000001+00' + i * interval '1 minute' FROM generate_series(1, 40) AS i;
CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO events SELECT i, timestamptz '2024-02-01 00:00:00+00' + i * interval '1 second' FROM generate_series(1, 30) AS i;
CREATE TABLE big (id bigint PRIMARY KEY, payload text);
INSERT INTO big SELECT i, repeat(md5(i::text), 8) FROM generate_series(1, 300000) AS i;
ANALYZE big;`;
const CURSORS = { CURSOR_FIELDS: 'orders=updated_at,events=at', LOG_LEVEL: 'warn' };

let src: CliSource;
beforeAll(async () => {
  src = await cliSource('pgstate', SETUP);
}, 120_000);

const cli = (argv: string[], env: Record<string, string>): Promise<CliResult> => spawnCli(MAIN, argv, { MAX_RETRIES: '0', ...src.env, ...env }).done;

/** The newest cursor value of a table, as µs since the epoch. */
async function maxCursor(table: string, column: string): Promise<bigint> {
  const [r] = await src.db.sql<{ us: string }>(`SELECT (extract(epoch FROM max(${column})) * 1000000)::bigint::text AS us FROM ${table}`);
  return BigInt(r!.us);
}
/** Append `n` rows with newer cursors; returns the new total. */
async function append(table: string, column: string, n: number): Promise<number> {
  await src.db.sql(`INSERT INTO ${table} SELECT m.id + i, m.at + i * interval '1 hour' FROM (SELECT max(id) AS id, max(${column}) AS at FROM ${table}) AS m, generate_series(1, ${n}) AS i`);
  const [r] = await src.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return r!.n;
}
const allIds = async (table: string): Promise<string[]> => (await src.db.sql<{ id: string }>(`SELECT id::text AS id FROM ${table}`)).map((r) => r.id);
const streamRows = (r: CliResult): Record<string, number> => Object.fromEntries(((r.json as { streams: { stream: string; rows: number }[] }).streams ?? []).map((s) => [s.stream, s.rows]));
type Shown = { streams: Record<string, { kit?: { cursor?: string } }> };

describe.each(['parquet', 'warehouse'] as const)('operator state commands into %s', (kind) => {
  let t: TargetHandle;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await openTarget(kind, 'postgres', process.env.DATAKIT_TEST_PG_URL);
    env = { ...CURSORS, ...t.env };
  });
  afterAll(() => t?.close());

  it('prints the stored cursor of each stream with state show after an incremental run, and one stream when named', async () => {
    expectExit(await cli(['run', 'orders', 'events'], env), 0);
    const all = await cli(['state', 'show'], env);
    expectExit(all, 0);
    const streams = (all.json as Shown).streams;
    expect(Object.keys(streams).sort()).toEqual(['events', 'orders']);
    expect([parseTimestamp(streams.orders!.kit!.cursor!), parseTimestamp(streams.events!.kit!.cursor!)]).toEqual([await maxCursor('orders', 'updated_at'), await maxCursor('events', 'at')]);
    expect(streams.orders).toEqual(await t.state('orders'));
    const one = await cli(['state', 'show', 'orders'], env);
    expectExit(one, 0);
    expect(Object.keys((one.json as Shown).streams)).toEqual(['orders']);
    expectNoSecrets(all.stdout + all.stderr + one.stdout + one.stderr, [src.password]);
  });

  it('re-reads only the named stream fully with run --state-reset, leaving the other stream state alone', async () => {
    const ordersTotal = await append('orders', 'updated_at', 3);
    await append('events', 'at', 2);
    const eventsState = await t.state('events');
    const r = await cli(['run', '--state-reset', 'orders'], env);
    expectExit(r, 0);
    expect(streamRows(r)).toEqual({ orders: ordersTotal });
    expectExactKeys(await allIds('orders'), await keysIn(t, 'orders', 'id'));
    expect(await t.state('events')).toEqual(eventsState);
    expect(parseTimestamp(((await t.state('orders'))!.kit as { cursor: string }).cursor)).toBe(await maxCursor('orders', 'updated_at'));
    // events still resumes from its own cursor: only the two new rows
    const next = await cli(['run', 'events'], env);
    expectExit(next, 0);
    expect(streamRows(next)).toEqual({ events: 2 });
    expectExactKeys(await allIds('events'), await keysIn(t, 'events', 'id'));
  });

  it('forgets one stream with state reset: its next run reloads it, the other stream keeps its state', async () => {
    const ordersState = await t.state('orders');
    const r = await cli(['state', 'reset', 'events'], env);
    expectExit(r, 0);
    expect(r.json).toMatchObject({ source: 'postgres', reset: ['events'] });
    expect(await t.state('events')).toBeUndefined();
    expect(await t.state('orders')).toEqual(ordersState);
    const shown = await cli(['state', 'show'], env);
    expect(Object.keys((shown.json as Shown).streams)).toEqual(['orders']);
    const next = await cli(['run', 'events', 'orders'], env);
    expectExit(next, 0);
    const events = await allIds('events');
    expect(streamRows(next)).toEqual({ events: events.length, orders: 0 });
    expectExactKeys(events, await keysIn(t, 'events', 'id'));
  });

  it('refuses a stream with no stored state in state show and state reset (exit 2, naming what is stored) and resets nothing', async () => {
    const before = [await t.state('orders'), await t.state('events')];
    for (const argv of [['state', 'reset', 'ordrs'], ['state', 'show', 'ordrs'], ['state', 'reset', 'events', 'ordrs']]) {
      const r = await cli(argv, env);
      expectExit(r, 2);
      expect(r.json).toMatchObject({ error: { code: 'CONFIG.UNKNOWN_STREAM' } });
      expect((r.json as { error: { message: string } }).error.message).toMatch(/no stored state for stream "ordrs"; stored: .*orders/);
    }
    expect([await t.state('orders'), await t.state('events')]).toEqual(before);
  });

  it('resets every partition of a stream split with --partition i/n', async () => {
    if (kind === 'parquet') {
      // orders was written unsplit above: in Parquet its splits cannot live inside its link
      // (BRONZE.WRITE_FAILED); move the link away as that error says, keeping its state
      expectExit(await cli(['run', 'orders', '--partition', '0/2'], env), 1);
      unlinkSync(join(fileURLToPath(t.env.BRONZE_URL!), 'postgres', 'orders'));
    }
    for (const i of [0, 1]) expectExit(await cli(['run', 'orders', '--partition', `${i}/2`], env), 0);
    const shown = await cli(['state', 'show', 'orders'], env);
    expect(Object.keys((shown.json as Shown).streams).sort()).toEqual(['orders', 'orders#0/2', 'orders#1/2']);
    const r = await cli(['state', 'reset', 'orders'], env);
    expectExit(r, 0);
    expect(((r.json as { reset: string[] }).reset ?? []).sort()).toEqual(['orders', 'orders#0/2', 'orders#1/2']);
    expect(Object.keys(((await cli(['state', 'show'], env)).json as Shown).streams)).toEqual(['events']);
  });
});

describe('SIGINT', () => {
  it('exits 130 within 10 s of SIGINT with its state stored, then resumes without losing or doubling rows', async () => {
    const t = await openTarget('parquet', 'postgres', process.env.DATAKIT_TEST_PG_URL);
    try {
      const env = { ...t.env, BATCH_SIZE: '2000', PARQUET_ROLL_ROWS: '2000', LOG_LEVEL: 'warn' };
      const first = spawnCli(MAIN, ['run', 'big'], { ...src.env, ...env });
      const seen = await waitFor(
        'two commits of big',
        async () => {
          if (first.child.exitCode !== null) throw new FatalWait(`the run ended before two commits:\n${first.output().slice(-2000)}`);
          const st = await t.state('big');
          return st && st.seq >= 2 ? st.seq : undefined;
        },
        { timeoutMs: 90_000 },
      );
      const sent = Date.now();
      first.child.kill('SIGINT');
      const stopped = await first.done;
      expectExit(stopped, 130);
      expect({ stoppedWithin10s: (Date.now() - sent) / 1000 < 10 }).toEqual({ stoppedWithin10s: true });
      expect(stopped.json).toMatchObject({ status: 'interrupted' });
      expect((await t.state('big'))?.seq).toBeGreaterThanOrEqual(seen);
      const rerun = await cli(['run', 'big'], env);
      expectExit(rerun, 0);
      expect({ resumed: (streamRows(rerun).big ?? Infinity) < 300_000 }).toEqual({ resumed: true });
      expectExactKeys(await allIds('big'), await keysIn(t, 'big', 'id'));
      expectNoSecrets(stopped.stdout + stopped.stderr + rerun.stdout + rerun.stderr, [src.password]);
    } finally {
      await t.close();
    }
  }, 300_000);
});
