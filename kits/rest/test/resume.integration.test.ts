import { startApiServer, type ApiServer } from './server/server.js';
import { CrashingTarget } from './crash-target.js';
import { configFor, context, liveObjects, runMemory, writeDefinition } from './helpers.js';
import { restKit } from '@datakit/kit-rest';

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 25 });
});
afterEach(() => server.close());

const styles: Record<string, object> = {
  offset: { path: '/offset/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 5 } },
  page_number: { path: '/page/customers', params: { per_page: 5 }, record_selector: '$.items', pagination: { type: 'page_number' } },
  cursor: { path: '/cursor/customers', params: { limit: 5 }, record_selector: '$.data', pagination: { type: 'cursor', cursor_param: 'cursor', cursor_path: '$.meta.next_cursor' } },
  stripe: { path: '/stripe/customers', params: { limit: 5 }, record_selector: '$.data', pagination: { type: 'cursor', cursor_param: 'starting_after', cursor_from_last_record: 'id', has_more_path: '$.has_more' } },
  next_url: { path: '/next-url/customers', params: { per_page: 5 }, record_selector: '$.results', pagination: { type: 'next_url', next_url_path: '$.links.next' } },
  link_header: { path: '/link/customers', params: { per_page: 5 }, pagination: { type: 'link_header' } },
  header_token: { path: '/header/customers', params: { per_page: 5 }, pagination: { type: 'header_token', header: 'X-Next-Page-Token', cursor_param: 'page_token' } },
  incremental: { path: '/incremental/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 5 }, incremental: { cursor_field: 'updated_at', cursor_param: 'since', start: '2024-01-01T00:00:00Z' } },
};

describe('resume', () => {
  it.each(Object.keys(styles))('resumes %s pagination after kill -9 mid-stream without losing or doubling records', async (style) => {
    const config = configFor(writeDefinition({ base_url: server.url, streams: [{ name: 'customers', primary_key: 'id', ...styles[style]! }] }));
    const target = new CrashingTarget();
    target.crashAfterWrites = 2;
    const crashed = await runMemory(config, ['customers'], { target, batchSize: 5 });
    expect(crashed.reports[0]!.status).toBe('failed');
    const requestsBefore = server.requests.length;
    target.crashAfterWrites = Infinity;
    const resumed = await runMemory(config, ['customers'], { target, batchSize: 5 });
    expect(resumed.reports[0]).toMatchObject({ status: 'succeeded' });
    expect(liveObjects(target, 'customers').map((r) => r.id)).toEqual(server.customers.map((c) => c.id));
    // the resumed run started at page 3, not page 1
    expect(server.requests.length - requestsBefore).toBeLessThanOrEqual(4);
  });

  it('resumes a child stream mid-pass, skipping parents already done', async () => {
    const config = configFor(
      writeDefinition({
        base_url: server.url,
        streams: [
          { name: 'customers', path: '/offset/customers', record_selector: '$.data', primary_key: 'id', pagination: { type: 'offset', limit: 10 } },
          { name: 'orders', path: '/customers/{parent.id}/orders', record_selector: '$.orders', primary_key: 'order_id', pagination: { type: 'page_number' }, parent: { stream: 'customers' } },
        ],
      }),
    );
    const target = new CrashingTarget();
    target.crashAfterWrites = 7;
    await runMemory(config, ['orders'], { target, batchSize: 2 });
    const kit = target.states.get('rest')!.orders!.kit as { pass?: string; parents?: object };
    expect(kit.pass).toBeDefined();
    target.crashAfterWrites = Infinity;
    const ordersBefore = server.requests.filter((r) => r.path.includes('/orders')).length;
    const { reports } = await runMemory(config, ['orders'], { target, batchSize: 2 });
    expect(reports[0]!.status).toBe('succeeded');
    const ids = liveObjects(target, 'orders').map((r) => r.order_id);
    const expected = server.customers.reduce((n, c) => n + 1 + (c.index % 3), 0);
    expect(ids).toHaveLength(expected);
    expect(new Set(ids).size).toBe(expected);
    const ordersAfter = server.requests.filter((r) => r.path.includes('/orders')).length - ordersBefore;
    // a full pass asks each customer for 2 or 3 pages (the last one empty); a resume repeats at most
    // the pages fetched ahead of the crash (2 per partition buffer)
    const fullPass = server.customers.reduce((n, c) => n + (c.index % 3 === 2 ? 3 : 2), 0);
    expect(ordersBefore + ordersAfter).toBeLessThanOrEqual(fullPass + 3);
  });

  it('resumes date windows at the window it stopped in', async () => {
    const config = configFor(
      writeDefinition({
        base_url: server.url,
        streams: [{ name: 'events', path: '/windowed/events', primary_key: 'id', incremental: { cursor_field: 'ts', cursor_param: 'start', end_param: 'end', start: '2024-01-01T00:00:00Z', window: { step: 'P1D', end: '2024-01-06T00:00:00Z' } } }],
      }),
    );
    const target = new CrashingTarget();
    target.crashAfterWrites = 2;
    await runMemory(config, ['events'], { target, batchSize: 4 });
    expect(target.states.get('rest')!.events!.kit).toMatchObject({ progress: { until: '2024-01-06T00:00:00Z', window: '2024-01-03T00:00:00Z' } });
    server.reset();
    target.crashAfterWrites = Infinity;
    await runMemory(config, ['events'], { target, batchSize: 4 });
    expect(server.requests.map((r) => r.query.get('start'))).toEqual(['2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z', '2024-01-05T00:00:00Z']);
    expect(liveObjects(target, 'events').map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    expect(target.states.get('rest')!.events!.kit).toEqual({ v: 1, cursor: '2024-01-06T00:00:00Z', columns: [['id', 'int64', 'json:integer'], ['ts', 'string', 'json:string']] });
  });

  it('stops on abort with the pages read stored, then resumes where it stopped', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, streams: [{ name: 'customers', primary_key: 'id', ...styles.cursor! }] }));
    const controller = new AbortController();
    const target = new CrashingTarget();
    // the abort arrives while the 2nd page is in flight
    let n = 0;
    server.inject('/cursor/customers', { effect: () => void (++n === 2 && controller.abort('SIGTERM')), delayMs: 50 }, 10);
    const first = await runMemory(config, ['customers'], { target, batchSize: 5, signal: controller.signal });
    expect(first.reports[0]!.status).toBe('interrupted');
    const stored = target.states.get('rest')!.customers!;
    expect(stored.kit).toMatchObject({ progress: { page: { token: expect.any(String) } } });
    const second = await runMemory(config, ['customers'], { target, batchSize: 5 });
    expect(second.reports[0]!.status).toBe('succeeded');
    expect(liveObjects(target, 'customers').map((r) => r.id)).toEqual(server.customers.map((c) => c.id));
  });

  it('stops the parallel child fetches and leaves no connection open after an early break', async () => {
    server.inject('/customers/', { delayMs: 30 }, 1000);
    const config = configFor(
      writeDefinition({
        base_url: server.url,
        rate_limit: { concurrency: 4 },
        streams: [
          { name: 'customers', path: '/offset/customers', record_selector: '$.data', primary_key: 'id', pagination: { type: 'offset', limit: 10 } },
          { name: 'orders', path: '/customers/{parent.id}/orders', record_selector: '$.orders', pagination: { type: 'page_number' }, parent: { stream: 'customers' } },
        ],
      }),
    );
    const ctx = context({ batchSize: 2 });
    const stream = (await restKit.discover(ctx, config)).find((s) => s.name === 'orders')!;
    for await (const batch of restKit.read(ctx, config, stream, undefined)) {
      expect(batch.rows.length).toBeGreaterThan(0);
      break;
    }
    const seen = server.requests.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(server.requests.length).toBe(seen);
    expect(await server.connections()).toBe(0);
  });

  it('leaves no connection open after an early break', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, streams: [{ name: 'customers', ...styles.offset! }] }));
    const ctx = context({ batchSize: 5 });
    const [stream] = await restKit.discover(ctx, config);
    for await (const batch of restKit.read(ctx, config, stream!, undefined)) {
      expect(batch.rows).toHaveLength(5);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(await server.connections()).toBe(0);
  });
});
