/**
 * The format from the name, confirmed by sniffing: a `.csv` holding Parquet is read as Parquet, and
 * content that contradicts its name — JSON in a `.csv`, binary in a `.tsv`, CSV in a `.ndjson`, a
 * gzip-compressed Parquet file — is one bad record naming the file, never rows of garbage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dataOnly, duck, landed, runFile, tempDir } from './support.js';

const STREAMS = 'pq=pq/*.csv;json=json/*.csv;bin=bin/*.tsv;text=text/*.ndjson;gzpq=gzpq/*.csv.gz;par=par/*.csv';

let src: string;
beforeAll(async () => {
  src = tempDir('sniff-src');
  for (const d of ['pq', 'json', 'bin', 'text', 'gzpq', 'par']) mkdirSync(join(src, d));
  const pq = join(src, 'pq/orders.csv');
  await duck(`COPY (SELECT i::BIGINT AS id, (i * 1.25)::DECIMAL(9,2) AS amount FROM range(1, 4) t(i)) TO '${pq}' (FORMAT parquet)`);
  writeFileSync(join(src, 'gzpq/orders.csv.gz'), gzipSync(readFileSync(pq)));
  writeFileSync(join(src, 'json/events.csv'), '{"id": 1, "kind": "a"}\n{"id": 2, "kind": "b"}\n');
  writeFileSync(join(src, 'bin/image.tsv'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64), Buffer.from('IHDR\tx\n')]));
  writeFileSync(join(src, 'text/lines.ndjson'), 'id,kind\n1,a\n2,b\n');
  // a CSV whose first column is named PAR1 is still CSV
  writeFileSync(join(src, 'par/letters.csv'), 'PAR1,b\nx,y\n');
});

const env = (policy: string): Record<string, string> => ({ FILE_URL: `file://${src}`, FILE_STREAMS: STREAMS, FILE_BAD_RECORDS: policy });

describe('sniffing the content', () => {
  it('reads a .csv that holds Parquet as Parquet, keeping its types, and a CSV with a PAR1 column as CSV', async () => {
    const root = tempDir('sniff-pq');
    const { code, report } = await runFile(env('fail'), root, ['pq', 'par']);
    expect({ code, streams: report.streams.map((s) => [s.stream, s.status, s.rows]) }).toEqual({ code: 0, streams: [['pq', 'succeeded', 3], ['par', 'succeeded', 1]] });
    expect(dataOnly(await landed(root, 'pq', 'id'))).toEqual([
      { id: '1', amount: '1.25' },
      { id: '2', amount: '2.50' },
      { id: '3', amount: '3.75' },
    ]);
    expect(dataOnly(await landed(root, 'par'))).toEqual([{ PAR1: 'x', b: 'y' }]);
  });

  it('fail: a .csv holding NDJSON stops with exit 4 naming the file and that its content is JSON', async () => {
    const root = tempDir('sniff-fail');
    const { code, report } = await runFile(env('fail'), root, ['json']);
    expect(code).toBe(4);
    expect(report.streams[0]!.error).toMatchObject({
      code: 'DATA.INVALID_RECORD',
      message: expect.stringContaining(`file ${join(src, 'json/events.csv')}, line 1: the content is JSON, not CSV`),
    });
    expect(await landed(root, 'json')).toEqual([]);
  });

  it('quarantine: each mismatched file is one bad record with the reason, and no row of it lands', async () => {
    const root = tempDir('sniff-quarantine');
    const { code } = await runFile(env('quarantine'), root, ['json', 'json_quarantine', 'bin', 'bin_quarantine', 'text', 'text_quarantine', 'gzpq', 'gzpq_quarantine']);
    expect(code).toBe(0);
    const q = async (s: string) => (await landed(root, `${s}_quarantine`)).map((r) => [String(r._bronze_file).slice(src.length + 1), r._bronze_file_row, r.reason]);
    expect([...(await q('json')), ...(await q('bin')), ...(await q('text')), ...(await q('gzpq'))]).toEqual([
      ['json/events.csv', '1', "the content is JSON, not CSV; name the file .json or .ndjson, or set the stream's format"],
      ['bin/image.tsv', '1', expect.stringMatching(/^the content is binary, not TSV/)],
      ['text/lines.ndjson', '1', 'the content is not NDJSON: it begins with neither { nor ['],
      ['gzpq/orders.csv.gz', '1', 'a gzip-compressed Parquet file: Parquet files are read uncompressed (they compress inside)'],
    ]);
    for (const s of ['json', 'bin', 'text', 'gzpq']) expect(await landed(root, s)).toEqual([]);
  });
});
