import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatakitError } from '@datakit/core';
import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, liveObjects, readBatches, runMemory, writeDefinition } from './helpers.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as T;
const types = fixture<{ cases: { literal: string; type: string; value: unknown }[] }>('types.json');
const expected = (v: unknown): unknown => (v && typeof v === 'object' && 'bigint' in v ? BigInt((v as { bigint: string }).bigint) : v);

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer();
});
afterAll(() => server.close());
const stream = () => writeDefinition({ base_url: server.url, streams: [{ name: 't', path: '/offset/customers' }] });

describe('fixtures', () => {
  it.each(types.cases.map((c) => [c.literal, c]))('reads %s exactly, and null as null', async (_l, c) => {
    server.inject('/offset/customers', { headers: { 'content-type': 'application/json' }, body: `[{"v":${c.literal}},{"v":null}]` });
    const { target } = await runMemory(configFor(stream()), ['t']);
    const gen = target.live.get('rest/t')!;
    expect(gen.columns[0]).toMatchObject({ name: 'v', type: c.type });
    expect(liveObjects(target, 't')).toEqual([{ v: expected(c.value) }, { v: null }]);
  });

  it('keeps hostile field names as column names', async () => {
    const { record } = fixture<{ record: Record<string, unknown> }>('hostile-names.json');
    server.inject('/offset/customers', { headers: { 'content-type': 'application/json' }, body: JSON.stringify([record, record]) });
    const { target } = await runMemory(configFor(stream()), ['t']);
    const names = target.live.get('rest/t')!.columns.map((c) => c.name).filter((n) => !n.startsWith('_bronze_'));
    expect(names).toEqual(Object.keys(record).filter((k) => record[k] !== null));
  });

  it('rejects the invalid definition fixture with CONFIG.INVALID', async () => {
    const path = join(__dirname, 'fixtures', 'invalid-definition.json');
    await expect(readBatches(configFor(path), 'orders')).rejects.toMatchObject({ code: 'CONFIG.INVALID' });
  });

  it('rejects the corrupt state fixture with STATE.CORRUPT naming the fix', async () => {
    const state = fixture<unknown>('corrupt-state.json');
    const err = await readBatches(configFor(stream()), 't', state).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatakitError);
    expect(err).toMatchObject({ code: 'STATE.CORRUPT', fix: 'reset it with `run --state-reset t`' });
  });
});
