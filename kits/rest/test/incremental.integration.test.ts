import { makeCustomers, minutesAfterBase, FIRST_ID } from './server/data.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, context, liveObjects, readBatches, runMemory, writeDefinition } from './helpers.js';

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 12, events: 40 });
});
afterEach(() => server.close());

const customersStream = (extra: object = {}) => ({
  name: 'customers',
  path: '/incremental/customers',
  record_selector: '$.data',
  primary_key: 'id',
  pagination: { type: 'offset', limit: 5, total_path: '$.total' },
  incremental: { cursor_field: 'updated_at', cursor_param: 'since', start: '2024-01-01T00:00:00Z', ...extra },
});

describe('incremental', () => {
  it('sends the stored cursor on the next run and neither loses nor doubles records tied at it', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, streams: [customersStream()] }));
    const first = await runMemory(config, ['customers']);
    expect(first.reports[0]).toMatchObject({ status: 'succeeded', rows: 12 });
    expect(first.target.states.get('rest')!.customers!.kit).toMatchObject({ cursor: minutesAfterBase(5), keys: [String(FIRST_ID + 10n), String(FIRST_ID + 11n)] });

    server.reset();
    const second = await runMemory(config, ['customers'], { target: first.target });
    expect(second.reports[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(server.requests[0]!.query.get('since')).toBe(minutesAfterBase(5));

    const [late, later] = makeCustomers(14).slice(12);
    server.customers.push({ ...late!, updatedAt: minutesAfterBase(5) }, { ...later!, updatedAt: minutesAfterBase(9) });
    server.dataChanged();
    const third = await runMemory(config, ['customers'], { target: first.target });
    expect(third.reports[0]).toMatchObject({ rows: 2 });
    const ids = liveObjects(first.target, 'customers').map((r) => r.id);
    expect(ids).toHaveLength(14);
    expect(new Set(ids).size).toBe(14);
    expect(first.target.states.get('rest')!.customers!.kit).toMatchObject({ cursor: minutesAfterBase(9), keys: [String(FIRST_ID + 13n)] });
  });

  it('re-reads the lookback window behind the cursor', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, streams: [customersStream({ lookback: 'PT2M' })] }));
    const { target } = await runMemory(config, ['customers']);
    server.reset();
    const again = await runMemory(config, ['customers'], { target });
    expect(server.requests[0]!.query.get('since')).toBe(minutesAfterBase(3));
    expect(again.reports[0]!.rows).toBe(4); // minutes 3 and 4, two customers each (minute 5 is the deduplicated boundary)
  });

  it('reads date windows and advances the cursor to the end of the last window', async () => {
    const windowed = (end: string) => ({
      base_url: server.url,
      streams: [{ name: 'events', path: '/windowed/events', primary_key: 'id', incremental: { cursor_field: 'ts', cursor_param: 'start', end_param: 'end', start: '2024-01-01T00:00:00Z', window: { step: 'P1D', end } } }],
    });
    const first = await runMemory(configFor(writeDefinition(windowed('2024-01-05T00:00:00Z'))), ['events']);
    expect(first.reports[0]!.rows).toBe(16);
    expect(server.requests.map((r) => r.query.get('start'))).toEqual(['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z']);
    expect(first.target.states.get('rest')!.events!.kit).toMatchObject({ cursor: '2024-01-05T00:00:00Z' });
    const second = await runMemory(configFor(writeDefinition(windowed('2024-01-08T00:00:00Z'))), ['events'], { target: first.target });
    expect(second.reports[0]!.rows).toBe(12);
    const ids = liveObjects(first.target, 'events').map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 28 }, (_, i) => BigInt(i + 1)));
  });
});

describe('parent and child streams', () => {
  const definition = () => ({
    base_url: server.url,
    streams: [
      { name: 'customers', path: '/offset/customers', record_selector: '$.data', primary_key: 'id', pagination: { type: 'offset', limit: 5, total_path: '$.total' } },
      {
        name: 'orders',
        path: '/customers/{customer.id}/orders',
        record_selector: '$.orders',
        primary_key: 'order_id',
        pagination: { type: 'page_number' },
        parent: { stream: 'customers', as: 'customer', include_fields: ['id'] },
        incremental: { cursor_field: 'placed_at', filter: true },
      },
    ],
  });

  it('fills path placeholders from each parent record and keeps a cursor per parent', async () => {
    const config = configFor(writeDefinition(definition()));
    const { reports, target } = await runMemory(config, ['orders']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 24 });
    const rows = liveObjects(target, 'orders');
    expect(rows[0]).toMatchObject({ order_id: '0-0', customer_id: FIRST_ID, _customer_id: FIRST_ID, amount: '10.00' });
    const kit = target.states.get('rest')!.orders!.kit as { parents: Record<string, { cursor: string }>; pass?: string; progress?: unknown };
    expect(Object.keys(kit.parents)).toHaveLength(12);
    expect(kit.parents[String(FIRST_ID + 2n)]).toEqual({ cursor: minutesAfterBase(22), keys: ['2-2'] });
    expect(kit.pass).toBeUndefined();
    expect(kit.progress).toBeUndefined();

    const again = await runMemory(config, ['orders'], { target });
    expect(again.reports[0]).toMatchObject({ status: 'succeeded', rows: 0 });
  });

  it('splits parents across --partition i/n without overlap', async () => {
    const config = configFor(writeDefinition(definition()));
    const seen: unknown[] = [];
    for (let index = 0; index < 3; index++) {
      const batches = await readBatches(config, 'orders', undefined, context({ partition: { index, count: 3 } }));
      seen.push(...batches.flatMap((b) => b.rows.map((r) => r[0])));
    }
    expect(seen).toHaveLength(24);
    expect(new Set(seen).size).toBe(24);
  });
});
