/**
 * JSONPath over exact JSON values: the record selector and single values (next token, total,
 * has_more, cursor field). Plain member paths (`$.data`, `$.meta.next`, `updated_at`) are resolved
 * directly; anything else goes to `jsonpath-plus` with its safe (non-`eval`) script engine.
 */
import { JSONPath } from 'jsonpath-plus';
import { isJsonObject, type JsonValue } from './json.js';

const MEMBER = /^(?:\.([A-Za-z_$][\w$-]*)|\['([^'\\]*)'\]|\["([^"\\]*)"\])/;

/** Keys of a plain member path (`$.a.b`, `$['a b']`, `a.b`), or undefined when it needs JSONPath. */
export function memberPath(path: string): string[] | undefined {
  let rest = path.startsWith('$') ? path.slice(1) : path ? `.${path}` : '';
  const keys: string[] = [];
  while (rest) {
    const m = MEMBER.exec(rest);
    if (!m) return undefined;
    keys.push(m[1] ?? m[2] ?? m[3]!);
    rest = rest.slice(m[0].length);
  }
  return keys;
}

const compiled = new Map<string, string[] | undefined>();
function keysOf(path: string): string[] | undefined {
  if (!compiled.has(path)) compiled.set(path, memberPath(path));
  return compiled.get(path);
}

/** Every node `path` matches (JSONPath, or a dotted field path). */
export function query(path: string, json: JsonValue): JsonValue[] {
  const keys = keysOf(path);
  if (keys) {
    let node: JsonValue | undefined = json;
    for (const k of keys) {
      if (!isJsonObject(node) || !Object.hasOwn(node, k)) return [];
      node = node[k];
    }
    return node === undefined ? [] : [node];
  }
  const jp = path.startsWith('$') ? path : `$.${path}`;
  return JSONPath({ path: jp, json: json as object, wrap: true, eval: 'safe' }) as JsonValue[];
}

/** The first node `path` matches, or undefined. */
export function queryOne(path: string, json: JsonValue): JsonValue | undefined {
  return query(path, json)[0];
}

/** The outcome of a record selector on one body. */
export type Selection = { ok: true; records: JsonValue[] } | { ok: false; reason: string };

/**
 * Records of a page. The selector names the record array (`$.data`) or its items (`$.data[*]`);
 * both mean the same, and an empty or `null` array is an empty page. A selector that matches
 * nothing at all (the key is missing) is an error: the page is not what we expect. Without a
 * selector, the body must be an array.
 */
export function selectRecords(selector: string | undefined, body: JsonValue): Selection {
  if (selector === undefined) {
    if (Array.isArray(body)) return { ok: true, records: body };
    if (body === null) return { ok: true, records: [] };
    return { ok: false, reason: 'the body is not an array (set record_selector, e.g. $.data)' };
  }
  const star = /^(.*?)(?:\[\*\]|\.\*)$/.exec(selector);
  const base = star ? star[1]! : selector;
  const nodes = base === '$' || base === '' ? [body] : query(base, body);
  if (!nodes.length) return { ok: false, reason: `record_selector ${selector} matched nothing` };
  const records: JsonValue[] = [];
  for (const n of nodes) {
    if (n === null) continue;
    if (Array.isArray(n)) {
      if (nodes.length === 1) return { ok: true, records: n };
      for (const r of n) records.push(r); // no spread: pages may hold more items than call arguments
    } else if (star && isJsonObject(n)) for (const r of Object.values(n)) records.push(r);
    else records.push(n);
  }
  return { ok: true, records };
}
