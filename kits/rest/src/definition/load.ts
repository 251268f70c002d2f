/**
 * Load an API definition: read the YAML/JSON file, fill `${env:NAME}` references, validate it against
 * the schema (errors name the offending key, e.g. `streams.orders.pagination.limit`), fill secrets
 * from the kit's settings, and register every secret with core's redactor.
 */
import { readFileSync, statSync } from 'node:fs';
import { DatakitError, redactor } from '@datakit/core';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { RestKitConfig } from '../config.js';
import { apiDefinitionSchema, type ApiDefinition, type StreamDefinition } from './schema.js';

/** A loaded, validated definition and the secrets found in it. */
export interface LoadedDefinition {
  api: ApiDefinition;
  /** Streams by name. */
  streams: Map<string, StreamDefinition>;
  /** Every secret value (auth values, env values used in headers/params/body). */
  secrets: string[];
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** Sections whose `${env:…}` values are secrets. */
const SECRET_SECTIONS = new Set(['auth', 'headers', 'params', 'body']);

/** The env names of the kit's settings, so `${env:REST_API_KEY}` sees `REST_API_KEY_FILE` and test envs. */
function settingsByEnv(config: RestKitConfig): Record<string, string | undefined> {
  return {
    REST_API_KEY: config.apiKey,
    REST_TOKEN: config.token,
    REST_USERNAME: config.username,
    REST_PASSWORD: config.password,
    REST_CLIENT_ID: config.clientId,
    REST_CLIENT_SECRET: config.clientSecret,
    REST_REFRESH_TOKEN: config.refreshToken,
  };
}

function lookupEnv(name: string, config: RestKitConfig, env: NodeJS.ProcessEnv): string | undefined {
  const fromSettings = settingsByEnv(config)[name];
  if (fromSettings !== undefined) return fromSettings;
  if (env[name] !== undefined) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new DatakitError('CONFIG.INVALID', `${name}_FILE: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function interpolate(value: unknown, path: (string | number)[], ctx: { config: RestKitConfig; env: NodeJS.ProcessEnv; secrets: Set<string>; file: string }): unknown {
  if (typeof value === 'string') {
    const secretSection = path.some((p) => typeof p === 'string' && SECRET_SECTIONS.has(p));
    return value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = lookupEnv(name, ctx.config, ctx.env) ?? fallback;
      if (v === undefined) {
        throw new DatakitError('CONFIG.INVALID', `${ctx.file}: ${formatPath(path, undefined)}: \${env:${name}} is not set`, { fix: `set ${name} or ${name}_FILE` });
      }
      if (secretSection) ctx.secrets.add(v);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], ctx));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], ctx)]));
  }
  return value;
}

/** `streams.orders.pagination.limit` from a zod path (stream indexes become names). */
export function formatPath(path: readonly PropertyKey[], raw: unknown): string {
  const out: string[] = [];
  let node: unknown = raw;
  for (const p of path) {
    const seg = typeof p === 'symbol' ? p.toString() : p;
    const name = out.length === 1 && out[0] === 'streams' && typeof seg === 'number' ? (node as { name?: unknown }[] | undefined)?.[seg]?.name : undefined;
    out.push(typeof name === 'string' ? name : String(seg));
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[seg as string | number] : undefined;
  }
  return out.join('.') || '(top level)';
}

function describeIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, file: string): string {
  const parts = issues.slice(0, 5).map((i) => {
    if (i.code === 'unrecognized_keys') return `${formatPath(i.path, raw)}: unknown key ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${formatPath(i.path, raw)}: ${i.message}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `API definition ${file} is invalid: ${parts.join('; ')}${more}`;
}

function secretsOf(api: ApiDefinition): string[] {
  const a = api.auth;
  switch (a.type) {
    case 'api_key':
      return [a.value ?? ''];
    case 'bearer':
      return [a.token ?? ''];
    case 'basic':
      return [a.password ?? ''];
    case 'oauth2_client_credentials':
      return [a.client_secret ?? ''];
    case 'oauth2_refresh_token':
      return [a.client_secret ?? '', a.refresh_token ?? ''];
    case 'headers':
      return Object.values(a.headers);
    default:
      return [];
  }
}

/** Fill secrets the definition left out from the kit's settings. */
function withSettings(api: ApiDefinition, config: RestKitConfig): ApiDefinition {
  const a = api.auth;
  const need = (v: string | undefined, env: string): string => {
    if (v !== undefined && v !== '') return v;
    throw new DatakitError('CONFIG.INVALID', `auth type ${a.type} needs ${env} (or a value in the definition)`, { fix: `set ${env} or ${env}_FILE` });
  };
  switch (a.type) {
    case 'api_key':
      return { ...api, auth: { ...a, value: need(a.value ?? config.apiKey, 'REST_API_KEY') } };
    case 'bearer':
      return { ...api, auth: { ...a, token: need(a.token ?? config.token, 'REST_TOKEN') } };
    case 'basic':
      return { ...api, auth: { ...a, username: need(a.username ?? config.username, 'REST_USERNAME'), password: need(a.password ?? config.password, 'REST_PASSWORD') } };
    case 'oauth2_client_credentials':
      return { ...api, auth: { ...a, client_id: need(a.client_id ?? config.clientId, 'REST_CLIENT_ID'), client_secret: need(a.client_secret ?? config.clientSecret, 'REST_CLIENT_SECRET') } };
    case 'oauth2_refresh_token':
      return {
        ...api,
        auth: { ...a, client_id: need(a.client_id ?? config.clientId, 'REST_CLIENT_ID'), client_secret: a.client_secret ?? config.clientSecret, refresh_token: need(a.refresh_token ?? config.refreshToken, 'REST_REFRESH_TOKEN') },
      };
    default:
      return api;
  }
}

/** Validate a parsed definition object (already read from its file). */
export function parseDefinition(raw: unknown, config: RestKitConfig, opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedDefinition {
  const file = opts.file ?? 'REST_CONFIG';
  const secrets = new Set<string>();
  const filled = interpolate(raw, [], { config, env: opts.env ?? process.env, secrets, file });
  const parsed = apiDefinitionSchema.safeParse(filled);
  if (!parsed.success) {
    throw new DatakitError('CONFIG.INVALID', describeIssues(parsed.error.issues, raw, file), { fix: 'see schema/api-definition.schema.json of @datakit/kit-rest' });
  }
  const api = withSettings(parsed.data, config);
  for (const s of secretsOf(api)) secrets.add(s);
  const list = [...secrets].filter((s) => s.length >= 3);
  redactor.add(list);
  return { api, streams: new Map(api.streams.map((s) => [s.name, s])), secrets: list };
}

const cache = new Map<string, { mtimeMs: number; config: RestKitConfig; loaded: LoadedDefinition }>();

/** Read and validate the definition named by `REST_CONFIG` (cached per file and settings). */
export function loadDefinition(config: RestKitConfig, env: NodeJS.ProcessEnv = process.env): LoadedDefinition {
  const file = config.definition;
  let mtimeMs: number;
  let text: string;
  try {
    mtimeMs = statSync(file).mtimeMs;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs && hit.config === config) return hit.loaded;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatakitError('CONFIG.INVALID', `REST_CONFIG: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { fix: 'set REST_CONFIG to the path of the API definition' });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new DatakitError('CONFIG.INVALID', `API definition ${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const loaded = parseDefinition(raw, config, { file, env });
  cache.set(file, { mtimeMs, config, loaded });
  return loaded;
}
