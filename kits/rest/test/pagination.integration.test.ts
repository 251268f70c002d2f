import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, readBatches, writeDefinition } from './helpers.js';
import { FIRST_ID } from './server/data.js';

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ customers: 25 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const styles: Record<string, unknown> = {
  offset: { path: '/offset/customers', record_selector: '$.data[*]', pagination: { type: 'offset', limit: 10, total_path: '$.total' } },
  page_number: { path: '/page/customers', record_selector: '$.items', pagination: { type: 'page_number', page_size: 10, page_size_param: 'per_page', total_pages_path: '$.total_pages' } },
  cursor: { path: '/cursor/customers', record_selector: '$.data', pagination: { type: 'cursor', cursor_param: 'cursor', cursor_path: '$.meta.next_cursor' } },
  stripe: { path: '/stripe/customers', params: { limit: 10 }, record_selector: '$.data', pagination: { type: 'cursor', cursor_param: 'starting_after', cursor_from_last_record: 'id', has_more_path: '$.has_more' } },
  next_url: { path: '/next-url/customers', record_selector: '$.results', pagination: { type: 'next_url', next_url_path: '$.links.next' } },
  link_header: { path: '/link/customers', params: { per_page: 10 }, pagination: { type: 'link_header' } },
  header_token: { path: '/header/customers', params: { per_page: 10 }, pagination: { type: 'header_token', header: 'X-Next-Page-Token', cursor_param: 'page_token' } },
};

describe('pagination', () => {
  it.each(Object.keys(styles))('reads every record exactly once with %s pagination', async (style) => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', primary_key: 'id', ...(styles[style] as object) }] });
    const batches = await readBatches(configFor(def), 'customers');
    const rows = batches.flatMap((b) => b.rows);
    const ids = rows.map((r) => r[0]);
    expect(ids).toEqual(server.customers.map((c) => c.id));
    expect(ids[0]).toBe(FIRST_ID);
    expect(server.requests.length).toBeLessThanOrEqual(4);
  });

  it('stops offset pagination on an empty page when the API gives no total', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/offset/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 10 } }] });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(rows).toHaveLength(25);
    expect(server.requests.map((r) => r.query.get('offset'))).toEqual(['0', '10', '20', '25']);
  });

  it('stops after max_pages', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/offset/customers', record_selector: '$.data', pagination: { type: 'offset', limit: 10, max_pages: 2 } }] });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(rows).toHaveLength(20);
  });

  it('reads NDJSON bodies', async () => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/ndjson/customers' }] });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(rows.map((r) => r[0])).toEqual(server.customers.map((c) => c.id));
  });

  it.each(['gzip', 'deflate', 'br'])('asks for and reads %s-encoded responses', async (enc) => {
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/offset/customers', params: { enc, limit: 25 }, record_selector: '$.data' }] });
    const rows = (await readBatches(configFor(def), 'c')).flatMap((b) => b.rows);
    expect(rows.map((r) => r[0])).toEqual(server.customers.map((c) => c.id));
    // the server sent the body compressed (it only does when the client accepts the encoding)
    expect(server.requests[0]!.headers['accept-encoding']).toContain(enc);
    expect(server.requests.map((r) => r.encoding)).toEqual([enc]);
  });
});

/** The page-2 position of each style, as an empty first page names it (25 customers, 10 a page). */
const tok = Buffer.from('o:10').toString('base64url');
const JSON_TYPE = { 'content-type': 'application/json' };
const emptyWithNext: Record<string, { path: string; reply: { headers?: Record<string, string>; body: string } }> = {
  cursor: { path: '/cursor/customers', reply: { headers: JSON_TYPE, body: JSON.stringify({ data: [], meta: { next_cursor: tok } }) } },
  next_url: { path: '/next-url/customers', reply: { headers: JSON_TYPE, body: JSON.stringify({ results: [], links: { next: '/next-url/customers?page=2&per_page=10' } }) } },
  link_header: { path: '/link/customers', reply: { headers: { ...JSON_TYPE, link: '</link/customers?page=2&per_page=10>; rel="next"' }, body: '[]' } },
  header_token: { path: '/header/customers', reply: { headers: { ...JSON_TYPE, 'x-next-page-token': tok }, body: '[]' } },
};

describe('empty pages', () => {
  it.each(Object.keys(emptyWithNext))('stops %s pagination on an empty page that still names a next page', async (style) => {
    const { path, reply } = emptyWithNext[style]!;
    server.inject(path, reply, 1);
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', ...(styles[style] as object) }] });
    const rows = (await readBatches(configFor(def), 'customers')).flatMap((b) => b.rows);
    expect(rows).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  it.each(Object.keys(emptyWithNext))('follows %s pagination past an empty page with stop_on_empty_page: false', async (style) => {
    const { path, reply } = emptyWithNext[style]!;
    server.inject(path, reply, 1);
    const s = styles[style] as { pagination: object };
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', ...s, pagination: { ...s.pagination, stop_on_empty_page: false } }] });
    const rows = (await readBatches(configFor(def), 'customers')).flatMap((b) => b.rows);
    expect(rows.map((r) => r[0])).toEqual(server.customers.slice(10).map((c) => c.id));
    expect(server.requests).toHaveLength(3);
  });

  it('stops page_number pagination on an empty page even when the page count says there are more', async () => {
    server.inject('/page/customers', { headers: JSON_TYPE, body: JSON.stringify({ items: [], total_pages: 3 }) }, 1);
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', ...(styles.page_number as object) }] });
    expect((await readBatches(configFor(def), 'customers')).flatMap((b) => b.rows)).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  it('stops offset pagination on an empty page even when the total says there are more', async () => {
    server.inject('/offset/customers', { headers: JSON_TYPE, body: JSON.stringify({ data: [], total: 25 }) }, 1);
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'customers', ...(styles.offset as object) }] });
    expect((await readBatches(configFor(def), 'customers')).flatMap((b) => b.rows)).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });
});
