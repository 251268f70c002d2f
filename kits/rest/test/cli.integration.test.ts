import pg from 'pg';
import { runCli } from '@datakit/core';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { restKit } from '@datakit/kit-rest';
import { FIRST_ID } from './server/data.js';
import { CREDENTIALS } from './server/routes-auth.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { logger, writeDefinition } from './helpers.js';

let server: ApiServer;
let warehouse: string;
beforeAll(async () => {
  server = await startApiServer({ customers: 30 });
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('rest_cli'));
});
afterAll(() => server.close());

const definition = () =>
  writeDefinition({
    base_url: server.url,
    auth: { type: 'oauth2_client_credentials', token_url: '/oauth/token' },
    streams: [
      {
        name: 'customers',
        path: '/secure/incremental/customers',
        record_selector: '$.data',
        primary_key: 'id',
        pagination: { type: 'offset', limit: 10, total_path: '$.total' },
        incremental: { cursor_field: 'updated_at', cursor_param: 'since', start: '2024-01-01T00:00:00Z' },
        // declared for exact warehouse types (inferred, balance would be json and updated_at text);
        // columns that appear mid-run are added either way (new-columns.integration.test.ts)
        columns: { id: 'int64', name: 'string', balance: 'decimal(12,2)', active: 'boolean', updated_at: 'timestamptz', address: 'json', tags: 'json', note: 'string' },
      },
    ],
  });

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: Record<string, unknown> }> {
  let text = '';
  const code = await runCli(restKit, args, { env: { BRONZE_URL: warehouse, REST_CLIENT_ID: CREDENTIALS.clientId, ...env }, stdout: (s) => (text += s), logger });
  return { code, out: JSON.parse(text) as Record<string, unknown> };
}

async function query<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: warehouse });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('rest kit CLI', () => {
  it('prints the settings with REST_CONFIG and the secrets marked', async () => {
    const { code, out } = await cli(['spec'], {});
    expect(code).toBe(0);
    const props = (out.config as { properties: Record<string, { 'x-env'?: string[]; writeOnly?: boolean }> }).properties;
    expect(props.definition!['x-env']).toEqual(['REST_CONFIG']);
    expect(props.clientSecret!.writeOnly).toBe(true);
  });

  it('checks the source and exits 3 with a redacted message on bad credentials', async () => {
    const def = definition();
    expect((await cli(['check'], { REST_CONFIG: def, REST_CLIENT_SECRET: CREDENTIALS.clientSecret })).code).toBe(0);
    const bad = await cli(['check'], { REST_CONFIG: def, REST_CLIENT_SECRET: 'not-the-secret' });
    expect(bad.code).toBe(3);
    expect(JSON.stringify(bad.out)).toContain('invalid_client');
    expect(JSON.stringify(bad.out)).not.toContain('not-the-secret');
  });

  it('exits 2 naming the offending key of an invalid definition', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'a', path: '/a', pagination: { type: 'offset' } }] });
    const { code, out } = await cli(['discover'], { REST_CONFIG: def });
    expect(code).toBe(2);
    expect((out.error as { message: string }).message).toContain('streams.a.pagination.limit');
  });

  it('runs into the warehouse exactly, then incrementally', async () => {
    const env = { REST_CONFIG: definition(), REST_CLIENT_SECRET: CREDENTIALS.clientSecret };
    const first = await cli(['run'], env);
    expect(first.code).toBe(0);
    expect(first.out).toMatchObject({ status: 'succeeded', rows: 30 });
    const rows = await query<{ id: string; balance: string; address: string; updated_at: string }>(
      "SELECT id::text, balance::text, address::text, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS updated_at FROM bronze.br_customers ORDER BY id",
    );
    expect(rows).toHaveLength(30);
    expect(rows[0]!.id).toBe(FIRST_ID.toString());
    expect(rows[29]!.id).toBe((FIRST_ID + 29n).toString());
    expect(rows[10]!.balance).toBe('10.10');
    expect(rows[3]!.address).toContain('52.520000');
    expect(rows[3]!.updated_at).toBe('2024-01-01 00:01:00');
    const again = await cli(['run'], env);
    expect(again.out).toMatchObject({ status: 'succeeded', rows: 0 });
    const state = await cli(['state', 'show', 'customers'], env);
    expect(JSON.stringify(state.out)).toContain('"cursor":"2024-01-01T00:14:00Z"');
  });

  it('exits 4 on a malformed page and keeps the stored state', async () => {
    const env = { REST_CONFIG: definition(), REST_CLIENT_SECRET: CREDENTIALS.clientSecret };
    const before = await cli(['state', 'show'], env);
    server.inject('/secure/incremental/customers', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":[' }, 1);
    const { code, out } = await cli(['run'], env);
    expect(code).toBe(4);
    expect(JSON.stringify(out)).toContain('malformed JSON');
    expect((await cli(['state', 'show'], env)).out).toEqual(before.out);
  });
});
