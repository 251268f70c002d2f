import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, liveObjects, readBatches, runMemory, writeDefinition } from './helpers.js';
import { FIRST_ID } from './server/data.js';

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ customers: 12 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const offset = { type: 'offset', limit: 5, total_path: '$.total' };

describe('records', () => {
  it('keeps 64-bit ids beyond 2^53 and decimal text exactly', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', path: '/offset/customers', record_selector: '$.data', pagination: offset }] });
    const { reports, target } = await runMemory(configFor(def), ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 12 });
    const rows = liveObjects(target, 'customers');
    expect(rows[0]!.id).toBe(FIRST_ID);
    expect(rows[11]!.id).toBe(FIRST_ID + 11n);
    expect(rows[10]!.balance).toBe('10.10');
    expect(rows[0]!.balance).toBe('0.00');
    expect(rows[3]!.address).toBe('{"city":"City 3","geo":{"lat":52.520000,"lng":13.405}}');
    expect(rows[1]!.tags).toBe('["vip"]');
    expect(rows[0]!.active).toBe(false);
    expect(rows[1]!.name).toBe('customer 1 ✓');
  });

  it('infers column types from the values: int64, json for non-integers and nested values, boolean, string', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', path: '/offset/customers', record_selector: '$.data', pagination: offset }] });
    const { target } = await runMemory(configFor(def), ['customers']);
    const cols = target.live.get('rest/customers')!.columns.filter((c) => !c.name.startsWith('_bronze_'));
    expect(cols.map((c) => [c.name, c.type, c.sourceType])).toEqual([
      ['id', 'int64', 'json:integer'],
      ['name', 'string', 'json:string'],
      ['balance', 'json', 'json:number'],
      ['active', 'boolean', 'json:boolean'],
      ['updated_at', 'string', 'json:string'],
      ['address', 'json', 'json:object'],
      ['tags', 'json', 'json:array'],
      ['note', 'string', 'json:string'],
    ]);
  });

  it('adds a column for a field that only later records have and reports it', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', path: '/offset/customers', record_selector: '$.data', pagination: offset }] });
    const batches = await readBatches(configFor(def), 'customers', undefined, { logger: (await import('./helpers.js')).logger, signal: new AbortController().signal, batchSize: 5, runId: 'r' });
    expect(batches[0]!.columns?.map((c) => c.name)).not.toContain('note');
    const grown = batches.find((b) => b.columns?.some((c) => c.name === 'note'))!;
    expect(grown.columns!.slice(0, 7).map((c) => c.name)).toEqual(batches[0]!.columns!.map((c) => c.name));
    const { reports, target } = await runMemory(configFor(def), ['customers'], { batchSize: 5 });
    expect(reports[0]!.newColumns).toContain('note');
    const rows = liveObjects(target, 'customers');
    expect(rows[0]!.note).toBeNull();
    expect(rows[8]!.note).toBe('note 8');
  });

  it('puts a value that does not fit its column into a variant column, unaltered', async () => {
    server.inject('/offset/customers', { body: '{"data":[{"id":1,"v":5},{"id":"x-2","v":1.50},{"id":18446744073709551616,"v":true}],"total":3}', headers: { 'content-type': 'application/json' } });
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'odd', path: '/offset/customers', record_selector: '$.data' }] });
    const { target } = await runMemory(configFor(def), ['odd']);
    const rows = liveObjects(target, 'odd');
    expect(rows).toEqual([
      { id: 1n, v: 5n, id__v_json: null, v__v_json: null },
      { id: null, v: null, id__v_json: '"x-2"', v__v_json: '1.50' },
      { id: null, v: null, id__v_json: '18446744073709551616', v__v_json: 'true' },
    ]);
  });

  it('converts declared column types exactly and keeps misfits in variants', async () => {
    server.inject('/offset/customers', {
      body: '{"data":[{"at":"2024-05-01T10:00:00.123456Z","d":"2024-05-01","amt":"12.30","n":7},{"at":"2024-05-01 10:00:00","d":"May 1","amt":12.345,"n":8}]}',
      headers: { 'content-type': 'application/json' },
    });
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'typed', path: '/offset/customers', record_selector: '$.data', columns: { at: 'timestamptz', d: 'date', amt: 'decimal(10,2)', n: 'string' } }] });
    const { target } = await runMemory(configFor(def), ['typed']);
    const rows = liveObjects(target, 'typed');
    expect(rows[0]).toMatchObject({ at: 1714557600123456n, d: 19844, amt: '12.30', n: '7' });
    expect(rows[1]).toMatchObject({ at: null, at__v_json: '"2024-05-01 10:00:00"', d: null, d__v_json: '"May 1"', amt: null, amt__v_json: '12.345', n: '8' });
  });
});
