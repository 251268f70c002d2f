import { civilFromDays, DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_POS_INFINITY, decimalFromUnscaled, decimalToUnscaled, formatDate, formatTime, formatTimestamp, parseDate, parseTime, parseTimestamp, stringifyExact } from '@datakit/core';

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

  it('formats every timestamp like the all-bigint reference, on both sides of 2^53 microseconds', () => {
    // the reference: PostgreSQL's text built with bigint arithmetic only (the formatter's slow path)
    const p2 = (n: bigint | number, w = 2) => String(n).padStart(w, '0');
    const reference = (us: bigint, zone: boolean): string => {
      let days = us / 86_400_000_000n;
      let rest = us % 86_400_000_000n;
      if (rest < 0n) {
        rest += 86_400_000_000n;
        days -= 1n;
      }
      const [y, m, d] = civil(Number(days));
      const secs = rest / 1_000_000n;
      const frac = rest % 1_000_000n;
      const time = `${p2(secs / 3600n)}:${p2((secs / 60n) % 60n)}:${p2(secs % 60n)}${frac ? `.${p2(frac, 6)}`.replace(/0+$/, '') : ''}`;
      const ymd = y <= 0 ? `${p2(1 - y, 4)}-${p2(m)}-${p2(d)}` : `${p2(y, 4)}-${p2(m)}-${p2(d)}`;
      return `${ymd} ${time}${zone ? '+00' : ''}${y <= 0 ? ' BC' : ''}`;
    };
    // the calendar itself, checked against Date's proleptic Gregorian calendar over Date's range
    const civil = civilFromDays;
    for (let days = -100_000_000; days <= 100_000_000; days += 99_991) {
      const t = new Date(days * 86_400_000);
      expect(civil(days)).toEqual([t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()]);
    }
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const samples = [0n, 1n, -1n, 10n, 100_000n, 999_999n, 1_000_000n, 86_399_999_999n, 86_400_000_000n, -86_400_000_000n, safe, safe + 1n, -safe, -safe - 1n, parseTimestamp('4713-01-01 00:00:00 BC'), parseTimestamp('294276-12-31 23:59:59.999999')];
    let x = 0x2545f4914f6cdd1dn;
    for (let i = 0; i < 5000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      const span = i % 2 ? safe * 2n : 9_000_000_000_000_000n; // inside 2^53 µs, and the whole PostgreSQL range
      samples.push((x % (2n * span)) - span);
      samples.push(((x >> 7n) % 86_400_000_000n) * (i % 3 ? 1000n : 1n)); // whole milliseconds: trailing zeros
    }
    for (const us of samples) {
      expect(formatTimestamp(us, true)).toBe(reference(us, true));
      expect(formatTimestamp(us, false)).toBe(reference(us, false));
    }
  });

  it('round-trips times of day', () => {
    expect(formatTime(0n)).toBe('00:00:00');
    expect(formatTime(86_400_000_000n)).toBe('24:00:00');
    expect(formatTime(45_296_000_100n)).toBe('12:34:56.0001');
    expect(formatTime(45_296_120_000n)).toBe('12:34:56.12');
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
