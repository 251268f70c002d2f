import { DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_POS_INFINITY, decimalFromUnscaled, decimalToUnscaled, formatDate, formatTime, formatTimestamp, parseDate, parseTime, parseTimestamp, stringifyExact } from '@datakit/core';

describe('exact value conversions', () => {
  it.each([
    ['1970-01-01', 0],
    ['2000-01-01', 10957],
    ['1969-12-31', -1],
    ['0001-01-01', -719162],
    ['0044-03-15 BC', -735160],
    ['294276-12-31', 106762939],
  ])('round-trips the date %s', (text, days) => {
    expect(parseDate(text)).toBe(days);
    expect(formatDate(days)).toBe(text);
  });

  it('keeps date infinities as int32 sentinels', () => {
    expect(parseDate('infinity')).toBe(DATE_POS_INFINITY);
    expect(formatDate(DATE_NEG_INFINITY)).toBe('-infinity');
  });

  it('parses timestamps with offsets to exact microseconds', () => {
    expect(parseTimestamp('2024-01-02 03:04:05.123456+00')).toBe(1704164645123456n);
    expect(parseTimestamp('2024-01-02T05:04:05.123456+02:00')).toBe(1704164645123456n);
    expect(parseTimestamp('2024-01-02T03:04:05.123456Z')).toBe(1704164645123456n);
    expect(parseTimestamp('1969-12-31 23:59:59.999999')).toBe(-1n);
    expect(parseTimestamp('infinity')).toBe(TIMESTAMP_POS_INFINITY);
  });

  it('refuses to round sub-microsecond digits', () => {
    expect(() => parseTimestamp('2024-01-02 03:04:05.1234567')).toThrow(/sub-microsecond/);
    expect(parseTimestamp('2024-01-02 03:04:05.1234560')).toBe(1704164645123456n);
  });

  it('formats timestamps as PostgreSQL ISO text', () => {
    expect(formatTimestamp(1704164645123456n, true)).toBe('2024-01-02 03:04:05.123456+00');
    expect(formatTimestamp(1704164645000000n, false)).toBe('2024-01-02 03:04:05');
    expect(formatTimestamp(-1n, false)).toBe('1969-12-31 23:59:59.999999');
    expect(formatTimestamp(parseTimestamp('0044-03-15 12:00:00 BC'), false)).toBe('0044-03-15 12:00:00 BC');
  });

  it('round-trips times of day', () => {
    expect(formatTime(parseTime('23:59:59.999999'))).toBe('23:59:59.999999');
    expect(formatTime(parseTime('00:00:00'))).toBe('00:00:00');
  });

  it('converts exact decimals to unscaled integers and back', () => {
    expect(decimalToUnscaled('12.34', 4)).toBe(123400n);
    expect(decimalToUnscaled('-0.0001', 4)).toBe(-1n);
    expect(decimalToUnscaled('99999999999999999999999999.999999999999', 12)).toBe(99999999999999999999999999999999999999n);
    expect(decimalFromUnscaled(-1n, 4)).toBe('-0.0001');
    expect(decimalFromUnscaled(123400n, 0)).toBe('123400');
    expect(() => decimalToUnscaled('1.23456', 4)).toThrow(/more than 4/);
    expect(() => decimalToUnscaled('NaN', 2)).toThrow(/not an exact decimal/);
  });

  it('serialises bigint as exact JSON numbers', () => {
    expect(stringifyExact({ a: 9223372036854775807n, b: [1n, 'x'] })).toBe('{"a":9223372036854775807,"b":[1,"x"]}');
  });
});
