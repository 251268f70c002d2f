import { classifyText, parseDateText, parseDecimalText, parseFloat64, parseInt64, parseTimestampText, parseTimeText, parseUuid } from '../src/text-values.js';
import { isJsonText, JsonNumber, JsonText, scanRecord } from '../src/formats/json-scan.js';
import { INVALID_UTF8, markInvalidUtf8 } from '../src/text.js';

describe('text values', () => {
  it('parses int64 at both ends of its range and refuses anything a bigint would alter', () => {
    expect(parseInt64('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseInt64('9223372036854775807')).toBe(9223372036854775807n);
    expect([parseInt64('9223372036854775808'), parseInt64('007'), parseInt64('+5'), parseInt64('1.0'), parseInt64('')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('keeps a decimal exact and refuses digits the scale would round or the precision cannot hold', () => {
    expect(parseDecimalText('12.3400', 18, 2)).toBe('12.3400');
    expect(parseDecimalText('12.345', 18, 2)).toBeUndefined();
    expect(parseDecimalText('12345678901234567.7', 18, 2)).toBeUndefined();
    expect(parseDecimalText('-0.5', 1, 1)).toBe('-0.5');
  });

  it('accepts a float only when the double holds the written number', () => {
    expect(parseFloat64('0.1')).toBe(0.1);
    expect(parseFloat64('1.5e300')).toBe(1.5e300);
    expect(parseFloat64('-0.0')).toBe(-0);
    expect(parseFloat64('NaN')).toBeNaN();
    expect(parseFloat64('9007199254740993')).toBeUndefined();
    expect(parseFloat64('1e400')).toBeUndefined();
  });

  it('refuses impossible dates, times and timestamps instead of rolling them over', () => {
    expect(parseDateText('2024-02-29')).toBe(19782);
    expect([parseDateText('2023-02-29'), parseDateText('2024-13-01'), parseTimeText('24:00:00'), parseTimestampText('2024-01-01T25:00:00Z')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('applies zone offsets to the µs and refuses sub-µs digits', () => {
    expect(parseTimestampText('1970-01-01T01:00:00+01:00')).toBe(0n);
    expect(parseTimestampText('1970-01-01 00:00:00.0000010')).toBe(1n);
    expect(parseTimestampText('1970-01-01 00:00:00.0000001')).toBeUndefined();
    expect(parseTimestampText('2024-01-01T00:00:00', 'require')).toBeUndefined();
    expect(parseTimestampText('9999-12-31T23:59:59.999999Z')).toBe(253402300799999999n);
  });

  it('classifies text for inference', () => {
    expect(['1', '-1.50', '1e3', 'true', '2024-01-01', '10:00:00', '2024-01-01 10:00', '2024-01-01T10:00:00Z', '{"a":1}', 'x'].map((s) => classifyText(s).cls)).toEqual(['int', 'dec', 'float', 'bool', 'date', 'time', 'ts', 'tstz', 'json', 'str']);
    expect(parseUuid('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
  });
});

describe('exact JSON records', () => {
  it('keeps numbers and nested values as their source text', () => {
    const r = scanRecord('{"id": 12345678901234567890, "v": 0.10, "n": {"a": [1, 2.50]}, "s": "é\\u00e9", "b": false, "z": null}');
    expect(r).toEqual({ names: ['id', 'v', 'n', 's', 'b', 'z'], values: [new JsonNumber('12345678901234567890'), new JsonNumber('0.10'), new JsonText('{"a": [1, 2.50]}'), 'éé', false, null] });
  });

  it('rejects invalid JSON, duplicate keys, non-objects and unpaired surrogate escapes with a reason but no data', () => {
    for (const bad of ['{"a": 1,}', '{"a": 1} x', '[1]', '{"a": 1, "a": 2}', '{"a": "\\ud800"}', '{"a": 01}', '{"a": "x\ny"}']) {
      const r = scanRecord(bad);
      expect({ bad, error: 'error' in r }).toEqual({ bad, error: true });
    }
    expect((scanRecord('{"secret": tru}') as { error: string }).error).not.toContain('tru');
  });

  it('validates JSON text of CSV fields', () => {
    expect([isJsonText('{"a": [1]}'), isJsonText('{a: 1}')]).toEqual([true, false]);
  });
});

describe('UTF-8 decoding', () => {
  it('marks each invalid byte sequence so the record holding it can be reported', () => {
    const marked = markInvalidUtf8(Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82, 0x63, 0xed, 0xa0, 0x80])).toString('utf8');
    expect(marked).toBe(`a${INVALID_UTF8}b${INVALID_UTF8}c${INVALID_UTF8}`);
  });
});
