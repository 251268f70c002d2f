import { exactJson, headersJson } from '../src/json.js';

describe('exact JSON', () => {
  it('writes int64 with every digit, bytes as base64 and non-finite numbers as strings', () => {
    expect(exactJson({ id: 9007199254740993n, raw: Buffer.from([0, 255]), list: [-1n, NaN, Infinity], nested: { u8: new Uint8Array([1]) } })).toBe(
      '{"id":9007199254740993,"raw":"AP8=","list":[-1,"NaN","Infinity"],"nested":{"u8":"AQ=="}}',
    );
    expect(exactJson('a"b')).toBe('"a\\"b"');
  });
});

describe('headers as JSON', () => {
  it('keeps every value of a repeated key, null values, and gives non-UTF-8 values as base64', () => {
    expect(JSON.parse(headersJson({ trace: Buffer.from('abc'), multi: [Buffer.from('1'), null], bin: Buffer.from([0xc3, 0x28]) }))).toEqual([
      { key: 'trace', value: 'abc' },
      { key: 'multi', value: '1' },
      { key: 'multi', value: null },
      { key: 'bin', base64: 'wyg=' },
    ]);
    expect(headersJson(undefined)).toBe('[]');
    expect(headersJson({})).toBe('[]');
  });
});
