/**
 * The contract suite's API (behind `/bearer/contract/…`, so a wrong token gets 401): each fixture
 * record is written as exact JSON source text next to the canonical bronze value it must become
 * (testkit's read-back form), so the golden files come from the fixtures, never from the kit.
 *
 * - `orders`: incremental on `updated_at` (ties in pairs), offset paging with a total; ids beyond
 *   2^53, decimals given as numbers and as strings, nested JSON, a field absent, null or set.
 * - `lines`: hostile stream and column names, cursor (token) paging.
 * - `types`: one column per declarable type, with NULL and absent variants.
 * - `big`: the large input (rows set by the seed), page-number paging with a page count.
 */
import type { CanonicalRow } from '@datakit/testkit';
import { json, type Reply, type Route } from './reply.js';

/** A fixture record: its JSON text on the wire, and what bronze must hold. */
export interface FixtureRecord {
  json: string;
  expected: CanonicalRow;
  /** For the incremental route: the cursor value and the key. */
  updatedAt?: string;
  key?: string;
}

const FIRST_ID = 9007199254740993n; // 2^53 + 1
const BASE_MS = Date.UTC(2024, 0, 1);
const iso = (minutes: number): string => new Date(BASE_MS + minutes * 60_000).toISOString().replace('.000Z', 'Z');
const pgTz = (isoText: string): string => `${isoText.replace('T', ' ').replace('Z', '')}+00`;
const obj = (fields: [string, string | undefined][]): string => `{${fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** Declared columns of the orders stream (the order discover reports). */
export const ORDER_COLUMNS = { id: 'int64', customer: 'string', amount: 'decimal(12,2)', paid: 'boolean', updated_at: 'timestamptz', attrs: 'json', note: 'string' } as const;

/** Order `i` updated at minute `minute`. */
export function order(i: number, minute: number): FixtureRecord {
  const id = (FIRST_ID + BigInt(i)).toString();
  const [amountJson, amount] = i % 3 === 0 ? [`${i}.50`, `${i}.50`] : i % 3 === 1 ? [`${i}.5`, `${i}.50`] : [`"${i}.05"`, `${i}.05`];
  const updatedAt = iso(minute);
  const attrs = `{"n":${i},"big":9007199254740993,"tags":["a",${i}],"price":1.10,"deep":{"x":null}}`;
  const note = i % 4 === 0 ? undefined : i % 4 === 1 ? 'null' : JSON.stringify(`note ${i} ✓`);
  const customer = `customer ${i} «é» 😀`;
  return {
    json: obj([['id', id], ['customer', JSON.stringify(customer)], ['amount', amountJson], ['paid', String(i % 2 === 0)], ['updated_at', JSON.stringify(updatedAt)], ['attrs', attrs], ['note', note]]),
    expected: { id, customer, amount, paid: i % 2 === 0, updated_at: pgTz(updatedAt), attrs, note: note === undefined || note === 'null' ? null : `note ${i} ✓` },
    updatedAt,
    key: id,
  };
}

/** Columns of the hostile-names stream. */
export const LINE_COLUMNS = { 'order id': 'int64', 'line#': 'int64', select: 'string', '1st column': 'string', 'emoji 😀': 'boolean', CamelCase: 'json' } as const;

function line(i: number): FixtureRecord {
  const [orderId, lineNo] = [Math.floor(i / 3) + 1, (i % 3) + 1];
  return {
    json: obj([['order id', String(orderId)], ['line#', String(lineNo)], ['select', JSON.stringify(`from "${i}"`)], ['1st column', i % 2 ? 'null' : JSON.stringify("it's")], ['emoji 😀', String(i % 2 === 0)], ['CamelCase', `[${i},"x"]`]]),
    expected: { 'order id': String(orderId), 'line#': String(lineNo), select: `from "${i}"`, '1st column': i % 2 ? null : "it's", 'emoji 😀': i % 2 === 0, CamelCase: `[${i},"x"]` },
  };
}

/** Declared columns of the type table: one per declarable type (two decimals). */
export const TYPE_COLUMNS = {
  id: 'int64',
  c_string: 'string',
  c_int64: 'int64',
  c_float64: 'float64',
  c_boolean: 'boolean',
  c_json: 'json',
  c_timestamptz: 'timestamptz',
  c_timestamp: 'timestamp',
  c_date: 'date',
  c_decimal: 'decimal(38,9)',
  c_decimal_small: 'decimal(5,2)',
} as const;

type TypeCase = Partial<Record<keyof typeof TYPE_COLUMNS, [json: string, expected: CanonicalRow[string]]>>;
const UNICODE = 'héllo wörld 😀 日本 \'quoted\' "double" \\back\ttab\nline';
const TYPE_ROWS: TypeCase[] = [
  // every column an explicit null
  Object.fromEntries(Object.keys(TYPE_COLUMNS).map((k) => [k, ['null', null]])) as TypeCase,
  // every column absent
  {},
  {
    c_string: [JSON.stringify(UNICODE), UNICODE],
    c_int64: ['9007199254740993', '9007199254740993'],
    c_float64: ['3.141592653589793', 3.141592653589793],
    c_boolean: ['true', true],
    c_json: ['{"a":[1,2.50,{"b":null}],"id":9007199254740993,"big":123456789012345678901234567890.5,"s":"é😀"}', '{"a":[1,2.50,{"b":null}],"id":9007199254740993,"big":123456789012345678901234567890.5,"s":"é😀"}'],
    c_timestamptz: ['"2024-01-02T03:04:05.123456+02:00"', '2024-01-02 01:04:05.123456+00'],
    c_timestamp: ['"2024-01-02T03:04:05.123456"', '2024-01-02 03:04:05.123456'],
    c_date: ['"2024-02-29"', '2024-02-29'],
    c_decimal: ['12345678901234567890123456789.123456789', '12345678901234567890123456789.123456789'],
    c_decimal_small: ['"12.5"', '12.50'],
  },
  {
    c_string: ['""', ''],
    c_int64: ['9223372036854775807', '9223372036854775807'],
    c_float64: ['0.1', 0.1],
    c_boolean: ['false', false],
    c_json: ['[]', '[]'],
    c_timestamptz: ['"1970-01-01T00:00:00Z"', '1970-01-01 00:00:00+00'],
    c_timestamp: ['"1999-12-31T23:59:59"', '1999-12-31 23:59:59'],
    c_date: ['"0001-01-01"', '0001-01-01'],
    c_decimal: ['-0.000000001', '-0.000000001'],
    c_decimal_small: ['-999.99', '-999.99'],
  },
  {
    c_string: ['"😀"', '😀'],
    c_int64: ['-9223372036854775808', '-9223372036854775808'],
    c_float64: ['-2.5e-7', -2.5e-7],
    c_json: ['18446744073709551616', '18446744073709551616'],
    c_decimal: ['0', '0.000000000'],
    c_decimal_small: ['1E2', '100.00'],
  },
  { c_json: ['"just a string"', '"just a string"'], c_string: ['"  spaces  "', '  spaces  '] },
];

function typeRecord(c: TypeCase, i: number): FixtureRecord {
  const id = String(i + 1);
  const fields = Object.keys(TYPE_COLUMNS).filter((k) => k !== 'id') as (keyof typeof TYPE_COLUMNS)[];
  return {
    json: obj([['id', id], ...fields.map((k): [string, string | undefined] => [k, c[k]?.[0]])]),
    expected: { id, ...Object.fromEntries(fields.map((k) => [k, c[k]?.[1] ?? null])) },
  };
}

/** The hostile stream name. */
export const LINES = 'Order Lines 🚀';

/** The API definition of a contract source at `url`. */
export function contractDefinition(url: string): object {
  return {
    base_url: url,
    auth: { type: 'bearer' },
    retry: { backoff_base_ms: 10, backoff_max_ms: 100 },
    check_stream: 'orders',
    streams: [
      {
        name: 'orders',
        path: '/bearer/contract/orders',
        record_selector: '$.data',
        primary_key: 'id',
        pagination: { type: 'offset', limit: 7, total_path: '$.total' },
        incremental: { cursor_field: 'updated_at', cursor_param: 'since' },
        columns: ORDER_COLUMNS,
      },
      {
        name: LINES,
        path: '/bearer/contract/lines',
        record_selector: '$.items',
        primary_key: ['order id', 'line#'],
        pagination: { type: 'cursor', cursor_param: 'cursor', cursor_path: '$.next' },
        columns: LINE_COLUMNS,
      },
      { name: 'datakit_types', path: '/bearer/contract/types', primary_key: 'id', columns: TYPE_COLUMNS },
      {
        name: 'big',
        path: '/bearer/contract/big',
        record_selector: '$.data',
        primary_key: 'id',
        pagination: { type: 'page_number', page_size: 1000, page_size_param: 'per_page', total_pages_path: '$.total_pages' },
      },
    ],
  };
}

/** One big record's JSON (generated on request, never stored). */
function bigRecord(id: number): string {
  return `{"id":${id},"kind":"kind-${id % 13}","amount":${id}.${String(id % 10000).padStart(4, '0')},"at":"${iso(id % 100_000)}","payload":"${'x'.repeat(64)}"}`;
}

/** The data behind one contract source. */
export class ContractData {
  readonly orders: FixtureRecord[] = Array.from({ length: 30 }, (_, i) => order(i, Math.floor(i / 2)));
  readonly lines: FixtureRecord[] = Array.from({ length: 12 }, (_, i) => line(i));
  readonly types: FixtureRecord[] = TYPE_ROWS.map(typeRecord);
  bigRows = 0;

  /** Append `n` orders: the first five tie with the newest `updated_at`, the rest are newer. */
  appendOrders(n: number): string[] {
    const last = this.orders.reduce((m, o) => (o.updatedAt! > m ? o.updatedAt! : m), '');
    const lastMinute = (Date.parse(last) - BASE_MS) / 60_000;
    const first = this.orders.length;
    const added = Array.from({ length: n }, (_, k) => order(first + k, k < 5 ? lastMinute : lastMinute + k));
    this.orders.push(...added);
    return added.map((o) => o.key!);
  }

  /** The routes serving this data. */
  routes(): Route[] {
    const list = (records: FixtureRecord[]): string => `[${records.map((r) => r.json).join(',')}]`;
    const int = (q: URLSearchParams, name: string, def: number): number => (q.get(name) ? Number(q.get(name)) : def);
    const byPath: Record<string, (q: URLSearchParams) => Reply> = {
      '/bearer/contract/orders': (q) => {
        const since = q.get('since') ?? '';
        const rows = this.orders.filter((o) => o.updatedAt! >= since).sort((a, b) => (a.updatedAt! < b.updatedAt! ? -1 : a.updatedAt! > b.updatedAt! ? 1 : Number(BigInt(a.key!) - BigInt(b.key!))));
        const offset = int(q, 'offset', 0);
        return raw(`{"data":${list(rows.slice(offset, offset + int(q, 'limit', 10)))},"total":${rows.length}}`);
      },
      '/bearer/contract/lines': (q) => {
        const from = Number(q.get('cursor') ?? 0);
        const next = from + 5 < this.lines.length ? `"${from + 5}"` : 'null';
        return raw(`{"items":${list(this.lines.slice(from, from + 5))},"next":${next}}`);
      },
      '/bearer/contract/types': () => raw(list(this.types)),
      '/bearer/contract/big': (q) => {
        const [page, per] = [int(q, 'page', 1), int(q, 'per_page', 1000)];
        const ids: string[] = [];
        for (let id = (page - 1) * per + 1; id <= Math.min(this.bigRows, page * per); id++) ids.push(bigRecord(id));
        return raw(`{"data":[${ids.join(',')}],"total_pages":${Math.ceil(this.bigRows / per)}}`);
      },
    };
    return [(req) => byPath[req.path]?.(req.query)];
  }
}

const raw = (body: string): Reply => ({ ...json(null), body });
