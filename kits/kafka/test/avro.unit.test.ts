import type { Column } from '@datakit/core';
import { columnTypeOf, exactType } from '../src/avro.js';
import { avroValueColumns, cellOf, PoisonError } from '../src/decode.js';

const roundTrip = (schema: unknown, value: unknown): unknown => {
  const t = exactType(schema);
  return t.fromBuffer(t.toBuffer(value));
};

describe('Avro values in exact form', () => {
  it('decodes long as bigint, also beyond 2^53', () => {
    expect(roundTrip('long', 9223372036854775807n)).toBe(9223372036854775807n);
    expect(roundTrip('long', -9007199254740993n)).toBe(-9007199254740993n);
  });

  it.each([
    [{ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 3 }, '-0.128'],
    [{ type: 'bytes', logicalType: 'decimal', precision: 38, scale: 2 }, '-99999999999999999999999999999999999.99'],
    [{ type: 'fixed', name: 'D', size: 5, logicalType: 'decimal', precision: 9, scale: 0 }, '-123456789'],
    [{ type: 'long', logicalType: 'timestamp-millis' }, -62135596800000000n],
    [{ type: 'long', logicalType: 'timestamp-micros' }, 1709296496789012n],
    [{ type: 'int', logicalType: 'time-millis' }, 86399999000n],
    [{ type: 'int', logicalType: 'date' }, -719162],
  ])('round-trips %j exactly', (schema, value) => {
    expect(roundTrip(schema, value)).toEqual(value);
  });

  it('reads a decimal from the two\'s complement bytes other producers write', () => {
    const t = exactType({ type: 'bytes', logicalType: 'decimal', precision: 6, scale: 2 });
    // Avro bytes: zigzag length 2, then 0xff 0x38 = -200 → -2.00
    expect(t.fromBuffer(Buffer.from([0x04, 0xff, 0x38]))).toBe('-2.00');
  });

  it('lower-cases UUIDs and refuses a uuid field that holds no UUID', () => {
    expect(roundTrip({ type: 'string', logicalType: 'uuid' }, '6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
    const t = exactType({ type: 'string', logicalType: 'uuid' });
    const plain = exactType('string').toBuffer('not-a-uuid');
    expect(() => t.fromBuffer(plain)).toThrow(/not a UUID/);
  });
});

describe('Avro schemas as columns', () => {
  it('maps every field, unwraps ["null", T], makes nested and multi-branch types JSON, and keeps lineage names free', () => {
    const t = exactType({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'maybe', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }] },
        { name: 'either', type: ['null', 'string', 'long'] },
        { name: 'tags', type: { type: 'map', values: 'string' } },
        { name: 'nothing', type: 'null' },
        { name: '_kafka_key', type: 'string' },
      ],
    });
    expect(avroValueColumns(t).map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'int64', true],
      ['maybe', 'timestamptz', true],
      ['either', 'json', true],
      ['tags', 'json', true],
      ['value__kafka_key', 'string', true],
    ]);
    expect(columnTypeOf(exactType(['null', 'string', 'long']))?.sourceType).toBe('union<null,string,long>');
  });

  it('gives a non-record schema a single value column', () => {
    expect(avroValueColumns(exactType('string'))).toEqual([{ name: 'value', type: 'string', nullable: true, sourceType: 'avro string' }] satisfies Column[]);
  });
});

describe('values of another schema version', () => {
  it('promotes int to int64 and float64, rescales decimals, and refuses what does not fit without quoting the value', () => {
    expect(cellOf(5, 'int64', 'n')).toBe(5n);
    expect(cellOf(5n, 'float64', 'n')).toBe(5);
    expect(cellOf('1.5', { decimal: [10, 3] }, 'n')).toBe('1.500');
    expect(() => cellOf('1.2345', { decimal: [10, 2] }, 'amount')).toThrow(new PoisonError('field amount: the decimal has more than 2 fractional digits'));
    expect(() => cellOf('secret text', 'int64', 'n')).toThrow(/field n: a string value does not fit column type int64/);
    expect(() => cellOf('secret text', 'int64', 'n')).not.toThrow(/secret/);
  });
});
