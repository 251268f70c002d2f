/**
 * Fetch one page and read its records exactly: JSON or NDJSON (from `response_format` or the
 * Content-Type), an HTML error page or a malformed body is an error naming the stream, page and URL,
 * and so is a record selector that matches nothing or a record that is not an object.
 */
import { bodyError, type RequestWhere } from './errors.js';
import type { HttpClient, HttpRequest } from './http/client.js';
import type { Headers } from './http/rate-headers.js';
import { isJsonObject, NdjsonError, parseExact, parseNdjson, type JsonValue } from './json.js';
import { selectRecords } from './select.js';
import { jsonKind } from './type-map.js';

/** A page read. */
export interface FetchedPage {
  body: JsonValue | undefined;
  records: JsonValue[];
  headers: Headers;
  /** The URL requested (unredacted: for resolving relative links only). */
  url: string;
  where: RequestWhere;
}

/** How to read a page's body. */
export interface PageFormat {
  format: 'auto' | 'json' | 'ndjson';
  selector: string | undefined;
}

const NDJSON_TYPES = /ndjson|jsonl|json-seq|jsonlines|x-json-stream/i;

function htmlTitle(text: string): string | undefined {
  const m = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(text);
  return m ? m[1]!.trim() : undefined;
}

/** Send `req` and read its records. */
export async function fetchPage(http: HttpClient, req: HttpRequest, fmt: PageFormat): Promise<FetchedPage> {
  const res = await http.send(req);
  const where: RequestWhere = { stream: req.stream, page: req.page, method: req.method, url: res.redactedUrl };
  const base = { headers: res.headers, url: res.url, where };
  const type = res.headers['content-type'] ?? '';
  const head = res.text.slice(0, 512).trimStart();
  if (!head) return { ...base, body: undefined, records: [] };
  if (/text\/html|application\/xhtml/i.test(type) || head.startsWith('<')) {
    const title = htmlTitle(res.text);
    throw bodyError(where, `the server sent an HTML page instead of JSON (HTTP ${res.status}, ${type || 'no Content-Type'}${title ? `, title "${title}"` : ''})`);
  }
  const format = fmt.format !== 'auto' ? fmt.format : NDJSON_TYPES.test(type) ? 'ndjson' : 'json';
  let body: JsonValue | undefined;
  let records: JsonValue[];
  if (format === 'ndjson') {
    try {
      records = parseNdjson(res.text);
    } catch (e) {
      const line = e instanceof NdjsonError ? e.line : undefined;
      throw bodyError(where, `malformed NDJSON${line ? ` at line ${line}` : ''}: ${(e as Error).message.replace(/^line \d+: /, '')}`);
    }
  } else {
    try {
      body = parseExact(res.text);
    } catch (e) {
      throw bodyError(where, `malformed JSON (${type || 'no Content-Type'}): ${(e as Error).message}`);
    }
    const sel = selectRecords(fmt.selector, body);
    if (!sel.ok) throw bodyError(where, sel.reason);
    records = sel.records;
  }
  for (let i = 0; i < records.length; i++) {
    if (!isJsonObject(records[i])) throw bodyError(where, `record ${i + 1} of the page is ${jsonKind(records[i]!)}, not an object`);
  }
  return { ...base, body, records };
}
