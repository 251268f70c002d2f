/**
 * The published JSON Schema (schema/api-definition.schema.json) is what editors and CI validate
 * definitions with, so it must accept what the kit accepts and reject what it rejects: checked here
 * with an independent validator (ajv, JSON Schema 2020-12) next to the kit's own zod schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { apiDefinitionSchema } from '@datakit/kit-rest';
import { contractDefinition } from './server/routes-contract.js';

const schema = JSON.parse(readFileSync(join(__dirname, '../schema/api-definition.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

const EXAMPLES = join(__dirname, '../../../docs/examples');
const examples = readdirSync(EXAMPLES).filter((f) => /\.ya?ml$/.test(f));
const stream = (extra: object) => ({ name: 's', path: '/s', ...extra });

/** Valid definitions beyond the examples: the contract's, and one per auth and pagination style. */
const valid: [string, unknown][] = [
  ['the contract definition', contractDefinition('http://127.0.0.1:8080')],
  ...[
    { type: 'none' },
    { type: 'api_key', name: 'api_key', in: 'query' },
    { type: 'bearer' },
    { type: 'basic', username: 'etl' },
    { type: 'oauth2_client_credentials', token_url: '/oauth/token', client_auth: 'basic', scope: 'read' },
    { type: 'oauth2_refresh_token', token_url: 'https://auth.example.com/token', refresh_margin_seconds: 30 },
    { type: 'headers', headers: { 'X-Api-Key': '${env:REST_API_KEY}' } },
  ].map((auth): [string, unknown] => [`auth ${auth.type}`, { base_url: 'https://api.example.com', auth, streams: [stream({})] }]),
  ...[
    { type: 'offset', limit: 10, total_path: '$.total', stop_on_short_page: true, in: 'body' },
    { type: 'page_number', page_size: 50, page_size_param: 'per_page', total_pages_path: '$.pages' },
    { type: 'cursor', cursor_param: 'starting_after', cursor_from_last_record: 'id', has_more_path: '$.has_more', stop_on_empty_page: false },
    { type: 'next_url', next_url_path: '$.links.next', max_pages: 100 },
    { type: 'link_header', rel: 'next' },
    { type: 'header_token', header: 'X-Next-Page-Token', cursor_param: 'page_token' },
  ].map((pagination): [string, unknown] => [`pagination ${pagination.type}`, { base_url: 'https://api.example.com', streams: [stream({ pagination })] }]),
  [
    'a windowed POST child stream',
    {
      base_url: 'https://api.example.com',
      streams: [
        stream({ name: 'parents', primary_key: ['a', 'b'] }),
        stream({
          method: 'POST',
          path: '/p/{parent.a}/c',
          body: { q: { since: '{incremental.start}' } },
          parent: { stream: 'parents', include_fields: ['b'] },
          incremental: { cursor_field: 'ts', cursor_param: 'from', end_param: 'to', in: 'body', format: 'epoch_millis', start: '2024-01-01T00:00:00Z', lookback: 'PT1H', window: { step: 'P1D', end: 'now' } },
          columns: { ts: 'timestamptz', amount: 'decimal(18,2)' },
        }),
      ],
    },
  ],
];

/** Invalid definitions, with the key both validators must point at. */
const invalid: [string, unknown, string][] = [
  ['the invalid-definition fixture', JSON.parse(readFileSync(join(__dirname, 'fixtures/invalid-definition.json'), 'utf8')), 'base_url'],
  ['an unknown stream key', { base_url: 'https://api.example.com', streams: [stream({ recrod_selector: '$.data' })] }, 'recrod_selector'],
  ['offset pagination without limit', { base_url: 'https://api.example.com', streams: [stream({ pagination: { type: 'offset' } })] }, 'limit'],
  ['an unknown pagination type', { base_url: 'https://api.example.com', streams: [stream({ pagination: { type: 'infinite_scroll' } })] }, 'type'],
  ['an undeclarable column type', { base_url: 'https://api.example.com', streams: [stream({ columns: { a: 'varchar' } })] }, 'columns'],
  ['a malformed lookback', { base_url: 'https://api.example.com', streams: [stream({ incremental: { cursor_field: 'ts', lookback: 'two hours' } })] }, 'lookback'],
  ['no streams', { base_url: 'https://api.example.com', streams: [] }, 'streams'],
  ['a non-HTTP base URL', { base_url: 'ftp://api.example.com', streams: [stream({})] }, 'base_url'],
];

const ajvErrors = (): string => ajv.errorsText(validate.errors, { separator: '\n' }) + JSON.stringify(validate.errors?.map((e) => e.params));

describe('the published JSON Schema', () => {
  it('finds the worked examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples)('accepts docs/examples/%s, as the kit does', (file) => {
    const def = parseYaml(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown;
    expect({ valid: validate(def), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(apiDefinitionSchema.safeParse(def).success).toBe(true);
  });

  it.each(valid)('accepts %s, as the kit does', (_name, def) => {
    expect({ valid: validate(def), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(apiDefinitionSchema.safeParse(def).success).toBe(true);
  });

  it.each(invalid)('rejects %s, as the kit does, both naming the key', (_name, def, key) => {
    expect(validate(def)).toBe(false);
    expect(ajvErrors()).toContain(key);
    const parsed = apiDefinitionSchema.safeParse(def);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(key);
  });
});
