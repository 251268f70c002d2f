/**
 * Configuration: one zod object schema per kit (plus core's runtime settings), validated once at the
 * edge. Every top-level setting names its environment variables; secrets are marked in the schema,
 * may also come from `<NAME>_FILE`, and are scrubbed from every log line and error.
 *
 * Precedence (highest first): environment (`NAME`, then `NAME_FILE`), the config file (`--config`,
 * YAML or JSON, keyed by setting name or env name), the schema's default.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DatakitError } from './errors.js';

/** Metadata a setting carries in the schema. */
export interface SettingMeta {
  /** Environment variable names, first found wins (e.g. `['SOURCE_DATABASE_URL', 'DATABASE_URL']`). */
  env?: string | string[];
  /** Secret: never logged, accepted as `<ENV>_FILE`, scrubbed from errors. */
  secret?: boolean;
  /**
   * The value may carry a secret without being one, such as a target URL with a password in it:
   * `spec` marks it `writeOnly` (UIs mask it), while only the password is scrubbed (as in every URL),
   * so a host or path stays readable in reports and messages. A `secret` is always writeOnly.
   */
  writeOnly?: boolean;
  description?: string;
}

/**
 * Mark a setting with its env names and secrecy. Apply it last (after `.optional()`/`.default()`),
 * so the marker sits on the outermost schema.
 *
 * @example
 * password: setting(z.string().optional(), { env: 'SOURCE_PASSWORD', secret: true })
 */
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  const { description, ...rest } = meta;
  return schema.meta({ ...(description ? { description } : {}), datakit: rest }) as T;
}

/** Shorthand for a secret setting. */
export function secret<T extends z.ZodType>(schema: T, env: string | string[], description?: string): T {
  return setting(schema, { env, secret: true, ...(description ? { description } : {}) });
}

function metaOf(schema: z.ZodType): SettingMeta {
  const m = schema.meta() as { datakit?: SettingMeta; description?: string } | undefined;
  return { ...(m?.datakit ?? {}), ...(m?.description ? { description: m.description } : {}) };
}

function envNames(meta: SettingMeta): string[] {
  if (!meta.env) return [];
  return Array.isArray(meta.env) ? meta.env : [meta.env];
}

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> {
  if (!(schema instanceof z.ZodObject)) throw new Error('a kit config schema must be a z.object()');
  return schema.shape as Record<string, z.ZodType>;
}

/** What a schema's JSON Schema says a setting's type is (for coercing env strings). */
function jsonType(schema: z.ZodType): string | undefined {
  try {
    const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: string; anyOf?: { type?: string }[] };
    return js.type ?? js.anyOf?.find((a) => a.type && a.type !== 'null')?.type;
  } catch {
    return undefined;
  }
}

function coerceEnv(raw: string, type: string | undefined): unknown {
  if (type === 'number' || type === 'integer') {
    const n = Number(raw.trim());
    return raw.trim() === '' || Number.isNaN(n) ? raw : n;
  }
  if (type === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    return raw;
  }
  if (type === 'array' && !raw.trim().startsWith('[')) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

/** Where each setting came from, for error messages. */
type Origin = Record<string, string>;

export interface LoadedConfig<C> {
  config: C;
  /** Every secret value found (for redaction). */
  secrets: string[];
}

/** Read a config file (YAML or JSON). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DatakitError('CONFIG.INVALID', `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { fix: 'check --config' });
  }
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new DatakitError('CONFIG.INVALID', `config file ${path} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`, { fix: 'check --config' });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new DatakitError('CONFIG.INVALID', `config file ${path} must hold an object of settings`);
  return data as Record<string, unknown>;
}

/**
 * Build the config from env, `_FILE` secrets, an optional config file and defaults; validate it.
 * Throws `CONFIG.INVALID` naming the setting (by its env name) and the reason, never its value.
 */
export function loadConfig<C>(schema: z.ZodType<C>, opts: { env?: NodeJS.ProcessEnv; file?: Record<string, unknown> } = {}): LoadedConfig<C> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? {};
  const shape = shapeOf(schema);
  const input: Record<string, unknown> = {};
  const origin: Origin = {};
  const secretKeys: string[] = [];

  for (const [key, field] of Object.entries(shape)) {
    const meta = metaOf(field);
    const names = envNames(meta);
    if (meta.secret) secretKeys.push(key);
    let found = false;
    for (const name of names) {
      const raw = env[name];
      if (raw !== undefined && raw !== '') {
        input[key] = coerceEnv(raw, jsonType(field));
        origin[key] = name;
        found = true;
        break;
      }
      const filePath = env[`${name}_FILE`];
      if (filePath) {
        try {
          input[key] = coerceEnv(readFileSync(filePath, 'utf8').replace(/\r?\n$/, ''), jsonType(field));
        } catch (e) {
          throw new DatakitError('CONFIG.INVALID', `${name}_FILE: cannot read ${filePath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { fix: `mount the secret file or set ${name}` });
        }
        origin[key] = `${name}_FILE`;
        found = true;
        break;
      }
    }
    if (found) continue;
    const fromFile = file[key] ?? names.map((n) => file[n]).find((v) => v !== undefined);
    if (fromFile !== undefined) {
      input[key] = fromFile;
      origin[key] = `config file key ${key}`;
    }
  }

  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const field = shape[key];
    const names = field ? envNames(metaOf(field)) : [];
    const label = origin[key] ?? (names.length ? names.join(' or ') : key || 'config');
    const where = issue.path.length > 1 ? ` at ${issue.path.slice(1).join('.')}` : '';
    const fix = names.length ? `set ${names[0]}${field && metaOf(field).secret ? ` or ${names[0]}_FILE` : ''}` : undefined;
    throw new DatakitError('CONFIG.INVALID', `${label}${where}: ${issue.message}`, fix ? { fix } : {});
  }
  const config = parsed.data;
  const secrets = new Set<string>();
  for (const key of secretKeys) collectStrings((config as Record<string, unknown>)[key], secrets);
  for (const value of Object.values(config as Record<string, unknown>)) collectUrlSecrets(value, secrets);
  return { config, secrets: [...secrets].filter((s) => s.length >= 3) };
}

function collectStrings(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') out.add(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => collectStrings(x, out));
}

/** Passwords inside URLs (`postgres://u:pw@h/db`) are secrets wherever they appear. */
function collectUrlSecrets(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') {
    if (!v.includes('://')) return;
    try {
      const u = new URL(v);
      if (u.password) {
        out.add(u.password);
        out.add(decodeURIComponent(u.password));
      }
    } catch {
      /* not a URL */
    }
  } else if (Array.isArray(v)) v.forEach((x) => collectUrlSecrets(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => collectUrlSecrets(x, out));
}

/** The settings table of a schema: key, env names, secret, JSON Schema (for `spec` and docs). */
export function describeSettings(schema: z.ZodType): { key: string; env: string[]; secret: boolean; writeOnly?: true; description?: string }[] {
  return Object.entries(shapeOf(schema)).map(([key, field]) => {
    const meta = metaOf(field);
    return { key, env: envNames(meta), secret: !!meta.secret, ...(meta.writeOnly ? { writeOnly: true as const } : {}), ...(meta.description ? { description: meta.description } : {}) };
  });
}

/** JSON Schema of a config schema, with `x-env` and `writeOnly` (secrets, and URLs that may hold a password) on each setting. */
export function configJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Record<string, unknown>> };
  for (const s of describeSettings(schema)) {
    const p = js.properties?.[s.key];
    if (!p) continue;
    delete p.datakit;
    if (s.env.length) p['x-env'] = s.env;
    if (s.secret || s.writeOnly) p.writeOnly = true;
  }
  return js as Record<string, unknown>;
}

/** A positive integer setting from env. */
export const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);
