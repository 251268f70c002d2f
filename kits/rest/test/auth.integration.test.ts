import { redactor } from '@datakit/core';
import { CREDENTIALS } from './server/routes-auth.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { configFor, runMemory, writeDefinition } from './helpers.js';

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 25 });
});
afterEach(() => server.close());

const stream = (prefix: string) => ({ name: 'customers', path: `/${prefix}/offset/customers`, record_selector: '$.data', pagination: { type: 'offset', limit: 5, total_path: '$.total' } });
const oauth = (extra: object = {}) => ({ type: 'oauth2_client_credentials', token_url: '/oauth/token', ...extra });

describe('auth', () => {
  it.each([
    ['an API key header', 'apikey', { type: 'api_key', name: 'X-Api-Key' }, { REST_API_KEY: CREDENTIALS.apiKey }],
    ['an API key in the query', 'apikey', { type: 'api_key', name: 'api_key', in: 'query' }, { REST_API_KEY: CREDENTIALS.apiKey }],
    ['a bearer token referenced as ${env:…}', 'bearer', { type: 'bearer', token: '${env:REST_TOKEN}' }, { REST_TOKEN: CREDENTIALS.bearer }],
    ['basic auth', 'basic', { type: 'basic', username: CREDENTIALS.user }, { REST_PASSWORD: CREDENTIALS.password }],
    ['OAuth2 client credentials', 'secure', oauth(), { REST_CLIENT_ID: CREDENTIALS.clientId, REST_CLIENT_SECRET: CREDENTIALS.clientSecret }],
    ['OAuth2 client credentials sent as basic auth', 'secure', oauth({ client_auth: 'basic' }), { REST_CLIENT_ID: CREDENTIALS.clientId, REST_CLIENT_SECRET: CREDENTIALS.clientSecret }],
    ['an OAuth2 refresh token', 'secure', { type: 'oauth2_refresh_token', token_url: '/oauth/token' }, { REST_CLIENT_ID: CREDENTIALS.clientId, REST_REFRESH_TOKEN: CREDENTIALS.refreshToken }],
    ['custom headers', 'apikey', { type: 'headers', headers: { 'X-Api-Key': '${env:REST_API_KEY}' } }, { REST_API_KEY: CREDENTIALS.apiKey }],
  ])('reads a protected stream with %s', async (_name, prefix, auth, env) => {
    const config = configFor(writeDefinition({ base_url: server.url, auth, streams: [stream(prefix as string)] }), env as Record<string, string>);
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 25 });
  });

  it('refreshes an OAuth2 token before it expires, without a 401', async () => {
    server.oauth.ttlSeconds = 2;
    server.inject('/secure/', { delayMs: 700 }, 6);
    const config = configFor(writeDefinition({ base_url: server.url, auth: oauth({ refresh_margin_seconds: 1 }), streams: [stream('secure')] }), { REST_CLIENT_ID: CREDENTIALS.clientId, REST_CLIENT_SECRET: CREDENTIALS.clientSecret });
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 25 });
    expect(server.oauth.issued).toBeGreaterThanOrEqual(2);
    expect(server.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('refreshes once after a 401 when the token is revoked mid-run, and goes on', async () => {
    server.oauth.rotate = true;
    const config = configFor(writeDefinition({ base_url: server.url, auth: { type: 'oauth2_refresh_token', token_url: '/oauth/token' }, streams: [stream('secure')] }), {
      REST_CLIENT_ID: CREDENTIALS.clientId,
      REST_REFRESH_TOKEN: CREDENTIALS.refreshToken,
    });
    // revoke while page 3 is requested
    let seen = 0;
    server.inject('/secure/offset/customers', { effect: () => void (++seen === 3 && server.oauth.revokeAll()) }, 100);
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 25 });
    expect(server.requests.filter((r) => r.status === 401)).toHaveLength(1);
    expect(server.oauth.grants).toEqual(['refresh_token', 'refresh_token']);
  });

  it.each([
    ['an API key', 'apikey', { type: 'api_key', name: 'X-Api-Key' }, { REST_API_KEY: 'wrong-key' }, 'REST_API_KEY', ['REST_TOKEN', 'REST_PASSWORD', 'REST_CLIENT_SECRET']],
    ['basic auth', 'basic', { type: 'basic', username: CREDENTIALS.user }, { REST_PASSWORD: 'wrong-password' }, 'REST_USERNAME and REST_PASSWORD', ['REST_API_KEY', 'REST_TOKEN', 'REST_CLIENT_SECRET']],
    ['a bearer token', 'bearer', { type: 'bearer' }, { REST_TOKEN: 'wrong-token' }, 'REST_TOKEN', ['REST_API_KEY', 'REST_PASSWORD', 'REST_CLIENT_SECRET']],
  ])('names the settings of the auth in use on a 401 with %s, and no secret', async (_name, prefix, auth, env, named, others) => {
    const config = configFor(writeDefinition({ base_url: server.url, auth, streams: [stream(prefix as string)] }), env as Record<string, string>);
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]!.error).toMatchObject({ code: 'SOURCE.AUTH_FAILED' });
    const text = JSON.stringify(reports[0]!.error);
    expect(text).toContain(`check ${named}`);
    for (const other of others as string[]) expect(text).not.toContain(other);
    expect(text).not.toContain(Object.values(env as Record<string, string>)[0]);
  });

  it('fails with SOURCE.AUTH_FAILED when a 401 persists after the refresh', async () => {
    server.inject('/secure/offset/customers', { status: 401, body: '{"error":"nope"}' }, 5);
    const config = configFor(writeDefinition({ base_url: server.url, auth: oauth(), streams: [stream('secure')] }), { REST_CLIENT_ID: CREDENTIALS.clientId, REST_CLIENT_SECRET: CREDENTIALS.clientSecret });
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]!.status).toBe('failed');
    expect(reports[0]!.error).toMatchObject({ code: 'SOURCE.AUTH_FAILED' });
    expect(server.oauth.issued).toBe(2);
  });

  it('fails with SOURCE.AUTH_FAILED naming the token endpoint error when the client secret is wrong, never showing it', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, auth: oauth(), streams: [stream('secure')] }), { REST_CLIENT_ID: CREDENTIALS.clientId, REST_CLIENT_SECRET: 'wrong-secret-value' });
    const { reports } = await runMemory(config, ['customers']);
    expect(reports[0]!.error).toMatchObject({ code: 'SOURCE.AUTH_FAILED' });
    expect(reports[0]!.error!.message).toMatch(/invalid_client/);
    expect(reports[0]!.error!.message).not.toContain('wrong-secret-value');
  });

  it('masks an API key sent in the query string in error messages', async () => {
    const config = configFor(writeDefinition({ base_url: server.url, auth: { type: 'api_key', name: 'api_key', in: 'query' }, streams: [{ name: 'missing', path: '/apikey/nothing' }] }), { REST_API_KEY: CREDENTIALS.apiKey });
    const { reports } = await runMemory(config, ['missing']);
    expect(reports[0]!.error).toMatchObject({ code: 'SOURCE.QUERY_FAILED' });
    expect(reports[0]!.error!.message).toContain('api_key=***');
    expect(reports[0]!.error!.message).not.toContain(CREDENTIALS.apiKey);
    expect(redactor.scrub(`x ${CREDENTIALS.apiKey} y`)).toBe('x *** y');
  });
});
