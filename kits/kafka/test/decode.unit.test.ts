import { keyDecoder, valueDecoder, PoisonError } from '../src/decode.js';

describe('key and value decoders', () => {
  it('keep bytes as they are, and null as null', () => {
    const d = valueDecoder('bytes', undefined, []);
    const buf = Buffer.from([0, 1, 2]);
    expect(d.decode(buf)).toEqual([buf]);
    expect(d.decode(null)).toEqual([null]);
    expect(d.columns).toEqual([{ name: 'value', type: 'bytes', nullable: true, sourceType: 'kafka value (bytes)' }]);
  });

  it('keep JSON text exactly as sent', () => {
    expect(valueDecoder('json', undefined, []).decode(Buffer.from(' {"a": 1.10, "b": 9007199254740993} '))).toEqual([' {"a": 1.10, "b": 9007199254740993} ']);
  });

  it.each([
    ['json', Buffer.from('{"password": "hunter2", oops'), /^value is not valid JSON \(at character \d+\)$/],
    ['json', Buffer.from(''), /^value is not valid JSON \(empty\)$/],
    ['string', Buffer.from([0x68, 0xff, 0x69]), /^value is not valid UTF-8$/],
  ] as const)('raise a poison error for bad %s that never quotes the payload', (format, payload, reason) => {
    const d = valueDecoder(format, undefined, []);
    expect(() => d.decode(payload)).toThrow(PoisonError);
    expect(() => d.decode(payload)).toThrow(reason);
  });

  it('name the key side in a key poison reason', () => {
    expect(() => keyDecoder('string', undefined).decode(Buffer.from([0xff]))).toThrow('key is not valid UTF-8');
  });
});
