/**
 * A page's HTTP request from the definition: the stream URL (placeholders filled from the parent
 * record: `/customers/{customer.id}/orders`), API and stream params and headers, the JSON body, and
 * the paging and incremental parameters (in the query or the body).
 */
import { DatakitError } from '@datakit/core';
import type { ApiDefinition, StreamDefinition } from './definition/schema.js';
import type { HttpRequest } from './http/client.js';
import { isJsonObject, isRawNumber, numberText, type JsonValue } from './json.js';
import type { PageRequest, Paginator } from './paginate.js';
import { queryOne } from './select.js';

/** Values placeholders may use: a parent record by its alias, and `incremental.start` / `.end`. */
export type Vars = Record<string, JsonValue>;

const PLACEHOLDER = /\{([A-Za-z_]\w*)\.([^{}\s]+)\}/g;

function text(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || isRawNumber(v)) return numberText(v);
  return JSON.stringify(v);
}

/** Fill `{alias.field}` placeholders; unknown aliases stay as written. */
export function fill(template: string, vars: Vars, stream: string, encode: boolean): string {
  return template.replace(PLACEHOLDER, (whole, alias: string, path: string) => {
    if (!Object.hasOwn(vars, alias)) return whole;
    const v = queryOne(path, vars[alias]!);
    if (v === undefined || v === null) {
      throw new DatakitError('DATA.INVALID_RECORD', `placeholder ${whole}: the ${alias} record has no value at ${path}`, {
        where: { kit: 'rest', stream },
        fix: 'check the placeholder against the parent stream’s records',
      });
    }
    return encode ? encodeURIComponent(text(v)) : text(v);
  });
}

function fillDeep(value: unknown, vars: Vars, stream: string): unknown {
  if (typeof value === 'string') return fill(value, vars, stream, false);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, vars, stream));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, vars, stream)]));
  return value;
}

/** The stream URL: `path` appended to `base_url` (an absolute `path` is used as is). */
export function streamUrl(api: ApiDefinition, path: string): string {
  if (/^https?:\/\//i.test(path)) return path;
  return `${api.base_url.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Where the incremental parameters go and what they are. */
export interface RangeParams {
  in: 'query' | 'body';
  params: Record<string, string>;
}

/** Everything a page request needs. */
export interface PageRequestInput {
  api: ApiDefinition;
  stream: StreamDefinition;
  vars: Vars;
  paginator: Paginator;
  page: PageRequest;
  range?: RangeParams;
  /** 1-based page number (messages). */
  pageNumber: number;
}

/** Build the HTTP request of one page. */
export function buildRequest(p: PageRequestInput): HttpRequest {
  const { api, stream: s, vars } = p;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...api.headers, ...s.headers })) headers[k] = fill(v, vars, s.name, false);
  const body: Record<string, unknown> = s.body ? (fillDeep(s.body, vars, s.name) as Record<string, unknown>) : {};
  const query: Record<string, string> = {};
  const put = (where: 'query' | 'body', params: Record<string, string>): void => {
    Object.assign(where === 'query' ? query : body, params);
  };
  let url: string;
  if (p.page.url) {
    // a next URL from the API carries its own query string (filters, range, paging)
    url = p.page.url;
    if (p.paginator.in === 'body') put('body', p.page.params);
  } else {
    url = streamUrl(api, fill(s.path, vars, s.name, true));
    for (const [k, v] of Object.entries({ ...api.params, ...s.params })) query[k] = fill(String(v), vars, s.name, false);
    if (p.range) put(p.range.in, p.range.params);
    put(p.paginator.in, p.page.params);
  }
  const hasBody = s.method === 'POST' || Object.keys(body).length > 0;
  return {
    method: s.method,
    url,
    query,
    headers,
    ...(hasBody ? { json: body } : {}),
    stream: s.name,
    page: p.pageNumber,
  };
}

/** The text of a record field (dotted path or JSONPath), or undefined when absent or null. */
export function fieldText(record: JsonValue, path: string): string | undefined {
  if (!isJsonObject(record)) return undefined;
  const v = Object.hasOwn(record, path) ? record[path] : queryOne(path, record);
  if (v === undefined || v === null) return undefined;
  return text(v);
}

/** A record's primary key as one string (`42`, or `["a","1"]` for composite keys). */
export function keyOf(record: JsonValue, pk: string[]): string {
  if (pk.length === 1) return fieldText(record, pk[0]!) ?? 'null';
  return JSON.stringify(pk.map((f) => fieldText(record, f) ?? null));
}
