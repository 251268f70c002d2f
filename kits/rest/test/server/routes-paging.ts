/**
 * Data routes, one per pagination style, plus child, incremental, windowed and NDJSON routes.
 * Replies are cached by URL (the data never changes), so the benchmark measures the client.
 */
import { customerJson, ordersOf, type Customer } from './data.js';
import { json, type Reply, type Route, type SeenRequest } from './reply.js';

const int = (q: URLSearchParams, name: string, def: number): number => {
  const v = q.get(name);
  return v === null || v === '' ? def : Number(v);
};

const token = (offset: number): string => Buffer.from(`o:${offset}`).toString('base64url');
const untoken = (t: string | null): number => (t ? Number(Buffer.from(t, 'base64url').toString().slice(2)) : 0);

/** The paging routes over `customers` and `events`. */
export function pagingRoutes(customers: Customer[], events: { id: number; ts: string }[], cache: Map<string, Reply>): Route[] {
  let n = customers.length;
  const slice = (from: number, count: number): unknown[] => customers.slice(from, from + count).map(customerJson);
  const byPath: Record<string, (req: SeenRequest) => Reply> = {
    '/offset/customers': ({ query: q }) => {
      const offset = int(q, 'offset', 0);
      return json({ data: slice(offset, int(q, 'limit', 10)), total: n });
    },
    '/page/customers': ({ query: q }) => {
      const per = int(q, 'per_page', 10);
      return json({ items: slice((int(q, 'page', 1) - 1) * per, per), total_pages: Math.ceil(n / per) });
    },
    '/cursor/customers': ({ query: q }) => {
      const offset = untoken(q.get('cursor'));
      const limit = int(q, 'limit', 10);
      return json({ data: slice(offset, limit), meta: { next_cursor: offset + limit < n ? token(offset + limit) : null } });
    },
    '/stripe/customers': ({ query: q }) => {
      const after = q.get('starting_after');
      const from = after ? customers.findIndex((c) => c.id.toString() === after) + 1 : 0;
      const limit = int(q, 'limit', 10);
      return json({ object: 'list', data: slice(from, limit), has_more: from + limit < n });
    },
    '/next-url/customers': ({ query: q, path }) => {
      const page = int(q, 'page', 1);
      const per = int(q, 'per_page', 10);
      const next = page * per < n ? `${path}?page=${page + 1}&per_page=${per}` : null; // relative
      return json({ results: slice((page - 1) * per, per), links: { next } });
    },
    '/link/customers': ({ query: q, path, headers }) => {
      const page = int(q, 'page', 1);
      const per = int(q, 'per_page', 10);
      const last = Math.max(1, Math.ceil(n / per));
      const link = (p: number, rel: string): string => `<http://${headers.host}${path}?page=${p}&per_page=${per}>; rel="${rel}"`;
      const links = [...(page < last ? [link(page + 1, 'next')] : []), link(last, 'last'), link(1, 'first')];
      return json(slice((page - 1) * per, per), { link: links.join(', ') });
    },
    '/header/customers': ({ query: q }) => {
      const offset = untoken(q.get('page_token'));
      const per = int(q, 'per_page', 10);
      return json(slice(offset, per), offset + per < n ? { 'x-next-page-token': token(offset + per) } : {});
    },
    '/ndjson/customers': () => ({
      headers: { 'content-type': 'application/x-ndjson' },
      body: customers.map((c) => JSON.stringify(customerJson(c))).join('\n') + '\n',
    }),
    '/incremental/customers': ({ query: q }) => {
      const since = q.get('since');
      const rows = customers.filter((c) => !since || c.updatedAt >= since);
      const offset = int(q, 'offset', 0);
      return json({ data: rows.slice(offset, offset + int(q, 'limit', 10)).map(customerJson), total: rows.length });
    },
    '/windowed/events': ({ query: q }) => {
      const [start, end] = [q.get('start') ?? '', q.get('end') ?? '\uffff'];
      return json(events.filter((e) => e.ts >= start && e.ts < end));
    },
  };
  const orders: Route = (req) => {
    const m = /^\/customers\/(\d+)\/orders$/.exec(req.path);
    if (!m) return undefined;
    const c = customers.find((x) => x.id.toString() === m[1]);
    if (!c) return { status: 404, ...json({ error: 'no such customer' }) };
    const page = int(req.query, 'page', 1);
    return json({ orders: ordersOf(c).slice((page - 1) * 2, page * 2) });
  };
  const data: Route = (req) => {
    const route = byPath[req.path.replace(/^\/(secure|apikey|basic|bearer)(?=\/)/, '')];
    if (!route) return undefined;
    const key = `${req.path}?${[...req.query].filter(([k]) => k !== 'api_key').sort().join('&')}`;
    let reply = cache.get(key);
    if (!reply) {
      n = customers.length;
      reply = route(req);
      cache.set(key, reply);
    }
    return reply;
  };
  return [data, orders];
}
