/**
 * The built CLI (`dist/main.js`, what the image runs) against the test API and a real warehouse:
 * kill -9 and SIGTERM mid-stream, then resume — nothing lost, nothing doubled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { startApiServer, type ApiServer } from './server/server.js';
import { writeDefinition } from './helpers.js';

const MAIN = join(__dirname, '../dist/main.js');
const CUSTOMERS = 120;
let server: ApiServer;
let warehouse: string;

beforeEach(async () => {
  server = await startApiServer({ customers: CUSTOMERS });
  server.inject('/offset/customers', { delayMs: 60 }, 10_000);
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('rest_e2e'));
});
afterEach(() => server.close());

function definition(): string {
  return writeDefinition({
    base_url: server.url,
    streams: [
      {
        name: 'customers',
        path: '/offset/customers',
        record_selector: '$.data',
        primary_key: 'id',
        pagination: { type: 'offset', limit: 5, total_path: '$.total' },
        columns: { id: 'int64', name: 'string', balance: 'decimal(12,2)', active: 'boolean', updated_at: 'timestamptz', address: 'json', tags: 'json', note: 'string' },
      },
    ],
  });
}

function start(def: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> } {
  const child = spawn(process.execPath, [MAIN, 'run', 'customers'], {
    env: { ...process.env, REST_CONFIG: def, BRONZE_URL: warehouse, BATCH_SIZE: '10', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

async function waitForRequests(n: number): Promise<void> {
  while (server.requests.length < n) await new Promise((r) => setTimeout(r, 20));
}

async function ids(): Promise<string[]> {
  const client = new pg.Client({ connectionString: warehouse });
  await client.connect();
  try {
    return (await client.query<{ id: string }>('SELECT id::text FROM bronze.br_customers ORDER BY id')).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

describe('built CLI', () => {
  it('resumes after kill -9 mid-stream without losing or doubling rows', async () => {
    const def = definition();
    const first = start(def);
    await waitForRequests(9);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const before = server.requests.length;
    const second = start(def);
    const result = await second.done;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ status: 'succeeded' });
    const got = await ids();
    expect(got).toHaveLength(CUSTOMERS);
    expect(new Set(got).size).toBe(CUSTOMERS);
    // the second run did not start over: it asked for fewer pages than a full read
    expect(server.requests.length - before).toBeLessThan(CUSTOMERS / 5);
  });

  it('stops on SIGTERM with exit 143 and the rows read stored, then resumes', async () => {
    const def = definition();
    const first = start(def);
    await waitForRequests(7);
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code).toBe(143);
    expect(JSON.parse(stopped.out)).toMatchObject({ status: 'interrupted' });
    const second = await start(def).done;
    expect(second.code).toBe(0);
    const got = await ids();
    expect(got).toHaveLength(CUSTOMERS);
    expect(new Set(got).size).toBe(CUSTOMERS);
  });
});
