import { startApiServer, type ApiServer } from './server/server.js';
import { loadDefinition } from '@datakit/kit-rest';
import { budgetOf } from '../src/session.js';
import { configFor, runMemory, writeDefinition } from './helpers.js';

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 20 });
});
afterEach(() => server.close());

const PATH = '/offset/customers';
const definition = (extra: object = {}) =>
  writeDefinition({
    base_url: server.url,
    retry: { backoff_base_ms: 5, backoff_max_ms: 20 },
    ...extra,
    streams: [{ name: 'customers', path: PATH, record_selector: '$.data', pagination: { type: 'offset', limit: 5, total_path: '$.total' } }],
  });
const gapsAfter = (status: number): number[] => {
  const out: number[] = [];
  server.requests.forEach((r, i) => {
    if (r.status === status && server.requests[i + 1]) out.push(server.requests[i + 1]!.at - r.at);
  });
  return out;
};

describe('politeness', () => {
  it('waits out a 429 storm with Retry-After without using up MAX_RETRIES', async () => {
    server.inject(PATH, { status: 429, headers: { 'retry-after': '0' }, body: '{"error":"slow down"}' }, 8);
    const { reports } = await runMemory(configFor(definition(), { MAX_RETRIES: '2' }), ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 20 });
    expect(server.requests.filter((r) => r.status === 429)).toHaveLength(8);
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    server.inject(PATH, { status: 429, headers: { 'retry-after': '1' } }, 1);
    await runMemory(configFor(definition()), ['customers']);
    expect(gapsAfter(429)[0]).toBeGreaterThanOrEqual(990);
    server.reset();
    server.inject(PATH, { status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } }, 1);
    const { reports } = await runMemory(configFor(definition()), ['customers']);
    expect(reports[0]!.rows).toBe(20);
    expect(gapsAfter(503)[0]).toBeGreaterThanOrEqual(900);
  });

  it('pauses when RateLimit-Remaining reaches 0 until RateLimit-Reset', async () => {
    server.inject(PATH, { headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': '1' } }, 1);
    const { reports } = await runMemory(configFor(definition()), ['customers']);
    expect(reports[0]!.rows).toBe(20);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('pauses on X-RateLimit-Reset given as epoch seconds', async () => {
    server.inject(PATH, { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) } }, 1);
    await runMemory(configFor(definition()), ['customers']);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(100);
  });

  it('retries 500s, 429s without hints, dropped connections and timeouts with backoff', async () => {
    server.inject(PATH, { status: 500, body: 'oops' }, 1);
    server.inject(PATH, { status: 429 }, 1);
    server.inject(PATH, { destroy: true }, 1);
    server.inject(PATH, { delayMs: 600 }, 1);
    const { reports } = await runMemory(configFor(definition({ timeout_seconds: 0.3 }), { MAX_RETRIES: '4' }), ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 20 });
    // page 1 took five requests: 500, 429, dropped, timed out (the slow answer came too late), ok
    const firstPage = server.requests.filter((r) => r.query.get('offset') === '0');
    expect(firstPage).toHaveLength(5);
    expect([0, 1, 2, 4].map((i) => firstPage[i]!.status)).toEqual([500, 429, undefined, 200]);
    expect(server.requests.map((r) => r.query.get('offset'))).toEqual(['0', '0', '0', '0', '0', '5', '10', '15']);
  });

  it('fails with the retriable SOURCE.TRANSIENT after MAX_RETRIES 500s, and the stored state does not move', async () => {
    const config = configFor(definition(), { MAX_RETRIES: '2' });
    const first = await runMemory(config, ['customers']);
    const before = structuredClone(first.target.states.get('rest'));
    server.inject(PATH, { status: 502, body: '<html>bad gateway</html>' }, 3);
    const { reports, target } = await runMemory(config, ['customers'], { target: first.target });
    expect(reports[0]!.status).toBe('failed');
    expect(reports[0]!.error).toMatchObject({ code: 'SOURCE.TRANSIENT' });
    expect(reports[0]!.error!.message).toMatch(/stream customers: page 1 of GET http:\/\/127\.0\.0\.1:\d+\/offset\/customers\?offset=0&limit=5: HTTP 502/);
    expect(target.states.get('rest')).toEqual(before);
  });

  it('spaces request starts by the requests_per_second budget, and keeps to the concurrency, across parents and children', async () => {
    server.inject('/customers/', { delayMs: 40 }, 1000);
    const def = writeDefinition({
      base_url: server.url,
      rate_limit: { concurrency: 3, requests_per_second: 100 },
      streams: [
        { name: 'customers', path: PATH, record_selector: '$.data', primary_key: 'id', pagination: { type: 'offset', limit: 10, total_path: '$.total' } },
        { name: 'orders', path: '/customers/{parent.id}/orders', record_selector: '$.orders', pagination: { type: 'page_number' }, parent: { stream: 'customers' } },
      ],
    });
    const config = configFor(def);
    const budget = budgetOf(loadDefinition(config));
    budget.record = true;
    const { reports } = await runMemory(config, ['orders']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: server.customers.reduce((n, c) => n + 1 + (c.index % 3), 0) });
    const starts = budget.starts;
    expect(starts.length).toBe(server.requests.length);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(10);
    expect(server.peakInFlight()).toBe(3); // children of several parents in parallel, never more than 3
  });
});
