import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, runMemory, writeDefinition } from './helpers.js';

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 20 });
});
afterEach(() => server.close());

const PATH = '/offset/customers';
const config = () =>
  configFor(
    writeDefinition({
      base_url: server.url,
      streams: [{ name: 'customers', path: PATH, primary_key: 'id', record_selector: '$.data', pagination: { type: 'offset', limit: 5, total_path: '$.total' } }],
    }),
  );

/** Run once cleanly, then again with `fault` on page 2: the second run must fail and keep the state. */
async function failOnPage2(fault: Parameters<ApiServer['inject']>[1]) {
  const first = await runMemory(config(), ['customers']);
  const before = structuredClone(first.target.states.get('rest'));
  const rowsBefore = first.target.live.get('rest/customers')!.rows.length;
  let n = 0;
  server.inject(PATH, { effect: () => void ++n }, 1);
  server.inject(PATH, fault, 1);
  const { reports, target } = await runMemory(config(), ['customers'], { target: first.target });
  expect(target.states.get('rest')).toEqual(before);
  expect(target.live.get('rest/customers')!.rows).toHaveLength(rowsBefore);
  return reports[0]!;
}

describe('bad responses', () => {
  it('fails with DATA.INVALID_RECORD on malformed JSON, naming stream, page, URL and reason', async () => {
    const r = await failOnPage2({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":[{"id":1},' });
    expect(r.status).toBe('failed');
    expect(r.error!.code).toBe('DATA.INVALID_RECORD');
    expect(r.error!.message).toMatch(/^rest: stream customers: page 2 of GET http:\/\/127\.0\.0\.1:\d+\/offset\/customers\?offset=5&limit=5: malformed JSON \(application\/json\): /);
  });

  it('fails with DATA.INVALID_RECORD on an HTML error page served with 200', async () => {
    const r = await failOnPage2({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!doctype html><html><head><title>Service Unavailable</title></head><body>down</body></html>' });
    expect(r.error!.code).toBe('DATA.INVALID_RECORD');
    expect(r.error!.message).toContain('the server sent an HTML page instead of JSON (HTTP 200, text/html, title "Service Unavailable")');
  });

  it('fails with DATA.INVALID_RECORD when the record selector matches nothing', async () => {
    const r = await failOnPage2({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"error":{"message":"maintenance"}}' });
    expect(r.error!.code).toBe('DATA.INVALID_RECORD');
    expect(r.error!.message).toContain('record_selector $.data matched nothing');
  });

  it('fails with DATA.INVALID_RECORD when a record is not an object', async () => {
    const r = await failOnPage2({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":[1,2]}' });
    expect(r.error!.message).toContain('record 1 of the page is json:integer, not an object');
  });

  it('fails with SOURCE.QUERY_FAILED on a 4xx other than 401/403/408/429, quoting the error body', async () => {
    const r = await failOnPage2({ status: 422, headers: { 'content-type': 'application/json' }, body: '{"error":"offset too large"}' });
    expect(r.error!.code).toBe('SOURCE.QUERY_FAILED');
    expect(r.error!.message).toContain('HTTP 422 Unprocessable Entity: {"error":"offset too large"}');
  });

  it('fails with SOURCE.AUTH_FAILED on a 403 without rate-limit hints', async () => {
    const r = await failOnPage2({ status: 403, body: 'forbidden' });
    expect(r.error!.code).toBe('SOURCE.AUTH_FAILED');
  });

  it('fails when a next token repeats instead of looping forever', async () => {
    server.inject('/cursor/customers', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":[{"id":1}],"meta":{"next_cursor":"same"}}' }, 5);
    const def = writeDefinition({ base_url: server.url, streams: [{ name: 'c', path: '/cursor/customers', record_selector: '$.data', pagination: { type: 'cursor', cursor_param: 'cursor', cursor_path: '$.meta.next_cursor' } }] });
    const { reports } = await runMemory(configFor(def), ['c']);
    expect(reports[0]!.error!.message).toContain('pagination does not advance');
  });
});
