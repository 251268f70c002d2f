/**
 * `--partition i/n` through the built CLI (what an Indexed Job's pods run): the pods of one split land
 * disjoint, complete key ranges, each into its own bronze output (`orders/partition=0of3/`,
 * `bronze.br_orders__p0of3`) under its own state key (`orders#0/3`), so together they hold every
 * source row exactly once; a re-run of every pod after new rows arrive (incremental) appends only the
 * new rows, each to exactly one partition.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDatabase, expectExactKeys, expectExit, readParquet, readWarehouse, spawnCli, testDatabaseName } from '@datakit/testkit';
import { query, testDb, type TestDb } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const N = 3;

const SETUP = `
CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, note text);
-- keys with gaps and a negative start, so ranges cannot be guessed from the row count
INSERT INTO orders SELECT i * 3 - 500, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', 'order ' || i
  FROM generate_series(1, 4000) AS i;
`;

let db: TestDb;
beforeAll(async () => {
  db = await testDb('clipart', SETUP);
});

const sourceIds = async (): Promise<string[]> => (await query<{ id: string }>(db.url, 'SELECT id::text AS id FROM orders')).map((r) => r.id);

async function runAll(target: Record<string, string>): Promise<number[]> {
  const rows: number[] = [];
  for (let i = 0; i < N; i++) {
    const r = await spawnCli(MAIN, ['run', 'orders', '--partition', `${i}/${N}`], { SOURCE_DATABASE_URL: db.url, CURSOR_FIELDS: 'orders=updated_at', ...target }).done;
    expectExit(r, 0);
    rows.push((r.json as { rows: number }).rows);
  }
  return rows;
}

describe.each([
  ['Parquet', async () => ({ BRONZE_URL: pathToFileURL(mkdtempSync(join(tmpdir(), 'dk-clipart-'))).href })],
  ['the warehouse', async () => ({ BRONZE_URL: await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('clipart_wh')) })],
] as const)('--partition i/n into %s', (kind, makeTarget) => {
  let target: Record<string, string>;
  const idsOf = async (i: number): Promise<string[]> => {
    const url = target.BRONZE_URL!;
    const back = url.startsWith('file:')
      ? await readParquet(join(new URL(url).pathname, 'postgres', 'orders', `partition=${i}of${N}`), { columns: ['id'] })
      : await readWarehouse(url, `br_orders__p${i}of${N}`, { columns: ['id'] });
    return back.rows.map((r) => String(r.id));
  };
  const allIds = async (): Promise<string[][]> => Promise.all(Array.from({ length: N }, (_, i) => idsOf(i)));

  beforeAll(async () => {
    target = await makeTarget();
  });

  it(`lands every source row in exactly one partition's output (${kind})`, async () => {
    const rows = await runAll(target);
    const parts = await allIds();
    expect(rows).toEqual(parts.map((p) => p.length));
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expectExactKeys(await sourceIds(), parts.flat());
  }, 120_000);

  it(`appends new rows on the next runs of every partition, each once (${kind})`, async () => {
    await db.sql(`INSERT INTO orders SELECT 20000 + i, timestamptz '2025-01-01 00:00:00+00' + i * interval '1 second', 'late ' || i FROM generate_series(1, 300) AS i`);
    const rows = await runAll(target);
    expect(rows.reduce((a, b) => a + b, 0)).toBe(300);
    expectExactKeys(await sourceIds(), (await allIds()).flat());
    await db.sql('DELETE FROM orders WHERE id > 20000');
  }, 120_000);
});
