import { loadConfig } from '@datakit/core';
import { runInProcess } from '@datakit/testkit';
import { postgresKit } from '../src/kit.js';
import { configuredStreamNames, postgresConfig, streamSettings } from '../src/config.js';
import { resolveTarget, sessionSql, tlsOptions } from '../src/connect.js';

const load = (env: Record<string, string>, file: Record<string, unknown> = {}) => loadConfig(postgresConfig, { env, file });
const URL_ENV = { SOURCE_DATABASE_URL: 'postgres://etl:p%40ss%20word@db.example:6543/shop' };

describe('postgres settings', () => {
  it('applies the documented defaults', () => {
    const c = load(URL_ENV).config;
    expect(c).toMatchObject({ port: 5432, schemas: ['public'], cursorFields: {}, chunkRows: 500_000, statementTimeoutMs: 0, applicationName: 'datakit-postgres', partitionBy: 'auto', streams: {} });
    expect(c.sslMode).toBeUndefined();
  });

  it('treats the URL password and SOURCE_PASSWORD as secrets', () => {
    expect(load(URL_ENV).secrets).toEqual(expect.arrayContaining(['p@ss word']));
    expect(load({ SOURCE_HOST: 'h', SOURCE_DATABASE: 'd', SOURCE_USER: 'u', SOURCE_PASSWORD: 'hunter22' }).secrets).toContain('hunter22');
  });

  it('marks every URL that may carry a password writeOnly in spec', async () => {
    const r = await runInProcess(postgresKit, ['spec'], {});
    const props = (r.json as { config: { properties: Record<string, { 'x-env'?: string[]; writeOnly?: boolean }> } }).config.properties;
    const byEnv = (env: string) => Object.values(props).find((p) => p['x-env']?.includes(env))?.writeOnly;
    expect(['SOURCE_DATABASE_URL', 'WAREHOUSE_DATABASE_URL', 'BRONZE_URL', 'SOURCE_PASSWORD', 'SOURCE_HOST'].map((e) => [e, byEnv(e)])).toEqual([
      ['SOURCE_DATABASE_URL', true], ['WAREHOUSE_DATABASE_URL', true], ['BRONZE_URL', true], ['SOURCE_PASSWORD', true], ['SOURCE_HOST', undefined],
    ]);
  });

  it('requires a URL or host, database and user, naming the settings and the fix', () => {
    expect(() => load({})).toThrow(/SOURCE_DATABASE_URL: not set, and neither are SOURCE_HOST, SOURCE_DATABASE, SOURCE_USER/);
    expect(() => load({ SOURCE_HOST: 'h', SOURCE_USER: 'u' })).toThrow(/neither are SOURCE_DATABASE: set SOURCE_DATABASE_URL, or SOURCE_HOST, SOURCE_DATABASE and SOURCE_USER/);
    expect(() => load({ SOURCE_DATABASE_URL: 'mysql://x/y' })).toThrow(/SOURCE_DATABASE_URL: must be a postgres:\/\//);
  });

  it.each([
    ['SOURCE_CHUNK_ROWS', '0'],
    ['SOURCE_PORT', '70000'],
    ['SOURCE_SSLMODE', 'allow'],
    ['SOURCE_STATEMENT_TIMEOUT_MS', '-1'],
    ['CURSOR_FIELDS', 'orders'],
    ['SOURCE_PARTITION_BY', 'range'],
  ])('rejects %s=%s with CONFIG.INVALID naming it', (name, value) => {
    expect(() => load({ ...URL_ENV, [name]: value })).toThrow(new RegExp(`^${name}`));
  });

  it('parses CURSOR_FIELDS pairs, schema-qualified names included', () => {
    expect(load({ ...URL_ENV, CURSOR_FIELDS: 'orders=updated_at, sales.orders = id ,' }).config.cursorFields).toEqual({ orders: 'updated_at', 'sales.orders': 'id' });
  });

  it('takes one lookback for every stream or stream=value pairs, numbers too', () => {
    expect(load({ ...URL_ENV, CURSOR_LOOKBACK: '10 minutes' }).config.lookback).toBe('10 minutes');
    expect(load({ ...URL_ENV, CURSOR_LOOKBACK: 'orders=10 minutes,events=100' }).config.lookback).toEqual({ orders: '10 minutes', events: '100' });
    expect(load(URL_ENV, { lookback: 5 }).config.lookback).toBe('5');
  });

  it('resolves per-stream settings: CURSOR_FIELDS over the config file, the file over the global lookback and chunk size', () => {
    const c = load(
      { ...URL_ENV, CURSOR_FIELDS: 'public.orders=updated_at', CURSOR_LOOKBACK: '1 hour', SOURCE_CHUNK_ROWS: '1000' },
      { streams: { orders: { cursor_field: 'id', lookback: '5 minutes', chunk_rows: 10 }, events: { cursor_field: 'at' } } },
    ).config;
    expect(streamSettings(c, ['orders', 'public.orders'])).toEqual({ cursorField: 'updated_at', lookback: '5 minutes', chunkRows: 10 });
    expect(streamSettings(c, ['events', 'public.events'])).toEqual({ cursorField: 'at', lookback: '1 hour', chunkRows: 1000 });
    expect(streamSettings(c, ['other'])).toEqual({ lookback: '1 hour', chunkRows: 1000 });
    expect(configuredStreamNames(c).map((n) => n.name)).toEqual(['public.orders', 'orders', 'events']);
  });

  it('rejects unknown per-stream options in the config file', () => {
    expect(() => load(URL_ENV, { streams: { orders: { cursor: 'x' } } })).toThrow(/streams at orders/);
  });
});

describe('connection target', () => {
  it('takes everything the URL holds, decoded, and names it in fixes', () => {
    const t = resolveTarget(load({ ...URL_ENV, SOURCE_PASSWORD: 'ignored' }).config);
    expect(t).toMatchObject({ host: 'db.example', port: 6543, database: 'shop', user: 'etl', password: 'p@ss word', sslMode: 'prefer', connectTimeoutMs: 30_000 });
    expect(t.errors).toMatchObject({ passwordSetting: 'SOURCE_DATABASE_URL', hostSetting: 'SOURCE_DATABASE_URL', databaseSetting: 'SOURCE_DATABASE_URL' });
  });

  it('fills what the URL leaves out from the discrete settings', () => {
    const t = resolveTarget(load({ SOURCE_DATABASE_URL: 'postgres://db.example/shop', SOURCE_USER: 'etl', SOURCE_PASSWORD: 'pw-file-secret', SOURCE_PORT: '5433' }).config);
    expect(t).toMatchObject({ host: 'db.example', port: 5433, user: 'etl', password: 'pw-file-secret' });
    expect(t.errors.passwordSetting).toBe('SOURCE_PASSWORD');
  });

  it('reads sslmode, sslrootcert, connect_timeout and a socket directory from the URL; SOURCE_SSLMODE wins', () => {
    const url = 'postgresql://etl@/shop?host=/run/postgresql&sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5';
    expect(resolveTarget(load({ SOURCE_DATABASE_URL: url }).config)).toMatchObject({ host: '/run/postgresql', sslMode: 'verify-full', sslRootCert: '/ca.pem', connectTimeoutMs: 5000 });
    expect(resolveTarget(load({ SOURCE_DATABASE_URL: url, SOURCE_SSLMODE: 'disable' }).config).sslMode).toBe('disable');
    expect(resolveTarget(load({ SOURCE_DATABASE_URL: 'postgres://etl@[::1]:5432/shop' }).config).host).toBe('::1');
  });

  it('refuses a URL without user or database, or with an unknown sslmode', () => {
    expect(() => resolveTarget(load({ SOURCE_DATABASE_URL: 'postgres://db/shop' }).config)).toThrow(/names no user/);
    expect(() => resolveTarget(load({ SOURCE_DATABASE_URL: 'postgres://etl@db' }).config)).toThrow(/names no database/);
    expect(() => resolveTarget(load({ SOURCE_DATABASE_URL: 'postgres://etl@db/x?sslmode=no-verify' }).config)).toThrow(/sslmode=no-verify is not supported/);
  });

  it('maps TLS modes to Node options with libpq semantics', () => {
    expect(tlsOptions({ sslMode: 'disable', sslRootCert: undefined })).toBe(false);
    expect(tlsOptions({ sslMode: 'prefer', sslRootCert: undefined })).toEqual({ rejectUnauthorized: false });
    expect(tlsOptions({ sslMode: 'require', sslRootCert: undefined })).toEqual({ rejectUnauthorized: false });
    expect(tlsOptions({ sslMode: 'verify-full', sslRootCert: undefined })).toEqual({ rejectUnauthorized: true });
    const ca = tlsOptions({ sslMode: 'verify-ca', sslRootCert: undefined });
    expect(ca && ca.rejectUnauthorized).toBe(true);
    expect(ca && typeof ca.checkServerIdentity).toBe('function');
  });

  it('makes sessions read-only with the decoders settings and the statement timeout', () => {
    const sql = sessionSql({ statementTimeoutMs: 1500 });
    expect(sql).toContain('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
    expect(sql).toContain('SET default_transaction_read_only TO on');
    expect(sql).toContain('SET statement_timeout TO 1500');
    expect(sql).toContain("SET TimeZone TO 'UTC'");
  });
});
