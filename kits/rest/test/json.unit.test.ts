import { canonicalDecimal, hasInexactNumber, isRawNumber, parseExact, parseExactWithReviver, parseNdjson, toJsonText } from '../src/json.js';
import { memberPath, selectRecords } from '../src/select.js';

describe('exact JSON', () => {
  it('keeps integers beyond 2^53 and non-canonical number text exactly', () => {
    const v = parseExact('{"id":9007199254740993,"a":1.10,"b":1e3,"c":-0,"d":12.5,"e":42}') as Record<string, unknown>;
    expect(isRawNumber(v.id)).toBe(true);
    expect(toJsonText(v as never)).toBe('{"id":9007199254740993,"a":1.10,"b":1e3,"c":-0,"d":12.5,"e":42}');
    expect(v.d).toBe(12.5);
    expect(v.e).toBe(42);
  });

  it('takes the fast path only when every number survives JSON.parse', () => {
    expect(hasInexactNumber('{"t":"2024-01-01T00:00:00.000Z","n":[1,2.5,-3]}')).toBe(false);
    expect(hasInexactNumber('{"n":[1, 18446744073709551616 ]}')).toBe(true);
    expect(hasInexactNumber('[1.0]')).toBe(true);
    expect(hasInexactNumber('12345678901234567890')).toBe(true);
  });

  it('parses NDJSON line by line and names the bad line', () => {
    expect(parseNdjson('{"a":1}\n\n{"a":18446744073709551617}\n')).toHaveLength(2);
    expect(() => parseNdjson('{"a":1}\n{"a":\n')).toThrow(/^line 2: /);
  });

  it('compares decimal text canonically', () => {
    expect(canonicalDecimal('1.10')).toBe('1.1');
    expect(canonicalDecimal('1e3')).toBe('1000');
    expect(canonicalDecimal('-0.0')).toBe('0');
    expect(canonicalDecimal('12.5E-3')).toBe('0.0125');
  });
});

describe('record selector', () => {
  const body = parseExact('{"data":[{"id":1},{"id":2}],"empty":[],"nil":null,"meta":{"next":"x"},"groups":[{"items":[{"id":3}]},{"items":[{"id":4}]}]}');

  it('treats $.data and $.data[*] alike', () => {
    expect(selectRecords('$.data', body)).toEqual({ ok: true, records: [{ id: 1 }, { id: 2 }] });
    expect(selectRecords('$.data[*]', body)).toEqual({ ok: true, records: [{ id: 1 }, { id: 2 }] });
  });

  it('reads empty and null arrays as empty pages, but a missing key as an error', () => {
    expect(selectRecords('$.empty[*]', body)).toEqual({ ok: true, records: [] });
    expect(selectRecords('$.nil', body)).toEqual({ ok: true, records: [] });
    expect(selectRecords('$.missing', body)).toEqual({ ok: false, reason: 'record_selector $.missing matched nothing' });
  });

  it('evaluates full JSONPath expressions', () => {
    expect(selectRecords('$.groups[*].items[*]', body)).toEqual({ ok: true, records: [{ id: 3 }, { id: 4 }] });
    expect(selectRecords('$.data[?(@.id > 1)]', body)).toEqual({ ok: true, records: [{ id: 2 }] });
  });

  it('needs no selector for a top-level array', () => {
    expect(selectRecords(undefined, parseExact('[{"a":1}]'))).toEqual({ ok: true, records: [{ a: 1 }] });
    expect(selectRecords(undefined, body).ok).toBe(false);
  });

  it('resolves plain member paths without JSONPath', () => {
    expect(memberPath('$.meta.next')).toEqual(['meta', 'next']);
    expect(memberPath("$['a b'].c")).toEqual(['a b', 'c']);
    expect(memberPath('updated_at')).toEqual(['updated_at']);
    expect(memberPath('$.data[0]')).toBeUndefined();
  });
});

describe('exact JSON edge cases', () => {
  it('never touches number-like text inside strings', () => {
    const text = '{"s":"a, 1.50, b","t":"\\"1.0\\" ,2.50]","n":1.50,"k":[1e2, "x:3.10}"]}';
    expect(toJsonText(parseExact(text))).toBe(text.replace(', "x', ',"x'));
  });

  it('reports syntax errors of the body itself', () => {
    expect(() => parseExact('{"a":1.50,')).toThrow(SyntaxError);
    expect(() => parseExact('["abc 1.50]')).toThrow(SyntaxError);
    expect(() => parseExact('[1.2.3, 1.50]')).toThrow(SyntaxError);
  });

  it('keeps the last of duplicate keys, like JSON.parse', () => {
    expect(toJsonText(parseExact('{"a":1.50,"a":2.50}'))).toBe('{"a":2.50}');
  });

  it('keeps strings that look like its internal markers', () => {
    expect(parseExact('{"a":"\\u0000#1","b":1.50}')).toEqual({ a: '\u0000#1', b: expect.anything() });
    expect(toJsonText(parseExact('{"a":"\\u0000#1","b":1.50}'))).toBe('{"a":"\\u0000#1","b":1.50}');
  });

  it('parses a bare inexact number', () => {
    expect(toJsonText(parseExact(' 18446744073709551616 '))).toBe('18446744073709551616');
  });
});

describe('exact JSON against the reference parser', () => {
  it('agrees with the reviver-based parse on random documents', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const numbers = ['0', '-0', '1.10', '1e3', '-2.5E-3', '18446744073709551616', '9007199254740993', '42', '3.14', '1.0'];
    const strings = ['"a, 1.50, b"', '"\\"2.50\\""', '"x:1.0}"', '"\\\\"', '"é ✓"', '""'];
    const value = (depth: number): string => {
      const k = rnd(depth > 3 ? 3 : 6);
      if (k === 0) return numbers[rnd(numbers.length)]!;
      if (k === 1) return strings[rnd(strings.length)]!;
      if (k === 2) return ['true', 'false', 'null'][rnd(3)]!;
      if (k === 3) return `[${Array.from({ length: rnd(4) }, () => value(depth + 1)).join(rnd(2) ? ',' : ' , ')}]`;
      return `{${Array.from({ length: rnd(4) }, (_, i) => `"k${i}" : ${value(depth + 1)}`).join(',')}}`;
    };
    for (let i = 0; i < 500; i++) {
      const text = value(0);
      expect(toJsonText(parseExact(text))).toBe(toJsonText(parseExactWithReviver(text)));
    }
  });
});
