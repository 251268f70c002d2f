import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { parseDate, parseTimestamp } from '@datakit/core';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { decodeBinaryCopy, type FieldDecoder } from '../src/copy-decoder.js';
import * as d from '../src/decoders.js';
import { sessionSettingsSql } from '../src/type-map.js';

let client: pg.Client;

beforeAll(async () => {
  const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('copydec'));
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(sessionSettingsSql());
});

afterAll(async () => {
  await client?.end();
});

async function copyRows(sql: string, decoders: FieldDecoder[], batchSize = 1000): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
  for await (const batch of decodeBinaryCopy(stream, decoders, batchSize)) {
    expect(batch.length).toBeLessThanOrEqual(batchSize);
    for (const row of batch) rows.push(row);
  }
  return rows;
}

/** Values spread over every magnitude and scale the types allow; `g` is the row number. */
const GENERATED = `
SELECT g,
  round(((random() - 0.5) * 1e15)::numeric * 10::numeric ^ ((g % 70) - 35), g % 40) AS n,
  CASE g % 7 WHEN 0 THEN 0::numeric ELSE (g * 7919 % 100000)::numeric / 10000 END AS small_n,
  ((random() - 0.5) * 10 ^ ((g % 600) - 300))::float8 AS f8,
  ((random() - 0.5) * 10 ^ ((g % 70) - 35))::float4 AS f4,
  '2000-01-01'::timestamptz + (random() - 0.5) * interval '2500000 days' AS tstz,
  '2000-01-01'::date + ((g::int8 * 104729) % 4800000 - 2400000)::int AS dt,
  (random() * 9e18 * (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END))::int8 AS i8,
  repeat(chr(32 + g % 95) || chr(160 + g % 5000), g % 50) AS txt
FROM generate_series(1, 40000) g`;

describe('decodeBinaryCopy against PostgreSQL', () => {
  it('decodes generated numerics, floats, timestamps, dates, int8 and text exactly as the server prints them', async () => {
    await client.query(`CREATE TABLE generated AS ${GENERATED}`);
    const decoded = await copyRows(
      'SELECT g, n, small_n, f8, f4, tstz, dt, i8, txt FROM generated ORDER BY g',
      [d.decodeInt4, d.decodeNumeric, d.decodeNumeric, d.decodeFloat8, d.decodeFloat4, d.decodeTimestamp, d.decodeDate, d.decodeInt8, d.decodeText],
      777,
    );
    const { rows } = await client.query<Record<string, string>>(
      `SELECT g::text, n::text, small_n::text, f8::text, f4::float8::text AS f4, tstz::text, dt::text, i8::text, txt FROM generated ORDER BY generated.g`,
    );
    expect(decoded).toHaveLength(40000);
    const expected = rows.map((r) => [
      Number(r.g), r.n, r.small_n, Number(r.f8), Number(r.f4), parseTimestamp(r.tstz!), parseDate(r.dt!), BigInt(r.i8!), r.txt,
    ]);
    for (let i = 0; i < expected.length; i++) {
      if (!decoded[i]!.every((v, j) => Object.is(v, expected[i]![j]))) expect(decoded[i]).toEqual(expected[i]);
    }
  });

  it('decodes rows whose fields straddle many network chunks', async () => {
    const decoded = await copyRows(
      `SELECT g, repeat('ü', g * 10000), decode(repeat('ab', g * 7000), 'hex') FROM generate_series(1, 30) g`,
      [d.decodeInt4, d.decodeText, d.decodeBytea],
      7,
    );
    expect(decoded.map((r) => [r[0], (r[1] as string).length, (r[2] as Buffer).length])).toEqual(
      Array.from({ length: 30 }, (_, i) => [i + 1, (i + 1) * 10000, (i + 1) * 7000]),
    );
    expect(decoded.every((r) => (r[2] as Buffer).every((b) => b === 0xab))).toBe(true);
  });

  it('reports a field count that does not match the decoders', async () => {
    const stream = client.query(copyTo(`COPY (SELECT 1, 2) TO STDOUT (FORMAT binary)`));
    const read = async (): Promise<void> => {
      for await (const batch of decodeBinaryCopy(stream, [d.decodeInt4], 10)) void batch;
    };
    await expect(read()).rejects.toThrow(/row 1 has 2 fields, expected 1/);
  });
});
