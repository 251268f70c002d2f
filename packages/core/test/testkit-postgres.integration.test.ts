import pg from 'pg';
import { createDatabase, testDatabaseName } from '@datakit/testkit';

describe('testkit postgres service', () => {
  it('serves a fresh database per test file on 127.0.0.1', async () => {
    const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('smoke'));
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const r = await c.query('select version() as v, current_setting($1) as e', ['server_encoding']);
    await c.end();
    expect(r.rows[0].e).toBe('UTF8');
  });
});
