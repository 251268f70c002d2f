import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatakitError, redactor } from '@datakit/core';
import { apiDefinitionJsonSchema, loadDefinition, parseDefinition, type RestKitConfig } from '@datakit/kit-rest';
import { configFor, writeDefinition } from './helpers.js';

const config = { definition: 'api.yaml', maxRetries: 3 } as RestKitConfig;
const base = { base_url: 'https://api.example.com/v1' };

function messageOf(raw: unknown, cfg: RestKitConfig = config, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseDefinition(raw, cfg, { file: 'api.yaml', env });
  } catch (e) {
    expect(e).toBeInstanceOf(DatakitError);
    expect((e as DatakitError).code).toBe('CONFIG.INVALID');
    return (e as DatakitError).message;
  }
  throw new Error('expected the definition to be rejected');
}

describe('API definition', () => {
  it('names the offending key, with streams by name', () => {
    expect(messageOf({ ...base, streams: [{ name: 'orders', path: '/o', pagination: { type: 'offset', limit: '10' } }] })).toBe(
      'API definition api.yaml is invalid: streams.orders.pagination.limit: Invalid input: expected number, received string',
    );
    expect(messageOf({ ...base, streams: [{ name: 'orders', path: '/o', pagination: { type: 'offsett' } }] })).toMatch(/streams\.orders\.pagination\.type: Invalid discriminator value/);
  });

  it('rejects unknown keys, so typos do not pass silently', () => {
    expect(messageOf({ ...base, streams: [{ name: 'orders', path: '/o', recrod_selector: '$.data' }] })).toContain('streams.orders: unknown key "recrod_selector"');
  });

  it('rejects unknown parents, parent loops and duplicate names', () => {
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a', parent: { stream: 'nope' } }] })).toContain('streams.a.parent.stream: no stream named "nope"');
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a', parent: { stream: 'b' } }, { name: 'b', path: '/b', parent: { stream: 'a' } }] })).toContain('parent chain loops back');
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a' }, { name: 'a', path: '/b' }] })).toContain('duplicate stream name "a"');
  });

  it('requires exactly one token source for cursor pagination and a start for windows', () => {
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a', pagination: { type: 'cursor', cursor_param: 'c' } }] })).toContain('streams.a.pagination.cursor_path: set exactly one of');
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a', incremental: { cursor_field: 'u', window: { step: 'P1D' } } }] })).toContain('streams.a.incremental.start: a windowed stream needs start');
    expect(messageOf({ ...base, streams: [{ name: 'a', path: '/a', incremental: { cursor_field: 'u', lookback: 'one hour' } }] })).toContain('streams.a.incremental.lookback: expected an ISO 8601 duration');
  });

  it('fills ${env:NAME} references and names the key of a missing one', () => {
    const def = { ...base, headers: { 'X-Tenant': '${env:TENANT}' }, streams: [{ name: 'a', path: '/${env:API_VERSION:-v2}/a' }] };
    const loaded = parseDefinition(def, config, { env: { TENANT: 'acme-tenant' } });
    expect(loaded.api.headers).toEqual({ 'X-Tenant': 'acme-tenant' });
    expect(loaded.api.streams[0]!.path).toBe('/v2/a');
    expect(messageOf(def, config, {})).toContain('headers.X-Tenant: ${env:TENANT} is not set');
  });

  it('takes secrets the definition leaves out from the kit settings and registers every secret for redaction', () => {
    const loaded = parseDefinition({ ...base, auth: { type: 'api_key', name: 'X-Key' }, headers: { 'X-Extra': '${env:EXTRA_SECRET}' }, streams: [{ name: 'a', path: '/a' }] }, { ...config, apiKey: 'key-from-settings' }, { env: { EXTRA_SECRET: 'extra-secret-value' } });
    expect(loaded.api.auth).toMatchObject({ value: 'key-from-settings' });
    expect(redactor.scrub('key-from-settings extra-secret-value')).toBe('*** ***');
    expect(messageOf({ ...base, auth: { type: 'bearer' }, streams: [{ name: 'a', path: '/a' }] })).toBe('auth type bearer needs REST_TOKEN (or a value in the definition)');
  });

  it('reads YAML files named by REST_CONFIG and reports unreadable ones', () => {
    const path = writeDefinition(`base_url: https://api.example.com\nstreams:\n  - name: a\n    path: /a\n    pagination: { type: link_header }\n`);
    expect(loadDefinition(configFor(path)).api.streams[0]!.pagination).toEqual({ type: 'link_header', rel: 'next', stop_on_empty_page: true });
    expect(() => loadDefinition(configFor('/nonexistent/api.yaml'))).toThrow('REST_CONFIG: cannot read /nonexistent/api.yaml: ENOENT');
  });

  it('publishes an up-to-date JSON Schema (regenerate with `pnpm schema`)', () => {
    const published = JSON.parse(readFileSync(join(__dirname, '../schema/api-definition.schema.json'), 'utf8')) as unknown;
    expect(published).toEqual(apiDefinitionJsonSchema());
  });
});

describe('worked examples in docs/examples', () => {
  it.each(['github.yaml', 'stripe.yaml'])('%s is a valid definition', (file) => {
    const path = join(__dirname, '../../../docs/examples', file);
    const env = { REST_CONFIG: path, REST_TOKEN: 'token-for-example', REST_CLIENT_ID: 'client', REST_CLIENT_SECRET: 'secret-for-example' };
    const loaded = loadDefinition(configFor(path, env), { GITHUB_ORG: 'acme' });
    expect(loaded.api.streams.length).toBeGreaterThanOrEqual(3);
  });
});
