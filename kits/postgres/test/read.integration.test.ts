import { postgresKit } from '../src/kit.js';
import { configOf, connectionsOf, ctxOf, eventually, failure, readAll, rowsOf, streamOf, testDb, type TestDb } from './support.js';

const SETUP = `
CREATE TABLE items (id bigint PRIMARY KEY, label text, amount numeric(12, 3), at timestamptz);
INSERT INTO items SELECT i * 3 - 50, 'item ' || i, i * 1.125, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute 0.000001 second'
  FROM generate_series(1, 103) AS i;

-- a composite key of text (quotes, backslashes, unicode, a collation order) and a timestamp
CREATE TABLE "Key ""Mix""" ("k 1" text COLLATE "C", "k2" timestamptz, v int, PRIMARY KEY ("k 1", "k2"));
INSERT INTO "Key ""Mix""" SELECT k, timestamptz '2024-06-01 00:00:00.000001+00' + j * interval '1 day', j
  FROM unnest(ARRAY['a', 'A', 'it''s', 'back\\slash', 'é', '😀', 'z z', '']) AS k, generate_series(1, 4) AS j;

-- an enum key: its order (declaration order) differs from its text order
CREATE TYPE mood AS ENUM ('zzz', 'happy', 'aaa');
CREATE TABLE moods (m mood PRIMARY KEY, n int);
INSERT INTO moods VALUES ('aaa', 3), ('zzz', 1), ('happy', 2);

CREATE TABLE no_key (a int, b text);
INSERT INTO no_key SELECT i % 5, 'dup' FROM generate_series(1, 23) AS i;

CREATE TABLE big (id int PRIMARY KEY, pad text);
INSERT INTO big SELECT i, repeat('x', 200) FROM generate_series(1, 20000) AS i;

CREATE VIEW slow AS SELECT i, pg_sleep(0.02) IS NULL AS s FROM generate_series(1, 10000) AS i;
`;

let db: TestDb;
beforeAll(async () => {
  db = await testDb('pgread', SETUP);
});

const config = (extra: Record<string, string> = {}) => configOf({ SOURCE_DATABASE_URL: db.url, ...extra });

describe('full refresh', () => {
  it('reads every row exactly once in key order, in chunks of SOURCE_CHUNK_ROWS and batches of at most BATCH_SIZE', async () => {
    const ctx = ctxOf({ batchSize: 5 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '7' });
    const stream = await streamOf(ctx, cfg, 'items');
    const batches = await readAll(ctx, cfg, stream);
    const ids = rowsOf(batches).map((r) => r[0]);
    expect(ids).toEqual(Array.from({ length: 103 }, (_, i) => BigInt((i + 1) * 3 - 50)));
    expect(batches.every((b) => b.rows.length > 0 && b.rows.length <= 5)).toBe(true);
    for (const b of batches) expect(b.checkpoint).toEqual({ mode: 'full', lastPk: [String(b.rows[b.rows.length - 1]![0])] });
    const first = rowsOf(batches)[0]!;
    expect(first).toEqual([-47n, 'item 1', '1.125', 1704067260000001n]);
  });

  it('resumes after a mid-table checkpoint with exactly the remaining rows', async () => {
    const ctx = ctxOf({ batchSize: 5 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '7' });
    const stream = await streamOf(ctx, cfg, 'items');
    const all = rowsOf(await readAll(ctx, cfg, stream)).map((r) => r[0]);
    const rest = rowsOf(await readAll(ctx, cfg, stream, { mode: 'full', lastPk: ['101'] })).map((r) => r[0]);
    expect(rest).toEqual(all.filter((id) => (id as bigint) > 101n));
    expect(rest.length).toBeGreaterThan(0);
  });

  it('pages through a composite key of hostile text and timestamps without losing or repeating a row', async () => {
    const ctx = ctxOf({ batchSize: 2 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '3' });
    const stream = await streamOf(ctx, cfg, 'Key "Mix"');
    expect(stream.primaryKey).toEqual(['k 1', 'k2']);
    const batches = await readAll(ctx, cfg, stream);
    const got = rowsOf(batches).map((r) => `${r[0] as string}|${String(r[1])}`);
    const want = await db.sql<{ k: string }>(`SELECT "k 1" || '|' || (extract(epoch FROM k2) * 1000000)::bigint::text AS k FROM "Key ""Mix""" ORDER BY "k 1", k2`);
    expect(got).toEqual(want.map((w) => w.k));
    // a resume from every checkpoint reads exactly the rows after it
    const keys = got;
    let seen = 0;
    for (const b of batches.slice(0, -1)) {
      seen += b.rows.length;
      const rest = rowsOf(await readAll(ctx, cfg, stream, b.checkpoint)).map((r) => `${r[0] as string}|${String(r[1])}`);
      expect(rest).toEqual(keys.slice(seen));
    }
  });

  it('orders by the key type itself, not its text (enum keys)', async () => {
    const ctx = ctxOf({ batchSize: 1 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '1' });
    const stream = await streamOf(ctx, cfg, 'moods');
    const batches = await readAll(ctx, cfg, stream);
    expect(rowsOf(batches)).toEqual([['zzz', 1], ['happy', 2], ['aaa', 3]]);
    expect(batches.map((b) => b.checkpoint)).toEqual([{ mode: 'full', lastPk: ['zzz'] }, { mode: 'full', lastPk: ['happy'] }, { mode: 'full', lastPk: ['aaa'] }]);
  });

  it('reads a relation without a key in one pass, every duplicate included, without checkpoints', async () => {
    const ctx = ctxOf({ batchSize: 4 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '2' });
    const stream = await streamOf(ctx, cfg, 'no_key');
    const batches = await readAll(ctx, cfg, stream);
    expect(rowsOf(batches)).toHaveLength(23);
    expect(batches.every((b) => b.checkpoint === undefined && b.rows.length <= 4)).toBe(true);
  });

  it('refuses a state that is not a position of this stream with STATE.CORRUPT', async () => {
    const ctx = ctxOf();
    const cfg = config();
    const stream = await streamOf(ctx, cfg, 'items');
    for (const bad of [{ cursor: 'not a position' }, { mode: 'full', lastPk: ['1', '2'] }, { mode: 'incremental', field: 'at', cursor: 'x', pk: ['1'] }]) {
      const e = await failure(readAll(ctx, cfg, stream, bad));
      expect(e.code).toBe('STATE.CORRUPT');
      expect(e.fix).toContain('--state-reset items');
    }
  });
});

describe('releasing the connection', () => {
  it('closes the connection when the consumer breaks after the first batch', async () => {
    const app = 'dk-test-break';
    const ctx = ctxOf({ batchSize: 100 });
    const cfg = config({ SOURCE_APPLICATION_NAME: app, SOURCE_CHUNK_ROWS: '100000' });
    const stream = await streamOf(ctx, cfg, 'big');
    let rows = 0;
    for await (const b of postgresKit.read(ctx, cfg, stream, undefined)) {
      rows += b.rows.length;
      break;
    }
    expect(rows).toBe(100);
    expect(await eventually(async () => (await connectionsOf(db, app)) === 0)).toBe(true);
  });

  it('stops promptly on abort mid-stream and leaves no backend running', async () => {
    const app = 'dk-test-abort';
    const controller = new AbortController();
    const ctx = ctxOf({ batchSize: 50, signal: controller.signal });
    const cfg = config({ SOURCE_APPLICATION_NAME: app });
    const stream = await streamOf(ctx, cfg, 'big');
    let batches = 0;
    for await (const b of postgresKit.read(ctx, cfg, stream, undefined)) {
      batches++;
      expect(b.rows.length).toBeLessThanOrEqual(50);
      if (batches === 2) controller.abort('SIGTERM');
      if (batches > 50) throw new Error('the read did not stop');
    }
    expect(batches).toBeLessThanOrEqual(3);
    expect(await eventually(async () => (await connectionsOf(db, app)) === 0)).toBe(true);
  });

  it('cancels a statement that is still running on the server when aborted', async () => {
    const app = 'dk-test-cancel';
    const controller = new AbortController();
    const ctx = ctxOf({ batchSize: 10_000, signal: controller.signal });
    const cfg = config({ SOURCE_APPLICATION_NAME: app });
    const stream = await streamOf(ctx, cfg, 'slow');
    expect(stream.primaryKey).toBeUndefined();
    setTimeout(() => controller.abort('SIGTERM'), 300);
    const started = Date.now();
    const batches = await readAll(ctx, cfg, stream);
    expect(batches).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await eventually(async () => (await connectionsOf(db, app)) === 0)).toBe(true);
  });

  it('opens nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('SIGTERM');
    const ctx = ctxOf({ signal: controller.signal });
    const cfg = config();
    const stream = await streamOf(ctxOf(), cfg, 'items');
    expect(await readAll(ctx, cfg, stream)).toEqual([]);
  });
});
