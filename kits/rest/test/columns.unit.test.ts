import { ColumnSet } from '../src/columns.js';
import { parseExact } from '../src/json.js';
import { convert, MISFIT } from '../src/type-map.js';

const records = (text: string) => parseExact(text) as never[];

describe('columns', () => {
  it('infers types from the first non-null value and appends fields as they appear', () => {
    const cols = new ColumnSet(undefined, undefined);
    const rows = cols.toRows(records('[{"a":null,"b":1},{"a":"x","c":{"n":1.50}}]'));
    expect(cols.columns().map((c) => [c.name, c.type])).toEqual([
      ['b', 'int64'],
      ['a', 'string'],
      ['c', 'json'],
    ]);
    expect(rows).toEqual([
      [1n, null, null],
      [null, 'x', '{"n":1.50}'],
    ]);
  });

  it('keeps stored columns in order and only appends', () => {
    const cols = new ColumnSet({ id: 'int64' }, [['b', 'string', 'json:string']]);
    cols.toRows(records('[{"z":true,"b":"x","id":3}]'));
    expect(cols.columns().map((c) => c.name)).toEqual(['id', 'b', 'z']);
    expect(cols.stored()).toEqual([
      ['b', 'string', 'json:string'],
      ['z', 'boolean', 'json:boolean'],
    ]);
  });

  it('sends misfits to one variant column per field, as exact JSON', () => {
    const cols = new ColumnSet(undefined, undefined);
    const rows = cols.toRows(records('[{"a":1},{"a":"two"},{"a":9223372036854775808}]'));
    expect(cols.columns().map((c) => [c.name, c.type])).toEqual([
      ['a', 'int64'],
      ['a__v_json', 'json'],
    ]);
    expect(rows).toEqual([
      [1n, null],
      [null, '"two"'],
      [null, '9223372036854775808'],
    ]);
  });

  it('converts only what stays exact', () => {
    const v = (t: string) => parseExact(t);
    expect(convert('int64', v('9223372036854775807'), false)).toBe(9223372036854775807n);
    expect(convert('int64', v('1.0'), false)).toBe(MISFIT);
    expect(convert('float64', v('0.1'), true)).toBe(0.1);
    expect(convert('float64', v('0.10000000000000000001'), true)).toBe(MISFIT);
    expect(convert('decimal(5,2)', v('"123.45"'), true)).toBe('123.45');
    expect(convert('decimal(5,2)', v('1234.5'), true)).toBe(MISFIT);
    expect(convert('decimal(5,2)', v('1.005'), true)).toBe(MISFIT);
    expect(convert('timestamptz', v('"2024-01-01T00:00:00+02:00"'), true)).toBe(1704060000000000n);
    expect(convert('timestamptz', v('"2024-01-01T00:00:00"'), true)).toBe(MISFIT);
    expect(convert('timestamp', v('"2024-01-01T00:00:00"'), true)).toBe(1704067200000000n);
    expect(convert('string', v('12.50'), true)).toBe('12.50');
    expect(convert('string', v('12.50'), false)).toBe(MISFIT);
  });
});
