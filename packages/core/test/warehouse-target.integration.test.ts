import pg from 'pg';
import pino from 'pino';
import { createDatabase, freePort, testDatabaseName } from '@datakit/testkit';
import type { Column, OpenStreamParams, Row, StoredStreamState, Stream } from '@datakit/core';
import { DatakitError, RunMetrics, runStreams, runtimeSettings, type Batch } from '@datakit/core';
import { PostgresTarget, type PostgresTargetOptions } from '../src/bronze/postgres/index.js';
import { fixtureKit } from './kit-fixture.js';

const SOURCE = 'shop';
let url: string;
let target: PostgresTarget;
let db: pg.Client;

beforeAll(async () => {
  url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('wh_target'));
  target = new PostgresTarget(url, { applicationName: 'datakit-test-writer', commitRows: 1 });
  await target.open(SOURCE);
  db = new pg.Client({ connectionString: url });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await target?.close();
});

const COLUMNS: Column[] = [
  { name: 'id', type: 'int32', nullable: false, sourceType: 'integer' },
  { name: 'note', type: 'string', nullable: true, sourceType: 'text' },
];
/** A target of its own (`options`), opened for SOURCE, closed after `fn`. */
async function withTarget(options: PostgresTargetOptions, fn: (t: PostgresTarget) => Promise<void>): Promise<void> {
  const t = new PostgresTarget(url, options);
  try {
    await t.open(SOURCE);
    await fn(t);
  } finally {
    await t.close();
  }
}

/** COLUMNS plus a json column (jsonb in the warehouse), for values the server refuses. */
const DOC_COLUMNS: Column[] = [...COLUMNS, { name: 'doc', type: 'json', nullable: true, sourceType: 'json' }];
/** What `p` rejects with, or undefined when it resolves. */
const failureOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

const rowsOf = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => [from + i, `row ${from + i}`]);

function params(name: string, opts: { staged: boolean; stored?: StoredStreamState; columns?: Column[] }): OpenStreamParams {
  const columns = opts.columns ?? COLUMNS;
  const stream: Stream = { name, columns, syncMode: opts.staged ? 'full_refresh' : 'incremental' };
  return {
    run: { source: SOURCE, runId: `run-${Math.random().toString(36).slice(2, 8)}`, loadedAtMicros: 0n, logger: pino({ level: 'silent' }) },
    stream,
    columns,
    bronzeName: name,
    stateKey: name,
    staged: opts.staged,
    ...(opts.stored ? { stored: opts.stored } : {}),
  };
}

async function count(table: string, client: pg.Client = db): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM bronze."${table}"`);
  return Number(r.rows[0]!.n);
}

async function state(name: string): Promise<StoredStreamState | undefined> {
  return (await target.loadState(SOURCE))[name];
}

async function stagingTables(name: string): Promise<string[]> {
  const r = await db.query<{ relname: string }>("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'bronze' AND starts_with(relname, $1)", [`_stg_${name}_`]);
  return r.rows.map((x) => x.relname);
}

/** Load one full generation and return its stored state. */
async function fullLoad(name: string, rows: Row[]): Promise<StoredStreamState> {
  const sink = await target.openStream(params(name, { staged: true, stored: await state(name) }));
  await sink.write(rows, { last: rows.length }, true);
  const r = await sink.finish();
  return r.stored!;
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached');
}

async function lockWaiters(): Promise<number> {
  const r = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
  return Number(r.rows[0]!.n);
}

describe('warehouse target', () => {
  it('redacts the password from its location', () => {
    const t = new PostgresTarget('postgresql://etl:p%40ss-w0rd@warehouse:5432/dw?sslmode=require');
    expect(t.kind).toBe('postgres');
    expect(t.location).toBe('postgresql://etl:***@warehouse:5432/dw?sslmode=require');
  });

  it('keeps a staged generation invisible until finish, then reports it', async () => {
    const sink = await target.openStream(params('orders', { staged: true }));
    await sink.write(rowsOf(1, 3), { page: 1 }, true);
    const tables = await db.query("SELECT to_regclass('bronze.br_orders') AS t");
    expect(tables.rows[0].t).toBeNull();
    expect(await stagingTables('orders')).toHaveLength(1);
    expect(await state('orders')).toMatchObject({ phase: 'staging', seq: 1, kit: { page: 1 }, columns: ['id', 'note'] });
    const result = await sink.finish();
    expect(result).toMatchObject({ rows: 3, outputs: ['bronze.br_orders'], stored: { phase: 'live', seq: 1, kit: { page: 1 } } });
    // binary COPY: a 19-byte signature, per row a field count (2) and each field's length (4) and bytes, a 2-byte trailer
    expect(result.bytes).toBe(19 + 3 * (2 + 4 + 4 + 4 + 'row 1'.length) + 2);
    expect(await count('br_orders')).toBe(3);
    expect(await stagingTables('orders')).toEqual([]);
    expect(await state('orders')).toEqual(result.stored);
  });

  it('swaps a new generation in atomically: readers see the old rows or the new rows, never none or half', async () => {
    await fullLoad('swap', rowsOf(1, 3));
    const sink = await target.openStream(params('swap', { staged: true, stored: await state('swap') }));
    await sink.write(rowsOf(10, 5), { page: 1 }, true);
    expect(await count('br_swap')).toBe(3);

    const holder = new pg.Client({ connectionString: url });
    const late = new pg.Client({ connectionString: url });
    await holder.connect();
    await late.connect();
    try {
      // a reader inside a transaction holds the old table: the swap must wait for it
      await holder.query('BEGIN');
      expect(await count('br_swap', holder)).toBe(3);
      const finishing = sink.finish();
      await waitFor(async () => (await lockWaiters()) >= 1);
      // a reader arriving during the swap queues behind it and then reads the new table
      const lateCount = count('br_swap', late);
      await waitFor(async () => (await lockWaiters()) >= 2);
      expect(await count('br_swap', holder)).toBe(3);
      await holder.query('COMMIT');
      await finishing;
      expect(await lateCount).toBe(5);
    } finally {
      await holder.end();
      await late.end();
    }
    // and a tight loop of readers during another swap only ever sees 5 or 7
    const next = await target.openStream(params('swap', { staged: true, stored: await state('swap') }));
    await next.write(rowsOf(20, 7), { page: 1 }, true);
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    const seen = new Set<number>();
    let stop = false;
    const loop = (async () => {
      while (!stop) seen.add(await count('br_swap', reader));
    })();
    await waitFor(async () => seen.has(5));
    await next.finish();
    await waitFor(async () => seen.has(7));
    stop = true;
    await loop;
    await reader.end();
    expect([...seen].sort()).toEqual([5, 7]);
  });

  it('appends to the live table in incremental runs and adds a source column that appeared since', async () => {
    const first = await fullLoad('events', rowsOf(1, 2));
    const wider: Column[] = [...COLUMNS, { name: 'added later', type: 'int64', nullable: true, sourceType: 'bigint' }];
    const sink = await target.openStream(params('events', { staged: false, stored: first, columns: wider }));
    await sink.write([[3, 'three', 3n]], { cursor: 3 }, true);
    await sink.write([[4, 'four', null]], { cursor: 4 }, true);
    // a checkpoint without rows (an idle source) still moves the state
    await sink.write([], { cursor: 5 }, true);
    const r = await sink.finish();
    expect(r).toMatchObject({ rows: 2, stored: { generation: first.generation, phase: 'live', seq: first.seq + 3, kit: { cursor: 5 } } });
    const got = await db.query({ text: 'SELECT id, note, "added later"::text FROM bronze.br_events ORDER BY id', rowMode: 'array' });
    expect(got.rows).toEqual([[1, 'row 1', null], [2, 'row 2', null], [3, 'three', '3'], [4, 'four', null]]);
  });

  it('adds columns during a run (schema evolution)', async () => {
    const sink = await target.openStream(params('evolving', { staged: true }));
    await sink.write([[1, 'a']], { n: 1 }, true);
    await sink.evolve!([...COLUMNS, { name: 'extra', type: 'boolean', nullable: true, sourceType: 'bool' }]);
    await sink.write([[2, 'b', true]], undefined, false);
    await sink.evolve!([...COLUMNS, { name: 'extra', type: 'boolean', nullable: true, sourceType: 'bool' }, { name: 'more', type: 'string', nullable: true, sourceType: 'text' }]);
    await sink.write([[3, 'c', false, 'm']], { n: 3 }, true);
    const r = await sink.finish();
    expect(r.stored?.columns).toEqual(['id', 'note', 'extra', 'more']);
    const got = await db.query({ text: 'SELECT * FROM bronze.br_evolving ORDER BY id', rowMode: 'array' });
    expect(got.rows).toEqual([[1, 'a', null, null], [2, 'b', true, null], [3, 'c', false, 'm']]);
  });

  it('switches from binary to text COPY inside one transaction when an added column has no binary form', async () => {
    const sink = await target.openStream(params('switching', { staged: true }));
    await sink.write([[1, 'a']], { n: 1 }, true);
    // binary COPY left open (no checkpoint), then a text-only column (interval given as text input)
    await sink.write([[2, 'b']], undefined, false);
    await sink.evolve!([...COLUMNS, { name: 'span', type: 'string', nullable: true, sourceType: 'interval', warehouseType: 'interval' }]);
    await sink.write([[3, 'c', '1 day 02:00:00']], undefined, false);
    await sink.write([[4, 'd\twith a tab, escaped in text', '-00:00:00.000001']], { n: 4 }, true);
    const r = await sink.finish();
    expect(r).toMatchObject({ rows: 4, stored: { kit: { n: 4 }, columns: ['id', 'note', 'span'] } });
    const got = await db.query({ text: 'SELECT id, note, span::text FROM bronze.br_switching ORDER BY id', rowMode: 'array' });
    expect(got.rows).toEqual([[1, 'a', null], [2, 'b', null], [3, 'c', '1 day 02:00:00'], [4, 'd\twith a tab, escaped in text', '-00:00:00.000001']]);
  });

  it('writes COPY text when told to (WAREHOUSE_COPY_FORMAT=text), landing the same rows', async () => {
    await withTarget({ copyFormat: 'text' }, async (t) => {
      const sink = await t.openStream(params('as_text', { staged: true }));
      await sink.write(rowsOf(1, 3), { page: 1 }, true);
      const result = await sink.finish();
      expect(result.bytes).toBe(Buffer.byteLength('1\trow 1\n2\trow 2\n3\trow 3\n'));
      const got = await db.query<{ id: number; note: string }>('SELECT id, note FROM bronze.br_as_text ORDER BY id');
      expect(got.rows).toEqual([1, 2, 3].map((id) => ({ id, note: `row ${id}` })));
    });
  });

  it('commits data and state together: a failing batch moves neither', async () => {
    const sink = await target.openStream(params('atomic', { staged: true }));
    await sink.write(rowsOf(1, 2), { p: 1 }, true);
    const before = await state('atomic');
    const table = (await stagingTables('atomic'))[0]!;

    // the server rejects row 3 of the COPY: text holding a NUL byte
    const bad = sink.write([...rowsOf(3, 2), [5, 'nul \u0000 inside']], { p: 2 }, true);
    await expect(bad).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { line: 3, column: 'note' } });
    await expect(bad).rejects.toThrow(/bronze\."_stg_atomic_.*": invalid byte sequence for encoding "UTF8": 0x00/);
    // this side refuses an integer out of range before sending it
    await expect(sink.write([...rowsOf(3, 2), [2 ** 31, 'too big']], { p: 2 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { record: 3, column: 'id' }, message: expect.stringMatching(/2147483648 is out of the integer range/) });
    // the state cannot be stored (jsonb refuses \u0000): the COPY before it is rolled back too
    await expect(sink.write(rowsOf(3, 2), { p: 'nul\u0000' }, true)).rejects.toMatchObject({ code: 'BRONZE.WRITE_FAILED' });
    expect(await count(table)).toBe(2);
    expect(await state('atomic')).toEqual(before);

    // rows without a checkpoint wait, uncommitted, for the next checkpoint
    await sink.write(rowsOf(3, 1), undefined, false);
    expect(await count(table)).toBe(2);
    await expect(sink.write([[4, '\ud800']], { p: 4 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { record: 1, column: 'note' } });
    expect(await count(table)).toBe(2);
    expect(await state('atomic')).toEqual(before);

    // commit() makes pending rows durable with the last checkpoint
    await sink.write(rowsOf(3, 1), undefined, false);
    await sink.commit();
    expect(await count(table)).toBe(3);
    expect(await state('atomic')).toMatchObject({ seq: 2, kit: { p: 1 }, phase: 'staging' });
    expect(sink.result().rows).toBe(3);
    await sink.finish();
    expect(await count('br_atomic')).toBe(3);
  });

  it('resumes an interrupted staging generation and swaps it in at the end', async () => {
    await fullLoad('resumed', rowsOf(100, 1));
    const sink = await target.openStream(params('resumed', { staged: true, stored: await state('resumed') }));
    await sink.write(rowsOf(1, 2), { page: 1 }, true);
    await sink.write(rowsOf(3, 2), undefined, false);
    await sink.abort();
    const stored = await state('resumed');
    expect(stored).toMatchObject({ phase: 'staging', seq: 1, kit: { page: 1 } });
    expect(await count('br_resumed')).toBe(1);

    const again = await target.openStream(params('resumed', { staged: true, stored }));
    await again.write(rowsOf(3, 2), { page: 2 }, true);
    const r = await again.finish();
    expect(r.stored).toMatchObject({ generation: stored!.generation, phase: 'live', seq: 2, kit: { page: 2 } });
    const ids = await db.query<{ id: number }>('SELECT id FROM bronze.br_resumed ORDER BY id');
    expect(ids.rows.map((x) => x.id)).toEqual([1, 2, 3, 4]);
    expect(await stagingTables('resumed')).toEqual([]);
  });

  it('drops a staging table nothing points at: on abort before any commit, and on state reset', async () => {
    const sink = await target.openStream(params('dropped', { staged: true }));
    await sink.write(rowsOf(1, 2), undefined, false);
    expect(await stagingTables('dropped')).toHaveLength(1);
    await sink.abort();
    expect(await stagingTables('dropped')).toEqual([]);

    const kept = await target.openStream(params('dropped', { staged: true }));
    await kept.write(rowsOf(1, 2), { p: 1 }, true);
    await kept.abort();
    expect(await stagingTables('dropped')).toHaveLength(1);
    await target.resetState(SOURCE, ['dropped']);
    expect(await state('dropped')).toBeUndefined();
    expect(await stagingTables('dropped')).toEqual([]);
  });

  it('reports STATE.CORRUPT when the stored generation has no table, with the reset fix', async () => {
    const sink = await target.openStream(params('lost', { staged: true }));
    await sink.write(rowsOf(1, 1), { p: 1 }, true);
    await sink.abort();
    await db.query(`DROP TABLE bronze."${(await stagingTables('lost'))[0]!}"`);
    const err = await target.openStream(params('lost', { staged: true, stored: await state('lost') })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATE.CORRUPT', fix: 'run --state-reset lost' });

    const live = await fullLoad('gone', rowsOf(1, 1));
    await db.query('DROP TABLE bronze.br_gone');
    await expect(target.openStream(params('gone', { staged: false, stored: live }))).rejects.toMatchObject({ code: 'STATE.CORRUPT', fix: 'run --state-reset gone' });
  });

  it('reports STATE.CORRUPT for an unreadable state row', async () => {
    await db.query(`INSERT INTO bronze._datakit_state (source, stream, state) VALUES ('broken', 'orders', '{"seq": "x"}')`);
    const err = await target.loadState('broken').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatakitError);
    expect(err).toMatchObject({ code: 'STATE.CORRUPT', fix: 'run --state-reset orders' });
  });

  it('keeps big integers in kit checkpoints exact', async () => {
    const sink = await target.openStream(params('bigstate', { staged: true }));
    const checkpoint = { offset: 2n ** 64n + 1n, neg: -(2n ** 63n), small: 42, f: 1.5, s: '9007199254740993', nested: [{ lsn: 9007199254740993n }] };
    await sink.write(rowsOf(1, 1), checkpoint, true);
    await sink.finish();
    expect((await state('bigstate'))?.kit).toEqual(checkpoint);
  });

  it('streams batches into one COPY per transaction, committing at commitRows with the last checkpoint', async () => {
    await withTarget({ applicationName: 'datakit-test-span', commitRows: 25, commitSeconds: 3600 }, async (t) => {
      const sink = await t.openStream(params('span', { staged: false }));
      await sink.write(rowsOf(1, 10), { upTo: 10 }, true);
      await sink.write(rowsOf(11, 10), { upTo: 20 }, true);
      // 20 rows in an open transaction: neither the rows nor the checkpoint are visible
      expect(await count('br_span')).toBe(0);
      expect(await state('span')).toBeUndefined();
      const copying = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'datakit-test-span' AND query LIKE 'COPY %'");
      expect(Number(copying.rows[0]!.n)).toBe(1);
      await sink.write(rowsOf(21, 10), { upTo: 30 }, true); // 30 >= 25: commits
      expect(await count('br_span')).toBe(30);
      expect(await state('span')).toMatchObject({ kit: { upTo: 30 }, seq: 1 });
      await sink.write(rowsOf(31, 5), { upTo: 35 }, true);
      // a value refused on this side fails the transaction: the 5 rows go, the commit stays
      await expect(sink.write([[36, 'a\ud800b']], { upTo: 36 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD' });
      expect(sink.result()).toMatchObject({ rows: 30, stored: { kit: { upTo: 30 } } });
      await sink.write(rowsOf(31, 6), { upTo: 36 }, true);
      const r = await sink.finish();
      expect(r).toMatchObject({ rows: 36, stored: { kit: { upTo: 36 }, seq: 2 } });
      const ids = await db.query<{ id: number }>('SELECT id FROM bronze.br_span ORDER BY id');
      expect(ids.rows.map((x) => x.id)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    });
  });

  it('maps a value the server refuses in an open COPY to DATA.INVALID_RECORD and keeps what was committed', async () => {
    await withTarget({ applicationName: 'datakit-test-refuse', commitRows: 1000, commitSeconds: 3600 }, async (t) => {
      const sink = await t.openStream(params('refuse', { staged: false, columns: DOC_COLUMNS }));
      await sink.write([[1, 'a', '{"ok":1}']], { upTo: 1 }, true);
      await sink.commit();
      await sink.write([[2, 'b', '{"ok":2}']], { upTo: 2 }, true);
      // json that PostgreSQL rejects: the error comes back from the server, at the latest when the COPY ends
      const err = await failureOf(sink.write([[3, 'c', '{not json']], { upTo: 3 }, true).then(() => sink.commit()));
      // line 2 of the transaction's COPY is row 1 of the batch that carried it
      expect(err).toMatchObject({ code: 'DATA.INVALID_RECORD', where: { line: 2, record: 1, column: 'doc' } });
      expect(String((err as Error).message)).toMatch(/json/i);
      expect(sink.result()).toMatchObject({ rows: 1, stored: { kit: { upTo: 1 } } });
      await sink.abort();
      const ids = await db.query<{ id: number }>('SELECT id FROM bronze.br_refuse ORDER BY id');
      expect(ids.rows.map((x) => x.id)).toEqual([1]);
    });
  });

  it('says when the refused row came in an earlier batch of the open transaction', async () => {
    await withTarget({ applicationName: 'datakit-test-refuse-earlier', commitRows: 1000, commitSeconds: 3600 }, async (t) => {
      const sink = await t.openStream(params('refuse_earlier', { staged: false, columns: DOC_COLUMNS }));
      await sink.write([[1, 'a', '{"ok":1}'], [2, 'b', '{not json']], { upTo: 2 }, true);
      // the server's answer arrives while the open transaction takes the next batch
      await new Promise((r) => setTimeout(r, 100));
      const err = await failureOf(sink.write([[3, 'c', '{"ok":3}']], { upTo: 3 }, true).then(() => sink.commit()));
      expect(err).toMatchObject({ code: 'DATA.INVALID_RECORD', where: { line: 2, column: 'doc' } });
      expect((err as { where: object }).where).not.toHaveProperty('record');
      expect(String((err as Error).message)).toContain("line 2 of the open transaction's COPY: a row of an earlier batch, not committed");
      await sink.abort();
      expect((await db.query('SELECT 1 FROM bronze.br_refuse_earlier')).rowCount).toBe(0);
    });
  });

  it('resumes from the stored checkpoint when a retriable failure drops the open transaction: nothing lost, nothing doubled', async () => {
    await withTarget({ applicationName: 'datakit-test-retry', commitRows: 30, commitSeconds: 3600 }, async (t) => {
      const stream: Stream = { name: 'retry', columns: [{ name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' }], primaryKey: ['id'], syncMode: 'incremental', cursorField: ['id'] };
      const reads: unknown[] = [];
      let killed = false;
      const kit = fixtureKit('counter', [stream], async function* (_ctx, _c, _s, from): AsyncIterable<Batch> {
        const start = typeof from === 'number' ? from : 0;
        reads.push(from);
        for (let i = start + 1; i <= 100; i += 10) {
          if (i === 51 && !killed) {
            // 50 rows in: 30 committed, 20 in the open transaction; the warehouse connection dies
            killed = true;
            await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'datakit-test-retry' AND state <> 'idle'");
          }
          yield { rows: Array.from({ length: 10 }, (_, j) => [BigInt(i + j)]), checkpoint: i + 9 };
        }
      });
      const logger = pino({ level: 'silent' });
      const runtime = { ...runtimeSettings.parse({ batchSize: 10, maxRetries: 2 }), progressIntervalMs: 60_000 };
      const [report] = await runStreams({
        kit,
        config: {},
        runtime,
        ctx: { logger, signal: new AbortController().signal, batchSize: 10, runId: 'retry-run' },
        target: t,
        run: { source: SOURCE, runId: 'retry-run', loadedAtMicros: 0n, logger },
        streams: [stream],
        states: {},
        metrics: new RunMetrics(),
      });
      expect(report?.error).toBeUndefined();
      expect(report).toMatchObject({ status: 'succeeded', rows: 100 });
      expect(reads).toEqual([undefined, 30]); // the second read starts after the committed checkpoint
      const ids = await db.query<{ id: string }>('SELECT id FROM bronze.br_retry ORDER BY id');
      expect(ids.rows.map((x) => Number(x.id))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect((await state('retry'))?.kit).toBe(100);
    });
  });

  it('streams a large batch through COPY in chunks', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, `${'x'.repeat(100)}\t${i}`]);
    const sink = await target.openStream(params('large', { staged: true }));
    await sink.write(rows, { done: true }, true);
    const r = await sink.finish();
    expect(r.rows).toBe(20_000);
    expect(r.bytes).toBeGreaterThan(2_000_000);
    expect(await count('br_large')).toBe(20_000);
  });

  it('maps a wrong password to BRONZE.AUTH_FAILED without the password in the message', async () => {
    const u = new URL(url);
    u.password = 'Wr0ng-s3cret-pw';
    const t = new PostgresTarget(u.toString());
    const err = await t.open(SOURCE).catch((e: unknown) => e);
    await t.close();
    expect(err).toMatchObject({ code: 'BRONZE.AUTH_FAILED', retriable: false });
    const e = err as DatakitError;
    expect(e.fix).toMatch(/WAREHOUSE_DATABASE_URL/);
    for (const text of [e.message, e.describe(), String(e.stack), t.location]) expect(text).not.toContain('Wr0ng-s3cret-pw');
  });

  it('maps a closed port to BRONZE.UNREACHABLE and an unknown database to BRONZE.UNREACHABLE with a fix', async () => {
    const closed = new PostgresTarget(`postgres://postgres:secret-pw@127.0.0.1:${await freePort()}/db`);
    const err = await closed.open(SOURCE).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BRONZE.UNREACHABLE', retriable: true });
    expect((err as DatakitError).describe()).not.toContain('secret-pw');

    const u = new URL(url);
    u.pathname = '/no_such_database';
    const missing = new PostgresTarget(u.toString());
    const err2 = await missing.open(SOURCE).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'BRONZE.UNREACHABLE' });
    expect((err2 as DatakitError).fix).toMatch(/WAREHOUSE_DATABASE_URL \/ BRONZE_URL/);
    await closed.close();
    await missing.close();
  });
});
