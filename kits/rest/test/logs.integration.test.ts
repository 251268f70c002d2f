/**
 * Secrets never reach the logs: the built CLI's stderr (pino JSON, debug level) during runs that log
 * retry warnings, URLs of every page and an OAuth2 token refresh holds no token, client secret,
 * refresh token, API key or password — neither in messages nor in the URLs it logs.
 */
import { join } from 'node:path';
import { spawnCli } from '@datakit/testkit';
import { CREDENTIALS } from './server/routes-auth.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { tempDir, writeDefinition } from './helpers.js';

const MAIN = join(__dirname, '../dist/main.js');

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer({ customers: 25 });
});
afterEach(() => server.close());

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  [k: string]: unknown;
}

const stream = (prefix: string) => ({ name: 'customers', path: `/${prefix}/offset/customers`, record_selector: '$.data', pagination: { type: 'offset', limit: 5, total_path: '$.total' } });

/** Run the built CLI at debug level; return its log lines and everything it printed. */
async function run(auth: object, prefix: string, env: Record<string, string>): Promise<{ lines: LogLine[]; printed: string; code: number | null }> {
  const def = writeDefinition({ base_url: server.url, auth, retry: { backoff_base_ms: 5, backoff_max_ms: 20 }, streams: [stream(prefix)] });
  const r = await spawnCli(MAIN, ['run', 'customers'], { REST_CONFIG: def, BRONZE_URL: `file://${tempDir()}`, LOG_LEVEL: 'debug', MAX_RETRIES: '3', ...env }).done;
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogLine);
  return { lines, printed: r.stdout + r.stderr, code: r.code };
}

/** Every secret the server handed out or accepted during the run (access tokens included). */
function secretsSeen(): string[] {
  const bearer = server.requests.flatMap((r) => /^Bearer (.+)$/.exec(String(r.headers.authorization ?? ''))?.[1] ?? []);
  const refreshed = server.requests.flatMap((r) => (r.path === '/oauth/token' ? (new URLSearchParams(r.body).get('refresh_token') ?? []) : []));
  const basic = Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64');
  return [...new Set([...Object.values(CREDENTIALS).filter((v) => v !== CREDENTIALS.user && v !== CREDENTIALS.clientId), basic, ...bearer, ...refreshed])];
}

const leaks = (text: string, secrets: string[]): string[] => secrets.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)) || text.includes(Buffer.from(s).toString('base64')));

describe('log redaction', () => {
  it('logs retries and an OAuth2 refresh (with a rotated refresh token) without any token or client secret', async () => {
    server.oauth.rotate = true;
    server.inject('/secure/', { status: 500, body: 'oops' }, 1);
    server.inject('/secure/', { status: 429 }, 1);
    server.inject('/secure/', { effect: () => server.oauth.revokeAll() }, 1); // the token dies mid-run: 401, one refresh
    const { lines, printed, code } = await run({ type: 'oauth2_refresh_token', token_url: '/oauth/token' }, 'secure', {
      REST_CLIENT_ID: CREDENTIALS.clientId,
      REST_CLIENT_SECRET: CREDENTIALS.clientSecret,
      REST_REFRESH_TOKEN: CREDENTIALS.refreshToken,
    });
    expect(code).toBe(0);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(['retriable HTTP status, retrying', 'HTTP 401: refreshing the access token once', 'obtained an OAuth2 access token']));
    expect(msgs.some((m) => m.includes('rotated the refresh token'))).toBe(true);
    expect(server.oauth.grants.filter((g) => g === 'refresh_token').length).toBeGreaterThanOrEqual(2);
    const secrets = secretsSeen();
    expect(secrets.filter((s) => s.startsWith('access-')).length).toBeGreaterThanOrEqual(2);
    expect(leaks(printed, secrets)).toEqual([]);
  });

  it('masks an API key sent in the query string in every logged URL', async () => {
    server.inject('/apikey/', { status: 500, body: `echo ${CREDENTIALS.apiKey}` }, 1);
    server.inject('/apikey/', { destroy: true }, 1);
    const { lines, printed, code } = await run({ type: 'api_key', name: 'api_key', in: 'query' }, 'apikey', { REST_API_KEY: CREDENTIALS.apiKey });
    expect(code).toBe(0);
    const urls = lines.flatMap((l) => (typeof l.url === 'string' ? [l.url] : []));
    // a retry warning and a debug line for each of the 5 pages
    expect(lines.filter((l) => l.msg === 'request failed, retrying' || l.msg === 'retriable HTTP status, retrying')).toHaveLength(2);
    expect(urls.length).toBeGreaterThanOrEqual(7);
    for (const u of urls) expect(u).toContain('api_key=***');
    expect(leaks(printed, secretsSeen())).toEqual([]);
  });

  it('logs retries of a basic-auth API without the password', async () => {
    server.inject('/basic/', { status: 503, body: 'unavailable' }, 2);
    const { lines, printed, code } = await run({ type: 'basic', username: CREDENTIALS.user }, 'basic', { REST_PASSWORD: CREDENTIALS.password });
    expect(code).toBe(0);
    expect(lines.filter((l) => l.msg === 'retriable HTTP status, retrying')).toHaveLength(2);
    expect(leaks(printed, secretsSeen())).toEqual([]);
  });
});
