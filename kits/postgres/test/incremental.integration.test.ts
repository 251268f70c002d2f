import { parseTimestamp, type Batch, type StreamState } from '@datakit/core';
import { postgresKit } from '../src/kit.js';
import { configOf, ctxOf, failure, readAll, rowsOf, streamOf, testDb, type TestDb } from './support.js';

const SETUP = `
CREATE TABLE events (id bigint PRIMARY KEY, updated_at timestamptz, note text);
-- groups of four rows share a cursor value; two rows have none
INSERT INTO events SELECT i, timestamptz '2024-01-01 00:00:00+00' + (i / 4) * interval '1 minute 0.000001 second', 'e' || i FROM generate_series(1, 20) AS i;
INSERT INTO events VALUES (-1, NULL, 'no cursor'), (-2, NULL, 'no cursor');

CREATE TABLE seq (id bigint PRIMARY KEY, v text);
INSERT INTO seq SELECT i, 'v' || i FROM generate_series(1, 10) AS i;

-- no key: groups of equal cursor values of sizes 1, 4, 2, 7, 1, 3 (7 > the batch size)
CREATE TABLE log (at timestamptz, msg text);
INSERT INTO log SELECT timestamptz '2024-05-01 00:00:00+00' + g * interval '1 second', 'g' || g || '-' || k
  FROM unnest(ARRAY[1, 4, 2, 7, 1, 3]) WITH ORDINALITY AS s(n, g), generate_series(1, n) AS k;
INSERT INTO log VALUES (NULL, 'no cursor');

CREATE TABLE empty_inc (id int PRIMARY KEY, at timestamptz);
`;

let db: TestDb;
beforeAll(async () => {
  db = await testDb('pginc', SETUP);
});

const config = (extra: Record<string, string> = {}) =>
  configOf({ SOURCE_DATABASE_URL: db.url, CURSOR_FIELDS: 'events=updated_at,seq=id,log=at,empty_inc=at', SOURCE_CHUNK_ROWS: '3', ...extra });
const ids = (batches: Batch[]): bigint[] => rowsOf(batches).map((r) => r[0] as bigint);
const lastCheckpoint = (batches: Batch[]): StreamState => [...batches].reverse().find((b) => b.checkpoint !== undefined)?.checkpoint;

describe('incremental reads with a key', () => {
  let state: StreamState;

  it('reads every row with a cursor on the first run, ordered by (cursor, key), checkpointing each batch', async () => {
    const ctx = ctxOf({ batchSize: 2 });
    const cfg = config();
    const stream = await streamOf(ctx, cfg, 'events');
    const batches = await readAll(ctx, cfg, stream);
    expect(ids(batches)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    for (const b of batches) {
      const last = b.rows[b.rows.length - 1]!;
      const cp = b.checkpoint as { mode: string; field: string; cursor: string; pk: string[] };
      expect([cp.mode, cp.field, cp.pk]).toEqual(['incremental', 'updated_at', [String(last[0])]]);
      expect(parseTimestamp(cp.cursor)).toBe(last[1]);
    }
    state = lastCheckpoint(batches);
  });

  it('reads exactly the new and changed rows from the stored state, ties on the cursor included', async () => {
    // (in SQL: a JS Date would cut the microseconds off the tie)
    await db.sql(`
      INSERT INTO events SELECT i, (SELECT max(updated_at) FROM events), 'tie' FROM generate_series(21, 23) AS i;
      INSERT INTO events SELECT i, (SELECT max(updated_at) FROM events) + (i - 23) * interval '1 second', 'newer' FROM generate_series(24, 25) AS i;
      UPDATE events SET updated_at = (SELECT max(updated_at) FROM events) + interval '1 hour' WHERE id = 5`);
    const ctx = ctxOf({ batchSize: 2 });
    const cfg = config();
    const stream = await streamOf(ctx, cfg, 'events');
    const batches = await readAll(ctx, cfg, stream, state);
    expect(ids(batches)).toEqual([21n, 22n, 23n, 24n, 25n, 5n]);
    state = lastCheckpoint(batches);
    expect(await readAll(ctx, cfg, stream, state)).toEqual([]);
  });

  it('fixes the upper bound at the start: rows committed during the run wait for the next run', async () => {
    const ctx = ctxOf({ batchSize: 1 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '1' });
    const stream = await streamOf(ctx, cfg, 'events');
    await db.sql(`UPDATE events SET updated_at = updated_at + interval '2 hours' WHERE id IN (1, 2)`);
    const seen: bigint[] = [];
    let last: StreamState;
    for await (const b of postgresKit.read(ctx, cfg, stream, state)) {
      if (!seen.length) await db.sql(`INSERT INTO events VALUES (100, now() + interval '10 years', 'during the run')`);
      seen.push(...b.rows.map((r) => r[0] as bigint));
      last = b.checkpoint;
    }
    expect(seen).toEqual([1n, 2n]);
    expect(ids(await readAll(ctx, cfg, stream, last))).toEqual([100n]);
  });

  it('re-reads the CURSOR_LOOKBACK window before the stored cursor (late commits), and never without it', async () => {
    const ctx = ctxOf({ batchSize: 100 });
    const cp = { mode: 'incremental', field: 'updated_at', cursor: '2024-01-01 00:03:00.000003+00', pk: ['12'] };
    // a row committed late with a cursor just before the stored one
    await db.sql(`INSERT INTO events VALUES (200, '2024-01-01 00:02:30+00', 'late')`);
    const without = ids(await readAll(ctx, config(), await streamOf(ctx, config(), 'events'), cp));
    expect(without).not.toContain(200n);
    const cfg = config({ CURSOR_LOOKBACK: 'events=1 minute' });
    const withLookback = ids(await readAll(ctx, cfg, await streamOf(ctx, cfg, 'events'), cp));
    const want = await db.sql<{ id: string }>(
      `SELECT id::text FROM events WHERE updated_at > timestamptz '2024-01-01 00:03:00.000003+00' - interval '1 minute' AND updated_at <= (SELECT max(updated_at) FROM events) ORDER BY updated_at, id`,
    );
    expect(withLookback).toEqual(want.map((w) => BigInt(w.id)));
    expect(withLookback).toContain(200n);
    expect(withLookback).toContain(12n);
  });

  it('takes a number as the lookback of an integer cursor', async () => {
    const ctx = ctxOf();
    const cfg = config({ CURSOR_LOOKBACK: 'seq=2' });
    const stream = await streamOf(ctx, cfg, 'seq');
    expect(ids(await readAll(ctx, cfg, stream, { mode: 'incremental', field: 'id', cursor: '7', pk: [] }))).toEqual([6n, 7n, 8n, 9n, 10n]);
  });

  it('reads nothing from a relation without cursor values', async () => {
    const ctx = ctxOf();
    const cfg = config();
    expect(await readAll(ctx, cfg, await streamOf(ctx, cfg, 'empty_inc'))).toEqual([]);
  });

  it('refuses a state of another cursor column with STATE.CORRUPT', async () => {
    const ctx = ctxOf();
    const cfg = config();
    const stream = await streamOf(ctx, cfg, 'events');
    const e = await failure(readAll(ctx, cfg, stream, { mode: 'incremental', field: 'created_at', cursor: '2024-01-01', pk: ['1'] }));
    expect(e.code).toBe('STATE.CORRUPT');
    expect(e.message).toContain('"created_at"');
  });
});

describe('incremental reads without a key', () => {
  it('checkpoints only after the last row of a group of equal cursors, so every resume reads exactly the rest', async () => {
    const ctx = ctxOf({ batchSize: 3 });
    const cfg = config();
    const stream = await streamOf(ctx, cfg, 'log');
    expect(stream.primaryKey).toBeUndefined();
    const batches = await readAll(ctx, cfg, stream);
    const msgs = rowsOf(batches).map((r) => r[1] as string);
    expect(msgs).toHaveLength(18);
    expect(new Set(msgs).size).toBe(18);
    expect(batches.every((b) => b.rows.length <= 3)).toBe(true);
    // the group of 7 spans batches that cannot be resume points
    expect(batches.some((b) => b.checkpoint === undefined)).toBe(true);
    let before: string[] = [];
    for (const b of batches) {
      before = [...before, ...b.rows.map((r) => r[1] as string)];
      if (b.checkpoint === undefined) continue;
      const rest = rowsOf(await readAll(ctx, cfg, stream, b.checkpoint)).map((r) => r[1] as string);
      expect([...before, ...rest].sort()).toEqual([...msgs].sort());
      // the checkpoint is the cursor of the batch's last row, and no later row shares it
      const cursor = parseTimestamp((b.checkpoint as { cursor: string }).cursor);
      expect(b.rows[b.rows.length - 1]![0]).toBe(cursor);
    }
  });
});
