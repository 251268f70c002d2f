import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DatakitError, Redactor, configJsonSchema, loadConfig, readConfigFile, runtimeSettings, secret, setting } from '@datakit/core';

const schema = z.object({
  url: setting(z.string().optional(), { env: ['SOURCE_DATABASE_URL'] }),
  host: setting(z.string().default('localhost'), { env: 'SOURCE_HOST' }),
  port: setting(z.coerce.number().int().positive().default(5432), { env: 'SOURCE_PORT' }),
  password: secret(z.string().optional(), 'SOURCE_PASSWORD'),
  streams: setting(z.record(z.string(), z.object({ cursor_field: z.string() })).optional(), {}),
});

describe('configuration', () => {
  it('reads env first, then the config file, then defaults', () => {
    const { config } = loadConfig(schema, { env: { SOURCE_PORT: '6543' }, file: { host: 'db.internal', port: 1, streams: { orders: { cursor_field: 'updated_at' } } } });
    expect(config).toEqual({ host: 'db.internal', port: 6543, streams: { orders: { cursor_field: 'updated_at' } } });
  });

  it('reads secrets from <NAME>_FILE and collects them for redaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'pw'), 's3cr3t-value\n');
    const { config, secrets } = loadConfig(schema, { env: { SOURCE_PASSWORD_FILE: join(dir, 'pw') } });
    expect(config.password).toBe('s3cr3t-value');
    expect(secrets).toContain('s3cr3t-value');
  });

  it('treats passwords inside URLs as secrets', () => {
    const { secrets } = loadConfig(schema, { env: { SOURCE_DATABASE_URL: 'postgres://etl:p%40ss-w0rd@h:5432/db' } });
    expect(secrets).toEqual(expect.arrayContaining(['p%40ss-w0rd', 'p@ss-w0rd']));
  });

  it('names the env variable and the fix in a validation error, never the value', () => {
    let err: unknown;
    try {
      loadConfig(schema, { env: { SOURCE_PORT: 'not-a-port' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatakitError);
    const e = err as DatakitError;
    expect(e.code).toBe('CONFIG.INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.describe()).toMatch(/^SOURCE_PORT: .*\(set SOURCE_PORT\)$/);
    expect(e.describe()).not.toContain('not-a-port');
  });

  it('validates the seed names of the runtime settings', () => {
    const { config } = loadConfig(runtimeSettings, { env: { BATCH_SIZE: '500', MAX_RETRIES: '0', WAREHOUSE_DATABASE_URL: 'postgres://u:pw1@h/w' } });
    expect(config.batchSize).toBe(500);
    expect(config.maxRetries).toBe(0);
    expect(config.warehouseUrl).toBe('postgres://u:pw1@h/w');
    expect(() => loadConfig(runtimeSettings, { env: { BATCH_SIZE: '0' } })).toThrow(/BATCH_SIZE/);
  });

  it('prints JSON Schema with env names and secrets marked writeOnly', () => {
    const js = configJsonSchema(schema) as { properties: Record<string, Record<string, unknown>> };
    expect(js.properties.password).toMatchObject({ 'x-env': ['SOURCE_PASSWORD'], writeOnly: true });
    expect(js.properties.port).toMatchObject({ 'x-env': ['SOURCE_PORT'] });
  });

  it('marks the target URLs writeOnly without making their whole value a secret', () => {
    const js = configJsonSchema(runtimeSettings) as { properties: Record<string, Record<string, unknown>> };
    expect([js.properties.bronzeUrl?.writeOnly, js.properties.warehouseUrl?.writeOnly, js.properties.batchSize?.writeOnly]).toEqual([true, true, undefined]);
    const { secrets } = loadConfig(runtimeSettings, { env: { BRONZE_URL: 'file:///data/bronze', WAREHOUSE_DATABASE_URL: 'postgres://u:pw1@h/w' } });
    // only the URL's password is scrubbed; the path and host stay readable
    expect(secrets).toEqual(['pw1']);
  });

  it('reads YAML config files and rejects malformed ones with CONFIG.INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'ok.yaml'), 'host: a\nstreams:\n  orders: { cursor_field: id }\n');
    writeFileSync(join(dir, 'bad.yaml'), 'host: [unclosed\n');
    expect(readConfigFile(join(dir, 'ok.yaml'))).toEqual({ host: 'a', streams: { orders: { cursor_field: 'id' } } });
    expect(() => readConfigFile(join(dir, 'bad.yaml'))).toThrow(DatakitError);
    expect(() => readConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read config file/);
  });
});

describe('redaction', () => {
  it('masks known secrets, their encodings and any URL password', () => {
    const r = new Redactor();
    r.add(['hunter2@x']);
    expect(r.scrub('pw hunter2@x and hunter2%40x')).toBe('pw *** and ***');
    expect(r.scrub('connect postgres://etl:unknownpw@db:5432/x failed')).toBe('connect postgres://etl:***@db:5432/x failed');
  });
});
