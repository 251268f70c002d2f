import { canonicalDecimal, hasInexactNumber, isRawNumber, parseExact, parseNdjson, toJsonText } from '../src/json.js';
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
