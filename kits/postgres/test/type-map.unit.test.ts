import { TIMESTAMP_NEG_INFINITY } from '@datakit/core';
import { decodeNumeric, decodeText } from '../src/decoders.js';
import {
  MAPPED_TYPES, SESSION_SETTINGS, buildSelect, mapColumn, mappedTypeKey, quoteLiteral, sessionSettingsSql, type PgColumnInfo,
} from '../src/type-map.js';

const numericTypmod = (p: number, s: number): number => ((p << 16) | (s & 0x7ff)) + 4;

function info(typname: string, over: Partial<PgColumnInfo> = {}): PgColumnInfo {
  return { name: 'c', attnum: 1, typeOid: 1, formattedType: typname, typname, typtype: 'b', typcategory: 'X', typmod: -1, nullable: true, ...over };
}

describe('mapColumn', () => {
  it('maps constrained numerics to decimals valid for Parquet and unconstrained ones to numeric strings', () => {
    expect(mapColumn(info('numeric', { typmod: numericTypmod(18, 4), formattedType: 'numeric(18,4)' })).column).toEqual({
      name: 'c', type: { decimal: [18, 4] }, nullable: true, sourceType: 'numeric(18,4)',
    });
    expect(mapColumn(info('numeric', { typmod: numericTypmod(5, -2) })).column.type).toEqual({ decimal: [7, 0] });
    expect(mapColumn(info('numeric', { typmod: numericTypmod(3, 5) })).column.type).toEqual({ decimal: [5, 5] });
    expect(mapColumn(info('numeric', { typmod: numericTypmod(1000, 0) })).column.type).toEqual({ decimal: [1000, 0] });
    const free = mapColumn(info('numeric'));
    expect([free.column.type, free.column.warehouseType, free.decode]).toEqual(['string', 'numeric', decodeNumeric]);
  });

  it('selects money as numeric and writes its literal through numeric', () => {
    const m = mapColumn(info('money'));
    expect(m.column.type).toEqual({ decimal: [19, 2] });
    expect(m.selectExpr('"m"')).toBe('"m"::numeric');
    expect(m.toSqlLiteral('-12.34')).toBe("'-12.34'::numeric::money");
  });

  it('maps a domain through its base type and keeps the domain as the source type', () => {
    const m = mapColumn(info('price', {
      typtype: 'd', formattedType: 'public.price', baseTypeOid: 1700, baseTypname: 'numeric', baseFormattedType: 'numeric(12,2)',
      baseTypmod: numericTypmod(12, 2), baseTyptype: 'b', baseTypcategory: 'N', nullable: false,
    }));
    expect(m.column).toEqual({ name: 'c', type: { decimal: [12, 2] }, nullable: false, sourceType: 'public.price' });
    expect(m.toSqlLiteral('1.50')).toBe("'1.50'::numeric(12,2)");
    expect(() => mapColumn(info('price', { typtype: 'd' }))).toThrow(/has no resolved base type/);
  });

  it('reads arrays and composites as JSON text and refuses them as cursors', () => {
    for (const m of [mapColumn(info('_int4', { typcategory: 'A', formattedType: 'integer[]' })), mapColumn(info('pair', { typtype: 'c' }))]) {
      expect([m.column.type, m.column.warehouseType]).toEqual(['json', 'json']);
      expect(m.selectExpr('"x"')).toBe('to_json("x")::text');
      expect(() => m.toSqlLiteral('[1]')).toThrow(/cannot serve as a cursor/);
    }
  });

  it('keeps json as json in the warehouse (text-exact) and jsonb as jsonb', () => {
    expect(mapColumn(info('json')).column).toEqual({ name: 'c', type: 'json', nullable: true, sourceType: 'json', warehouseType: 'json' });
    expect(mapColumn(info('jsonb')).column).toEqual({ name: 'c', type: 'json', nullable: true, sourceType: 'jsonb', warehouseType: 'jsonb' });
  });

  it('reads text-only types as ::text, with the warehouse type only when the warehouse has it', () => {
    const bit = mapColumn(info('bit', { formattedType: 'bit(4)' }));
    expect([bit.selectExpr('"b"'), bit.decode, bit.column.warehouseType]).toEqual(['"b"::text', decodeText, 'bit(4)']);
    expect(mapColumn(info('int4range', { typtype: 'r' })).column.warehouseType).toBe('int4range');
    expect(mapColumn(info('floatrange', { typtype: 'r' })).column.warehouseType).toBeUndefined();
    expect(mapColumn(info('mood', { typtype: 'e' })).column).toEqual({ name: 'c', type: 'string', nullable: true, sourceType: 'mood' });
    const hstore = mapColumn(info('hstore'));
    expect([hstore.column.type, hstore.column.warehouseType, hstore.selectExpr('h')]).toEqual(['string', undefined, 'h::text']);
  });

  it('writes literals of the source type with safe quoting', () => {
    expect(mapColumn(info('text')).toSqlLiteral("it's \\ fine")).toBe("'it''s \\ fine'::text");
    expect(mapColumn(info('int8', { formattedType: 'bigint' })).toSqlLiteral(9223372036854775807n)).toBe("'9223372036854775807'::bigint");
    expect(mapColumn(info('timestamptz', { formattedType: 'timestamp with time zone' })).toSqlLiteral(1704157445123456n)).toBe(
      "'2024-01-02 01:04:05.123456+00'::timestamp with time zone",
    );
    expect(mapColumn(info('timestamp')).toSqlLiteral(TIMESTAMP_NEG_INFINITY)).toBe("'-infinity'::timestamp");
    expect(mapColumn(info('date')).toSqlLiteral(-2)).toBe("'1969-12-30'::date");
    expect(mapColumn(info('time')).toSqlLiteral(1n)).toBe("'00:00:00.000001'::time");
    expect(mapColumn(info('bytea')).toSqlLiteral(Buffer.from([0, 255]))).toBe("'\\x00ff'::bytea");
    expect(mapColumn(info('float8')).toSqlLiteral(-0)).toBe("'-0'::float8");
    expect(mapColumn(info('float8')).toSqlLiteral(Number.NaN)).toBe("'NaN'::float8");
    expect(mapColumn(info('bool')).toSqlLiteral(false)).toBe("'false'::bool");
    expect(mapColumn(info('mood', { typtype: 'e', formattedType: '"My Mood"' })).toSqlLiteral("o'k")).toBe("'o''k'::\"My Mood\"");
  });
});

describe('type-map helpers', () => {
  it('names each covered type once and keys columns by type or kind', () => {
    expect(new Set(MAPPED_TYPES).size).toBe(MAPPED_TYPES.length);
    expect(mappedTypeKey(info('_int4', { typcategory: 'A' }))).toBe('array');
    expect(mappedTypeKey(info('price', { typtype: 'd' }))).toBe('domain');
    expect(mappedTypeKey(info('int4multirange', { typtype: 'm' }))).toBe('multirange');
    expect(mappedTypeKey(info('int4'))).toBe('int4');
  });

  it('builds the select list with aliases only where an expression wraps the column', () => {
    const cols = [mapColumn(info('int4')), mapColumn(info('interval')), mapColumn(info('_text', { typcategory: 'A' }))];
    expect(buildSelect(cols, ['"a"', '"b c"', '"d"'])).toBe('"a", "b c"::text AS "b c", to_json("d")::text AS "d"');
    expect(() => buildSelect(cols, ['"a"'])).toThrow(/no quoted identifier for column 2/);
  });

  it('renders the session settings as SET statements', () => {
    expect(SESSION_SETTINGS.IntervalStyle).toBe('iso_8601');
    expect(sessionSettingsSql()).toContain("SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'");
    expect(quoteLiteral("a'b")).toBe("'a''b'");
  });
});
