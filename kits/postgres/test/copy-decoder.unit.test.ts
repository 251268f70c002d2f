import { DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY } from '@datakit/core';
import { decodeBinaryCopy, type FieldDecoder } from '../src/copy-decoder.js';
import * as d from '../src/decoders.js';

/** What `numeric_send` produces for a plain decimal string. */
function encodeNumeric(text: string): Buffer {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`bad decimal ${text}`);
  const frac = m[3] ?? '';
  const int = m[2]!.padStart(Math.ceil(m[2]!.length / 4) * 4, '0');
  const all = int + frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  let groups = all.match(/\d{4}/g)!.map(Number);
  let weight = int.length / 4 - 1;
  while (groups.length && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length && groups[groups.length - 1] === 0) groups.pop();
  if (!groups.length) weight = 0;
  return numericBytes(groups, weight, m[1] && groups.length ? 0x4000 : 0, frac.length);
}

function numericBytes(digits: number[], weight: number, sign: number, dscale: number): Buffer {
  const b = Buffer.alloc(8 + 2 * digits.length);
  b.writeInt16BE(digits.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeUInt16BE(dscale, 6);
  digits.forEach((x, i) => b.writeInt16BE(x, 8 + 2 * i));
  return b;
}

const run = (dec: FieldDecoder, b: Buffer): unknown => dec(b, 0, b.length);
const int64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};

describe('numeric decoding', () => {
  const cases = [
    '0', '0.0000', '1', '-1', '12.34', '-12.3400', '0.5', '0.00001', '-0.00001', '9999', '10000', '10000.0001',
    '100000000000000000000.5', '123456789012345678.1234', '-99999999999999.9999', '0.000000000000000000000000000001',
    `1${'0'.repeat(130)}`, `0.${'0'.repeat(200)}7`, `-${'9'.repeat(40)}.${'9'.repeat(40)}`, '20000000', '0.1000', '7.000',
  ];
  it.each(cases)('decodes %s exactly, with exactly dscale fractional digits', (text) => {
    expect(run(d.decodeNumeric, encodeNumeric(text))).toBe(text);
  });

  it('prints zero with its scale and never a negative zero', () => {
    expect(run(d.decodeNumeric, numericBytes([], 0, 0, 4))).toBe('0.0000');
    expect(run(d.decodeNumeric, numericBytes([], 0, 0x4000, 2))).toBe('0.00');
    expect(run(d.decodeNumeric, numericBytes([], 0, 0, 0))).toBe('0');
  });

  it('decodes negative numbers with zero scale and digit groups beyond the last stored one', () => {
    // -1200000000 = weight 2, digits [12], trailing groups implied zero
    expect(run(d.decodeNumeric, numericBytes([12], 2, 0x4000, 0))).toBe('-1200000000');
    expect(run(d.decodeNumeric, numericBytes([5000], -1, 0, 1))).toBe('0.5');
    // weight far below zero: 1e-40 with dscale 40
    expect(run(d.decodeNumeric, numericBytes([1], -10, 0, 40))).toBe(`0.${'0'.repeat(39)}1`);
  });

  it('maps the special values to NaN and ±Infinity text', () => {
    expect(run(d.decodeNumeric, numericBytes([], 0, 0xc000, 0))).toBe('NaN');
    expect(run(d.decodeNumeric, numericBytes([], 0, 0xd000, 0))).toBe('Infinity');
    expect(run(d.decodeNumeric, numericBytes([], 0, 0xf000, 0))).toBe('-Infinity');
  });

  it('rejects an unknown sign word', () => {
    expect(() => run(d.decodeNumeric, numericBytes([1], 0, 0x1234, 0))).toThrow(/invalid numeric sign/);
  });
});

describe('date, time and timestamp decoding', () => {
  it('converts days since 2000-01-01 to days since 1970-01-01 and keeps ±infinity sentinels', () => {
    expect(run(d.decodeDate, int32(0))).toBe(10957);
    expect(run(d.decodeDate, int32(-10957))).toBe(0);
    expect(run(d.decodeDate, int32(-740000))).toBe(-740000 + 10957);
    expect(run(d.decodeDate, int32(2147483647))).toBe(DATE_POS_INFINITY);
    expect(run(d.decodeDate, int32(-2147483648))).toBe(DATE_NEG_INFINITY);
  });

  it('converts µs since 2000-01-01 to µs since 1970-01-01 on both the fast and the bigint path', () => {
    expect(run(d.decodeTimestamp, int64(0n))).toBe(946684800000000n);
    expect(run(d.decodeTimestamp, int64(-946684800000000n))).toBe(0n);
    expect(run(d.decodeTimestamp, int64(1n))).toBe(946684800000001n);
    expect(run(d.decodeTimestamp, int64(-1n))).toBe(946684799999999n);
    // year 294276 and 4713 BC: beyond 2^53 µs
    expect(run(d.decodeTimestamp, int64(9223371331200000000n - 1n))).toBe(9223371331200000000n - 1n + 946684800000000n);
    expect(run(d.decodeTimestamp, int64(-211813488000000000n))).toBe(-211813488000000000n + 946684800000000n);
    expect(run(d.decodeTimestamp, int64(9223372036854775807n))).toBe(TIMESTAMP_POS_INFINITY);
    expect(run(d.decodeTimestamp, int64(-9223372036854775808n))).toBe(TIMESTAMP_NEG_INFINITY);
  });

  it('decodes time as µs since midnight', () => {
    expect(run(d.decodeTime, int64(86_400_000_000n))).toBe(86_400_000_000n);
    expect(run(d.decodeTime, int64(1n))).toBe(1n);
  });
});

describe('scalar decoding', () => {
  it('decodes int8 extremes and 2^53+1 exactly', () => {
    for (const v of [0n, -1n, 9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, 4503599627370495n, -4503599627370496n]) {
      expect(run(d.decodeInt8, int64(v))).toBe(v);
    }
  });

  it('decodes int2, int4, oid, bool, floats, uuid, bytea, jsonb', () => {
    expect(run(d.decodeInt2, Buffer.from([0x80, 0x00]))).toBe(-32768);
    expect(run(d.decodeInt4, int32(-2147483648))).toBe(-2147483648);
    expect(run(d.decodeOid, Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(4294967295n);
    expect(run(d.decodeBool, Buffer.from([1]))).toBe(true);
    expect(run(d.decodeBool, Buffer.from([0]))).toBe(false);
    const f4 = Buffer.alloc(4);
    f4.writeFloatBE(0.1);
    expect(run(d.decodeFloat4, f4)).toBe(Math.fround(0.1));
    const f8 = Buffer.alloc(8);
    f8.writeDoubleBE(-0);
    expect(Object.is(run(d.decodeFloat8, f8), -0)).toBe(true);
    expect(run(d.decodeUuid, Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'))).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    const chunk = Buffer.from([9, 0, 1, 2, 9]);
    const bytes = d.decodeBytea(chunk, 1, 4) as Buffer;
    chunk[1] = 7;
    expect([...bytes]).toEqual([0, 1, 2]);
    expect(run(d.decodeJsonb, Buffer.concat([Buffer.from([1]), Buffer.from('{"a": "é"}')]))).toBe('{"a": "é"}');
    expect(() => run(d.decodeJsonb, Buffer.from([2, 0x7b]))).toThrow(/jsonb binary format version 2/);
  });
});

/** A binary COPY stream of int4, text, numeric rows (null = NULL). */
function copyStream(rows: readonly (readonly [number | null, string | null, string | null])[], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(extension.length), extension];
  for (const row of rows) {
    parts.push(Buffer.from([0, 3]));
    const fields = [row[0] === null ? null : int32(row[0]), row[1] === null ? null : Buffer.from(row[1]), row[2] === null ? null : encodeNumeric(row[2])];
    for (const f of fields) parts.push(f === null ? int32(-1) : Buffer.concat([int32(f.length), f]));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function decodeAll(source: AsyncIterable<Buffer>, batchSize = 1000): Promise<unknown[][][]> {
  const out: unknown[][][] = [];
  for await (const batch of decodeBinaryCopy(source, [d.decodeInt4, d.decodeText, d.decodeNumeric], batchSize)) out.push(batch);
  return out;
}

describe('decodeBinaryCopy', () => {
  const rows = [[1, 'héllo 😀', '12.3400'], [null, null, null], [-7, '', '-0.5'], [2147483647, 'x'.repeat(40), '100000000000000000000.5']] as const;
  const stream = copyStream(rows, Buffer.from('ext'));
  const expected = rows.map((r) => [...r]);

  it('decodes a whole stream into rows in column order with NULLs', async () => {
    expect(await decodeAll(chunks(stream))).toEqual([expected]);
  });

  it('yields batches of at most batchSize rows', async () => {
    const batches = await decodeAll(chunks(stream), 3);
    expect(batches.map((b) => b.length)).toEqual([3, 1]);
    expect(batches.flat()).toEqual(expected);
  });

  it('decodes the same rows however the stream is split in two', async () => {
    for (let k = 0; k <= stream.length; k++) {
      expect((await decodeAll(chunks(stream.subarray(0, k), stream.subarray(k)))).flat()).toEqual(expected);
    }
  });

  it('decodes the same rows from one-byte chunks and from three-way splits', async () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect((await decodeAll(chunks(...bytes))).flat()).toEqual(expected);
    for (let i = 1; i < stream.length; i += 3) {
      for (let j = i; j < stream.length; j += 5) {
        const parts = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        expect((await decodeAll(chunks(...parts))).flat()).toEqual(expected);
      }
    }
  });

  it('decodes an empty result (header and trailer only)', async () => {
    expect(await decodeAll(chunks(copyStream([])))).toEqual([]);
  });

  it('throws a clear error on every truncated prefix', async () => {
    for (let k = 0; k < stream.length; k++) {
      await expect(decodeAll(chunks(stream.subarray(0, k)))).rejects.toThrow(/binary COPY stream ended early/);
    }
  });

  it('rejects a bad signature, a wrong field count and data after the trailer', async () => {
    const text = Buffer.from('1\tfoo\n');
    await expect(decodeAll(chunks(Buffer.concat([text, Buffer.alloc(20)])))).rejects.toThrow(/bad signature/);
    const two = async (): Promise<void> => {
      for await (const b of decodeBinaryCopy(chunks(stream), [d.decodeInt4, d.decodeText], 10)) void b;
    };
    await expect(two()).rejects.toThrow(/row 1 has 3 fields, expected 2/);
    await expect(decodeAll(chunks(stream, Buffer.from([0])))).rejects.toThrow(/after the trailer/);
    await expect(decodeAll(chunks(Buffer.concat([stream, Buffer.from([0])])))).rejects.toThrow(/after the trailer/);
  });

  it('rejects a batch size below 1', async () => {
    await expect(decodeAll(chunks(stream), 0)).rejects.toThrow(/batchSize/);
  });
});
