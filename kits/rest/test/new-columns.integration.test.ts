/**
 * A field that appears only in later records becomes a new column — never dropped — and the run
 * report lists it: the built CLI (dist/main.js) into local Parquet (read back with DuckDB) and into
 * the Postgres warehouse (the table gains the column mid-run).
 */
import { join } from 'node:path';
import { bronzeStreamName, warehouseTableName } from '@datakit/core';
import { createDatabase, readParquet, readWarehouse, spawnCli, testDatabaseName, type ReadBack } from '@datakit/testkit';
import { FIRST_ID } from './server/data.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { tempDir, writeDefinition } from './helpers.js';

const MAIN = join(__dirname, '../dist/main.js');

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ customers: 20 });
});
afterAll(() => server.close());

// `note` first has a value in customer 8, in the second batch (BATCH_SIZE 5)
const DECLARED = { id: 'int64', name: 'string', balance: 'decimal(12,2)', active: 'boolean', updated_at: 'timestamptz', address: 'json', tags: 'json' };
const definition = (columns?: object) =>
  writeDefinition({
    base_url: server.url,
    streams: [{ name: 'customers', path: '/offset/customers', record_selector: '$.data', primary_key: 'id', pagination: { type: 'offset', limit: 5, total_path: '$.total' }, ...(columns ? { columns } : {}) }],
  });
const ALL = ['id', 'name', 'balance', 'active', 'updated_at', 'address', 'tags', 'note'];

/** What the server's customer `i` has in `note`: absent before 7, null on odd ones. */
const noteOf = (i: number): string | null => (i >= 7 && i % 2 === 0 ? `note ${i}` : null);

async function landAndRead(bronze: { env: Record<string, string>; read: () => Promise<ReadBack> }, declared: boolean): Promise<void> {
  const r = await spawnCli(MAIN, ['run', 'customers'], { REST_CONFIG: definition(declared ? DECLARED : undefined), BATCH_SIZE: '5', LOG_LEVEL: 'warn', ...bronze.env }).done;
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(r.stdout) as { status: string; rows: number; streams: { newColumns?: string[] }[] };
  expect(report).toMatchObject({ status: 'succeeded', rows: 20 });
  // undeclared columns are new to the catalog, in order of first appearance: `note` last
  expect(report.streams[0]!.newColumns).toEqual(declared ? ['note'] : ALL);
  const got = await bronze.read();
  expect(got.columns.map((c) => c.name).filter((n) => !n.startsWith('_bronze_'))).toEqual(ALL);
  const notes = Object.fromEntries(got.rows.map((row) => [String(row.id), row.note]));
  expect(notes).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [(FIRST_ID + BigInt(i)).toString(), noteOf(i)])));
}

describe.each([
  ['every column inferred', false],
  ['the first fields declared', true],
])('a field that appears only in later records (%s)', (_label, declared) => {
  it('becomes a new column of the Parquet stream, listed in the run report', async () => {
    const root = tempDir();
    await landAndRead({ env: { BRONZE_URL: `file://${root}` }, read: () => readParquet(join(root, 'rest', bronzeStreamName('customers'))) }, declared);
  });

  it('becomes a new column of the warehouse table, added mid-run and listed in the run report', async () => {
    const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('rest_newcol'));
    await landAndRead({ env: { BRONZE_URL: url }, read: () => readWarehouse(url, warehouseTableName(bronzeStreamName('customers'))) }, declared);
  });
});
