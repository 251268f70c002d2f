/**
 * Request shapes and stop conditions beyond the basic styles: POST bodies with paging and range
 * parameters in the body, page_number with a record total, stop_on_short_page, and windowed
 * incremental reads with a lookback and `end: now`.
 */
import { customerJson } from './server/data.js';
import { json, type Route } from './server/reply.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, liveObjects, readBatches, runMemory, writeDefinition } from './helpers.js';

let server: ApiServer;

/** Routes that read the JSON body, or return a record total: never cached. */
const extraRoutes = (): Route[] => [
  (req) => {
    if (req.path !== '/search/customers') return undefined;
    if (req.method !== 'POST') return { status: 405, ...json({ error: 'POST only' }) };
    const body = JSON.parse(req.body) as { filter?: { active?: boolean }; since?: string; offset?: string; limit?: string };
    const rows = server.customers.filter((c) => (body.filter?.active === undefined || c.active === body.filter.active) && (!body.since || c.updatedAt >= body.since));
    const offset = Number(body.offset ?? 0);
    return json({ hits: rows.slice(offset, offset + Number(body.limit ?? 10)).map(customerJson), total: rows.length });
  },
  (req) => {
    if (req.path !== '/pages-with-total/customers') return undefined;
    const [page, per] = [Number(req.query.get('page') ?? 1), Number(req.query.get('per_page') ?? 10)];
    return json({ items: server.customers.slice((page - 1) * per, page * per).map(customerJson), total: server.customers.length });
  },
];

beforeAll(async () => {
  server = await startApiServer({ customers: 25, routes: extraRoutes() });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const idsOf = (rows: unknown[][]): unknown[] => rows.map((r) => r[0]);

describe('POST requests', () => {
  it('sends the body with the paging and incremental parameters in it (in: body), nothing in the query', async () => {
    const def = writeDefinition({
      base_url: server.url,
      streams: [
        {
          name: 'search',
          path: '/search/customers',
          method: 'POST',
          body: { filter: { active: true }, sort: 'id' },
          record_selector: '$.hits',
          primary_key: 'id',
          pagination: { type: 'offset', limit: 4, total_path: '$.total', in: 'body' },
          incremental: { cursor_field: 'updated_at', cursor_param: 'since', in: 'body', start: '2024-01-01T00:03:00Z' },
        },
      ],
    });
    const rows = (await readBatches(configFor(def), 'search')).flatMap((b) => b.rows);
    const expected = server.customers.filter((c) => c.active && c.updatedAt >= '2024-01-01T00:03:00Z');
    expect(idsOf(rows)).toEqual(expected.map((c) => c.id));
    expect(server.requests.map((r) => r.method)).toEqual(server.requests.map(() => 'POST'));
    expect(server.requests.map((r) => r.headers['content-type'])).toEqual(server.requests.map(() => 'application/json'));
    const bodies = server.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(bodies.map((b) => b.offset)).toEqual(Array.from({ length: Math.ceil(expected.length / 4) }, (_, i) => String(i * 4)));
    for (const b of bodies) expect(b).toMatchObject({ filter: { active: true }, sort: 'id', limit: '4', since: '2024-01-01T00:03:00Z' });
    expect(server.requests.map((r) => [...r.query.keys()])).toEqual(server.requests.map(() => []));
  });
});

describe('stop conditions', () => {
  it('stops page_number pagination once total_path records are read, without requesting an empty page', async () => {
    const def = writeDefinition({
      base_url: server.url,
      streams: [{ name: 'c', path: '/pages-with-total/customers', record_selector: '$.items', pagination: { type: 'page_number', page_size: 10, page_size_param: 'per_page', total_path: '$.total' } }],
    });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(idsOf(rows)).toEqual(server.customers.map((c) => c.id));
    expect(server.requests.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
  });

  it.each([
    ['offset', { path: '/offset/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 10, stop_on_short_page: true } }, 'offset', ['0', '10', '20']],
    ['page_number', { path: '/page/customers', record_selector: '$.items', pagination: { type: 'page_number', page_size: 10, page_size_param: 'per_page', stop_on_short_page: true } }, 'page', ['1', '2', '3']],
  ])('stops %s pagination on a short page with stop_on_short_page', async (_style, stream, param, pages) => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', ...stream }] });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(rows).toHaveLength(25);
    expect(server.requests.map((r) => r.query.get(param))).toEqual(pages);
  });

  it('requests the empty page after a short one without stop_on_short_page', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/offset/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 10 } }] });
    await readBatches(configFor(def), 'c');
    expect(server.requests.map((r) => r.query.get('offset'))).toEqual(['0', '10', '20', '25']);
  });
});

describe('windowed incremental reads', () => {
  const windowed = (window: object, extra: object = {}) =>
    writeDefinition({
      base_url: server.url,
      streams: [{ name: 'events', path: '/windowed/events', primary_key: 'id', incremental: { cursor_field: 'ts', cursor_param: 'start', end_param: 'end', start: '2024-01-01T00:00:00Z', window, ...extra } }],
    });

  it('starts the next run lookback before the stored cursor, re-reading those records', async () => {
    const first = await runMemory(configFor(windowed({ step: 'P1D', end: '2024-01-05T00:00:00Z' })), ['events']);
    expect(first.reports[0]!.rows).toBe(16);
    server.reset();
    const second = await runMemory(configFor(windowed({ step: 'P1D', end: '2024-01-06T00:00:00Z' }, { lookback: 'PT12H' })), ['events'], { target: first.target });
    expect(server.requests.map((r) => [r.query.get('start'), r.query.get('end')])).toEqual([
      ['2024-01-04T12:00:00Z', '2024-01-05T12:00:00Z'],
      ['2024-01-05T12:00:00Z', '2024-01-06T00:00:00Z'],
    ]);
    // 04T12 and 04T18 again (duplicates by design), then the four events of the 5th
    expect(second.reports[0]!.rows).toBe(6);
    expect(first.target.states.get('rest')!.events!.kit).toMatchObject({ cursor: '2024-01-06T00:00:00Z' });
    expect(liveObjects(first.target, 'events').map((r) => r.id)).toEqual([...Array.from({ length: 16 }, (_, i) => BigInt(i + 1)), 15n, 16n, 17n, 18n, 19n, 20n]);
  });

  it('reads windows up to the time the run started with end: now, and stores that as the cursor', async () => {
    const before = Date.now();
    const { reports, target } = await runMemory(configFor(windowed({ step: 'P365D' }, { start: '2024-01-08T00:00:00Z' })), ['events']);
    const after = Date.now();
    expect(reports[0]!.rows).toBe(12); // events 29..40: 2024-01-08 00:00 to 2024-01-10 18:00
    const ends = server.requests.map((r) => r.query.get('end')!);
    expect(server.requests[0]!.query.get('start')).toBe('2024-01-08T00:00:00Z');
    const lastEnd = Date.parse(ends[ends.length - 1]!);
    expect(lastEnd).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(lastEnd).toBeLessThanOrEqual(after);
    const cursor = (target.states.get('rest')!.events!.kit as { cursor: string }).cursor;
    expect(Date.parse(cursor)).toBe(lastEnd);
  });
});
