/**
 * Paginators: what to add to a page's request, and where the next page is. A page position is a
 * small JSON value stored in mid-stream checkpoints, so a run killed between pages resumes at the
 * next page (a token or next URL must still be valid then — see docs/kits/rest.md).
 *
 * Every style stops when there is no next page, and on a page without records: offset and
 * page_number always (their position would not advance), the token and URL styles unless
 * `stop_on_empty_page: false` (APIs that page before filtering return empty pages mid-stream).
 */
import LinkHeader from 'http-link-header';
import type { PaginationDefinition } from './definition/pagination.js';
import type { Headers } from './http/rate-headers.js';
import { isRawNumber, numberText, type JsonValue } from './json.js';
import { queryOne } from './select.js';

/** Where the next page is. `seen` counts records so far (for `total_path`). */
export type PagePosition = { offset: number } | { page: number; seen?: number } | { token: string } | { url: string };

/** Changes to a page's request. `url` replaces the stream URL (its own query string included). */
export interface PageRequest {
  params: Record<string, string>;
  url?: string;
}

/** One fetched page, as a paginator sees it. */
export interface PageResult {
  body: JsonValue | undefined;
  headers: Headers;
  records: readonly JsonValue[];
  /** The URL requested (for resolving relative links). */
  url: string;
}

/** A pagination style. */
export interface Paginator {
  /** Where paging parameters go. */
  readonly in: 'query' | 'body';
  readonly maxPages: number | undefined;
  request(pos: PagePosition | undefined): PageRequest;
  /** The next position after a page at `pos`, or undefined when this was the last page. */
  next(pos: PagePosition | undefined, page: PageResult): PagePosition | undefined;
}

function asCount(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number' || isRawNumber(v)) return Number(numberText(v));
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function asToken(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (typeof v === 'number' || isRawNumber(v)) return numberText(v);
  return undefined;
}

function resolveUrl(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  try {
    return new URL(link, base).toString();
  } catch {
    return undefined;
  }
}

function field(rec: JsonValue | undefined, path: string): JsonValue | undefined {
  return rec === undefined ? undefined : queryOne(path, rec);
}

/** The paginator of a stream's (or the API's default) pagination. */
export function createPaginator(def: PaginationDefinition | undefined): Paginator {
  const d = def ?? { type: 'none' as const };
  const where = 'in' in d ? d.in : 'query';
  const maxPages = 'max_pages' in d ? d.max_pages : undefined;
  const base = { in: where, maxPages } as const;
  const paginator = styleOf(d, base);
  if (!('stop_on_empty_page' in d) || !d.stop_on_empty_page) return paginator;
  return { ...paginator, next: (pos, page) => (page.records.length ? paginator.next(pos, page) : undefined) };
}

function styleOf(d: PaginationDefinition, base: Pick<Paginator, 'in' | 'maxPages'>): Paginator {
  switch (d.type) {
    case 'none':
      return { ...base, request: () => ({ params: {} }), next: () => undefined };
    case 'offset':
      return {
        ...base,
        request: (pos) => ({ params: { [d.offset_param]: String(pos && 'offset' in pos ? pos.offset : d.start), [d.limit_param]: String(d.limit) } }),
        next: (pos, page) => {
          const n = page.records.length;
          if (!n || (d.stop_on_short_page && n < d.limit)) return undefined;
          const offset = (pos && 'offset' in pos ? pos.offset : d.start) + n;
          const total = d.total_path && page.body !== undefined ? asCount(queryOne(d.total_path, page.body)) : undefined;
          return total !== undefined && offset >= total ? undefined : { offset };
        },
      };
    case 'page_number':
      return {
        ...base,
        request: (pos) => {
          const params: Record<string, string> = { [d.page_param]: String(pos && 'page' in pos ? pos.page : d.start) };
          if (d.page_size_param && d.page_size !== undefined) params[d.page_size_param] = String(d.page_size);
          return { params };
        },
        next: (pos, page) => {
          const n = page.records.length;
          if (!n || (d.stop_on_short_page && d.page_size !== undefined && n < d.page_size)) return undefined;
          const current = pos && 'page' in pos ? pos.page : d.start;
          const seen = (pos && 'page' in pos ? (pos.seen ?? 0) : 0) + n;
          const body = page.body;
          const pages = d.total_pages_path && body !== undefined ? asCount(queryOne(d.total_pages_path, body)) : undefined;
          if (pages !== undefined && current - d.start + 1 >= pages) return undefined;
          const total = d.total_path && body !== undefined ? asCount(queryOne(d.total_path, body)) : undefined;
          if (total !== undefined && seen >= total) return undefined;
          return d.total_path ? { page: current + 1, seen } : { page: current + 1 };
        },
      };
    case 'cursor':
      return {
        ...base,
        request: (pos) => ({ params: pos && 'token' in pos ? { [d.cursor_param]: pos.token } : {} }),
        next: (_pos, page) => {
          if (d.has_more_path && page.body !== undefined && queryOne(d.has_more_path, page.body) === false) return undefined;
          if (d.cursor_from_last_record) {
            const token = asToken(field(page.records[page.records.length - 1], d.cursor_from_last_record));
            return token === undefined ? undefined : { token };
          }
          const token = page.body === undefined ? undefined : asToken(queryOne(d.cursor_path!, page.body));
          return token === undefined ? undefined : { token };
        },
      };
    case 'next_url':
      return {
        ...base,
        request: (pos) => ({ params: {}, ...(pos && 'url' in pos ? { url: pos.url } : {}) }),
        next: (_pos, page) => {
          const v = page.body === undefined ? undefined : queryOne(d.next_url_path, page.body);
          const url = typeof v === 'string' ? resolveUrl(v, page.url) : undefined;
          return url ? { url } : undefined;
        },
      };
    case 'link_header':
      return {
        ...base,
        request: (pos) => ({ params: {}, ...(pos && 'url' in pos ? { url: pos.url } : {}) }),
        next: (_pos, page) => {
          const raw = page.headers['link'];
          if (!raw) return undefined;
          let link: string | undefined;
          try {
            link = LinkHeader.parse(raw).rel(d.rel)[0]?.uri;
          } catch {
            return undefined;
          }
          const url = resolveUrl(link, page.url);
          return url ? { url } : undefined;
        },
      };
    case 'header_token':
      return {
        ...base,
        request: (pos) => ({ params: pos && 'token' in pos ? { [d.cursor_param]: pos.token } : {} }),
        next: (_pos, page) => {
          const token = page.headers[d.header.toLowerCase()]?.trim();
          return token ? { token } : undefined;
        },
      };
  }
}
