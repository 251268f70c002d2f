/// <reference types="jest" />
/**
 * Contract cases that need no data movement: spec, check, discover, and the configuration and state
 * errors (exit 2 before anything is written).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeName, type Column, type Stream } from '@datakit/core';
import { runInProcess, spawnCli } from './cli.ts';
import { expectExit, expectNoSecrets, type Suite } from './suite.ts';

interface SpecOutput {
  kit: string;
  config: { type?: string; properties?: Record<string, Record<string, unknown>> };
  settings: { key: string; env: string[]; secret: boolean }[];
}

const JSON_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/** Structural JSON Schema (2020-12) checks: keywords hold what the specification says they hold. */
function schemaProblems(node: unknown, path = '#'): string[] {
  if (typeof node === 'boolean') return [];
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return [`${path}: a schema must be an object or a boolean`];
  const n = node as Record<string, unknown>;
  const out: string[] = [];
  const types = n.type === undefined ? [] : Array.isArray(n.type) ? n.type : [n.type];
  for (const t of types) if (typeof t !== 'string' || !JSON_TYPES.has(t)) out.push(`${path}/type: ${JSON.stringify(t)} is not a JSON Schema type`);
  if (n.properties !== undefined) {
    if (typeof n.properties !== 'object' || n.properties === null) out.push(`${path}/properties: not an object`);
    else for (const [k, v] of Object.entries(n.properties)) out.push(...schemaProblems(v, `${path}/properties/${k}`));
  }
  if (n.required !== undefined && !(Array.isArray(n.required) && n.required.every((r) => typeof r === 'string' && typeof n.properties === 'object' && n.properties !== null && r in n.properties))) {
    out.push(`${path}/required: not a list of declared properties`);
  }
  for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    if (n[k] === undefined) continue;
    if (!Array.isArray(n[k])) out.push(`${path}/${k}: not an array`);
    else (n[k] as unknown[]).forEach((x, i) => out.push(...schemaProblems(x, `${path}/${k}/${i}`)));
  }
  for (const k of ['items', 'additionalProperties', 'not'] as const) if (n[k] !== undefined) out.push(...schemaProblems(n[k], `${path}/${k}`));
  if (n.enum !== undefined && !Array.isArray(n.enum)) out.push(`${path}/enum: not an array`);
  if (n.writeOnly !== undefined && typeof n.writeOnly !== 'boolean') out.push(`${path}/writeOnly: not a boolean`);
  if (n.description !== undefined && typeof n.description !== 'string') out.push(`${path}/description: not a string`);
  return out;
}

export function specAndCheckCases<C>(s: Suite<C>): void {
  const { kit, main } = s.opts;

  describe('spec', () => {
    it('prints a JSON Schema with every setting, secrets marked writeOnly, and exits 0', async () => {
      const r = spawnCli(main, ['spec'], {});
      const res = await r.done;
      expectExit(res, 0);
      const spec = res.json as unknown as SpecOutput;
      expect(spec.kit).toBe(kit.name);
      expect(spec.config.type).toBe('object');
      expect(schemaProblems(spec.config)).toEqual([]);
      const props = spec.config.properties ?? {};
      const shape = (kit.config as unknown as { shape: Record<string, unknown> }).shape;
      expect(Object.keys(shape).filter((k) => !(k in props))).toEqual([]);
      expect(Object.keys(shape).filter((k) => !spec.settings.some((x) => x.key === k))).toEqual([]);
      for (const name of s.opts.fixtures.secretSettings) {
        const setting = spec.settings.find((x) => x.env.includes(name));
        expect({ name, found: !!setting, secret: setting?.secret, writeOnly: setting ? props[setting.key]?.writeOnly : undefined }).toEqual({ name, found: true, secret: true, writeOnly: true });
      }
      const unmarked = spec.settings.filter((x) => x.secret && props[x.key]?.writeOnly !== true).map((x) => x.key);
      expect(unmarked).toEqual([]);
    });
  });

  describe('check', () => {
    it('passes with good credentials and exits 0', async () => {
      const root = mkdtempSync(join(tmpdir(), 'datakit-check-'));
      const r = await runInProcess(kit, ['check'], { ...s.source().env, BRONZE_URL: `file://${root}` });
      expectExit(r, 0);
      expect(r.json).toMatchObject({ status: 'succeeded' });
    });

    it('fails with bad credentials: exit 3, a message naming the setting, and no password anywhere in the output', async () => {
      const src = s.source();
      const root = mkdtempSync(join(tmpdir(), 'datakit-check-'));
      const r = await spawnCli(main, ['check'], { ...src.env, ...src.badCredentials.env, BRONZE_URL: `file://${root}`, MAX_RETRIES: '0' }).done;
      expectExit(r, 3);
      const error = (r.json as { error?: { code?: string; message?: string } } | undefined)?.error;
      expect(error?.code).toMatch(/^SOURCE\./);
      expect(error?.message).toContain(src.badCredentials.setting);
      expectNoSecrets(r.stdout + r.stderr, src.secrets);
    });
  });
}

export function configErrorCases<C>(s: Suite<C>): void {
  const { kit, fixtures } = s.opts;

  describe('configuration and state errors', () => {
    it('rejects an invalid config with exit 2 and a message naming the setting', async () => {
      const root = mkdtempSync(join(tmpdir(), 'datakit-config-'));
      const file = join(fixtures.dir, 'invalid-config.json');
      // the file is the whole configuration: no source settings from the environment
      const r = await runInProcess(kit, ['--config', file, 'check'], { BRONZE_URL: `file://${root}` });
      expectExit(r, 2);
      const error = (r.json as { error?: { code?: string; message?: string } }).error;
      expect(error?.code).toBe('CONFIG.INVALID');
      expect(error?.message).toContain(fixtures.invalidConfigSetting);
    });

    it('rejects an unknown stream with exit 2', async () => {
      const root = mkdtempSync(join(tmpdir(), 'datakit-config-'));
      const r = await s.run({ ...s.source().env, BRONZE_URL: `file://${root}` }, ['no such stream ✗']);
      expectExit(r, 2);
      expect((r.json as { error?: { code?: string } }).error?.code).toBe('CONFIG.UNKNOWN_STREAM');
    });

    it.each(s.targets)('refuses a corrupt state in %s with exit 2 and STATE.CORRUPT, writing nothing', async (kind) => {
      const stream = fixtures.streams[0]!.name;
      const corrupt = JSON.parse(readFileSync(join(fixtures.dir, 'corrupt-state.json'), 'utf8')) as unknown;
      await s.withTarget(kind, async (t) => {
        const env = { ...s.source().env, ...t.env };
        expectExit(await runInProcess(kit, ['check'], env), 0);
        await t.plantState(stream, corrupt);
        const r = await s.run(env, [stream]);
        expectExit(r, 2);
        expect((r.json as { error?: { code?: string } }).error?.code).toBe('STATE.CORRUPT');
        expect(await t.written()).toEqual([]);
      });
    });
  });
}

export function discoverCases<C>(s: Suite<C>): void {
  describe('discover', () => {
    it('lists the fixture streams with their columns, logical types and primary keys', async () => {
      const r = await runInProcess(s.opts.kit, ['discover'], s.source().env);
      expectExit(r, 0);
      const streams = (r.json as { streams: Stream[] }).streams;
      for (const fx of s.opts.fixtures.streams) {
        const found = streams.find((x) => x.name === fx.name);
        expect({ stream: fx.name, found: !!found }).toEqual({ stream: fx.name, found: true });
        const cols: Column[] = found!.columns;
        expect({ stream: fx.name, primaryKey: found!.primaryKey?.length ? found!.primaryKey : undefined }).toEqual({ stream: fx.name, primaryKey: fx.primaryKey });
        if (fx.columns) {
          expect(cols.map((c) => [c.name, typeName(c.type)])).toEqual(fx.columns.map(([n, t]) => [n, typeName(t)]));
        }
        const golden = s.golden(fx.name);
        const goldenCols = [...new Set(golden.flatMap((row) => Object.keys(row)))].sort();
        expect({ stream: fx.name, columns: cols.map((c) => c.name).sort() }).toEqual({ stream: fx.name, columns: goldenCols });
        for (const c of cols) {
          expect({ column: c.name, sourceType: typeof c.sourceType, nullable: typeof c.nullable }).toEqual({ column: c.name, sourceType: 'string', nullable: 'boolean' });
        }
      }
    });
  });
}
