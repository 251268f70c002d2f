import type { Batch, StreamState } from '@datakit/core';
import type { PostgresKitConfig } from '../src/config.js';
import { configOf, ctxOf, readAll, rowsOf, streamOf, testDb, type TestDb } from './support.js';

const SETUP = `
-- an integer key with gaps and negative values
CREATE TABLE ints (id bigint PRIMARY KEY, v text);
INSERT INTO ints SELECT i * 7 - 300, 'v' || i FROM generate_series(1, 500) AS i;
-- a composite text key
CREATE TABLE pairs (a text, b int, PRIMARY KEY (a, b));
INSERT INTO pairs SELECT 'k' || (i % 37), i FROM generate_series(1, 400) AS i;
-- no key, with duplicate rows
CREATE TABLE dups (x int, y text);
INSERT INTO dups SELECT i % 11, 'same' FROM generate_series(1, 300) AS i;
CREATE TABLE nothing (id int PRIMARY KEY);
CREATE TABLE upd (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO upd SELECT i, timestamptz '2024-01-01 00:00:00+00' + (i / 10) * interval '1 second' FROM generate_series(1, 200) AS i;
`;

let db: TestDb;
beforeAll(async () => {
  db = await testDb('pgpart', SETUP);
});

const COUNT = 3;
const config = (extra: Record<string, string> = {}) => configOf({ SOURCE_DATABASE_URL: db.url, SOURCE_CHUNK_ROWS: '13', CURSOR_FIELDS: 'upd=at', ...extra });

/** Read each of `COUNT` partitions; return the batches of each. */
async function partitions(name: string, cfg: PostgresKitConfig): Promise<Batch[][]> {
  const out: Batch[][] = [];
  for (let index = 0; index < COUNT; index++) {
    const ctx = ctxOf({ batchSize: 10, partition: { index, count: COUNT } });
    out.push(await readAll(ctx, cfg, await streamOf(ctx, cfg, name)));
  }
  return out;
}

const keyOf = (row: unknown[]): string => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Every row of the relation lands in exactly one partition. */
async function expectDisjointAndComplete(name: string, parts: Batch[][]): Promise<void> {
  const whole = rowsOf(await readAll(ctxOf(), config(), await streamOf(ctxOf(), config(), name))).map(keyOf).sort();
  const union = parts.flatMap((p) => rowsOf(p).map(keyOf)).sort();
  expect(union).toEqual(whole);
  expect(whole.length).toBeGreaterThan(0);
  expect(parts.filter((p) => rowsOf(p).length > 0).length).toBe(COUNT);
}

describe('--partition i/n', () => {
  it('splits a single integer key into ranges: disjoint, complete, each range stored in its checkpoints', async () => {
    const parts = await partitions('ints', config());
    await expectDisjointAndComplete('ints', parts);
    const specs = parts.map((p) => (p[0]!.checkpoint as { partition: unknown }).partition);
    // ids -293 … 3200: a span of 3494 cut in thirds, the outer ranges open
    expect(specs).toEqual([
      { by: 'range', lo: null, hi: '871' },
      { by: 'range', lo: '871', hi: '2036' },
      { by: 'range', lo: '2036', hi: null },
    ]);
  });

  it('keeps the stored range on resume even when the key span has grown since', async () => {
    const cfg = config();
    const ctx = ctxOf({ batchSize: 10, partition: { index: 1, count: COUNT } });
    const stream = await streamOf(ctx, cfg, 'ints');
    const first = await readAll(ctx, cfg, stream);
    const mid = first[3]!;
    const done = rowsOf(first.slice(0, 4)).map((r) => r[0]);
    await db.sql(`INSERT INTO ints SELECT i, 'grown' FROM generate_series(100000, 100050) AS i`);
    try {
      const rest = rowsOf(await readAll(ctx, cfg, stream, mid.checkpoint as StreamState)).map((r) => r[0]);
      expect([...done, ...rest]).toEqual(rowsOf(first).map((r) => r[0]));
    } finally {
      await db.sql('DELETE FROM ints WHERE id >= 100000');
    }
  });

  it('hashes a composite key: disjoint and complete', async () => {
    const parts = await partitions('pairs', config());
    await expectDisjointAndComplete('pairs', parts);
    expect((parts[0]![0]!.checkpoint as { partition: unknown }).partition).toEqual({ by: 'hash' });
  });

  it('hashes whole rows without a key: duplicates stay together, nothing lost or doubled', async () => {
    const parts = await partitions('dups', config());
    await expectDisjointAndComplete('dups', parts);
  });

  it('hashes an integer key when SOURCE_PARTITION_BY=hash', async () => {
    const cfg = config({ SOURCE_PARTITION_BY: 'hash' });
    const parts = await partitions('ints', cfg);
    await expectDisjointAndComplete('ints', parts);
    expect((parts[0]![0]!.checkpoint as { partition: unknown }).partition).toEqual({ by: 'hash' });
  });

  it('hashes incremental streams, whose state each partition keeps across runs', async () => {
    const parts = await partitions('upd', config());
    await expectDisjointAndComplete('upd', parts);
  });

  it('gives an empty relation to partition 0 and reads nothing elsewhere', async () => {
    const parts = await partitions('nothing', config());
    expect(parts.map((p) => p.length)).toEqual([0, 0, 0]);
  });
});
