import { partitionPredicate, rangeBounds, rangeable, type PartitionSpec } from '../src/partition.js';
import { col, literal, quoteIdent, relationName, rowCompare, selectSql } from '../src/sql.js';
import { parseState } from '../src/state.js';
import type { PgColumnInfo } from '../src/type-map.js';

const info = (name: string, typname: string, formattedType: string): PgColumnInfo => ({ name, attnum: 1, typeOid: 20, formattedType, typname, typtype: 'b', typcategory: 'N', typmod: -1, nullable: false });
const ID = info('id', 'int8', 'bigint');

/** Does `v` fall in the range spec? (mirrors the SQL predicate) */
function inRange(spec: PartitionSpec, v: bigint): boolean {
  if (spec.by !== 'range') throw new Error('range only');
  if (spec.empty) return false;
  return (spec.lo === null || v >= BigInt(spec.lo)) && (spec.hi === null || v < BigInt(spec.hi));
}

describe('range partitions', () => {
  it.each([
    [1n, 100n, 4],
    [-293n, 3200n, 3],
    [5n, 6n, 5],
    [7n, 7n, 3],
    [-9223372036854775808n, 9223372036854775807n, 7],
  ])('put every key of [%s, %s] and beyond in exactly one of %s partitions', (min, max, count) => {
    const specs = Array.from({ length: count }, (_, i) => rangeBounds(String(min), String(max), i, count));
    const probes = [min - 1000n, min - 1n, min, max, max + 1n, max + 1000n, (min + max) / 2n];
    for (const spec of specs.slice(1)) if (spec.by === 'range' && spec.lo !== null) probes.push(BigInt(spec.lo) - 1n, BigInt(spec.lo));
    if (max - min < 200n) for (let v = min; v <= max; v++) probes.push(v);
    for (const v of probes) expect({ v, owners: specs.filter((s) => inRange(s, v)).length }).toEqual({ v, owners: 1 });
  });

  it('gives an empty relation to partition 0', () => {
    expect(rangeBounds(null, null, 0, 3)).toEqual({ by: 'range', lo: null, hi: null });
    expect(rangeBounds(null, null, 2, 3)).toEqual({ by: 'range', lo: null, hi: null, empty: true });
  });

  it('applies to one integer key column only', () => {
    expect(rangeable([ID])).toBe(true);
    expect(rangeable([info('id', 'numeric', 'numeric')])).toBe(false);
    expect(rangeable([ID, ID])).toBe(false);
    expect(rangeable([])).toBe(false);
  });

  it('writes range and hash predicates with quoted identifiers and typed literals', () => {
    const part = { index: 1, count: 3 };
    expect(partitionPredicate({ by: 'range', lo: '10', hi: '20' }, part, [ID])).toBe(`_dk."id" >= '10'::bigint AND _dk."id" < '20'::bigint`);
    expect(partitionPredicate({ by: 'range', lo: null, hi: null, empty: true }, part, [ID])).toBe('FALSE');
    expect(partitionPredicate({ by: 'hash' }, part, [info('a b', 'text', 'text'), ID])).toBe(`((hashtextextended(ROW(_dk."a b", _dk."id")::text, 0) % 3) + 3) % 3 = 1`);
    expect(partitionPredicate({ by: 'hash' }, part, [])).toBe(`((hashtextextended(ROW(_dk.*)::text, 0) % 3) + 3) % 3 = 1`);
    expect(partitionPredicate({ by: 'hash' }, { index: 0, count: 1 }, [ID])).toBeUndefined();
  });
});

describe('sql', () => {
  it('quotes hostile identifiers and literals', () => {
    expect(quoteIdent('we"ird 🚀')).toBe('"we""ird 🚀"');
    expect(relationName('Sales Dept', 'select')).toBe('"Sales Dept"."select"');
    expect(col('1st')).toBe('_dk."1st"');
    expect(literal("it's \\ here", info('t', 'text', 'character varying(20)'))).toBe(`'it''s \\ here'::character varying(20)`);
  });

  it('compares rows for keyset positions', () => {
    expect(rowCompare(['a'], '>', ['1'])).toBe('a > 1');
    expect(rowCompare(['a', 'b'], '>', ['1', '2'])).toBe('(a, b) > (1, 2)');
    expect(() => rowCompare(['a'], '>', [])).toThrow();
    expect(selectSql({ select: 'x', relation: 'r', where: ['a', 'b'], orderBy: ['k'], limit: 5 })).toBe('SELECT x FROM r AS _dk WHERE (a) AND (b) ORDER BY k LIMIT 5');
  });
});

describe('state', () => {
  const full = { stream: 'orders', mode: 'full' as const, keys: 1 };
  const inc = { stream: 'orders', mode: 'incremental' as const, cursorField: 'updated_at', keys: 1 };

  it('accepts its own positions', () => {
    expect(parseState(undefined, full)).toBeUndefined();
    expect(parseState({ mode: 'full', lastPk: ['5'] }, full)).toEqual({ mode: 'full', lastPk: ['5'] });
    expect(parseState({ mode: 'incremental', field: 'updated_at', cursor: 'x', pk: ['1'] }, inc)).toMatchObject({ cursor: 'x' });
  });

  it.each([
    [{ cursor: 'not a position' }, full, /is not a postgres position/],
    [{ mode: 'full', lastPk: ['1'] }, inc, /full-refresh position but the stream is now incremental/],
    [{ mode: 'incremental', field: 'id', cursor: '1', pk: ['1'] }, inc, /cursor column "id", not "updated_at"/],
    [{ mode: 'full', lastPk: ['1', '2'] }, full, /holds 2 key values but the stream's key has 1/],
  ])('refuses %j with STATE.CORRUPT', (state, shape, message) => {
    expect(() => parseState(state, shape)).toThrow(message);
    try {
      parseState(state, shape);
    } catch (e) {
      expect((e as { code: string }).code).toBe('STATE.CORRUPT');
    }
  });
});
