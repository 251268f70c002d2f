/**
 * Bounded memory: a large CSV and a large gzip NDJSON file stream through the built CLI into
 * Parquet with a peak RSS under 400 MB that does not grow with the file — each format runs at two
 * sizes (CSV 50 and 200 MB, NDJSON 50 and 100 MB by default), and the larger peak may exceed the
 * smaller by less than 40 MB (a leak of a few bytes per row would show as hundreds of MB). Below
 * ~50 MB the heap is still warming up, so the smaller size stays there. FILE_MEMORY_TEST_MB (default
 * 200) sets the larger CSV; the others follow it. `bench/file.bench.mjs` runs the full 2 GB / 1 GB.
 *
 * V8 flags as a memory-bounded container would run the kit (see docs/kits/file.md): a 256 MB old
 * space and 8 MB semi-spaces (Node 24's default young generation alone takes ~100 MB more RSS).
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { spawnCli } from '@datakit/testkit';
import { tempDir } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const MB = Number(process.env.FILE_MEMORY_TEST_MB ?? 200);
const NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=8';

/** Write orders-like lines until `bytes` (uncompressed); returns the row count. */
async function generate(path: string, bytes: number, line: (id: number) => string, header?: string, gzip = false): Promise<number> {
  const file = createWriteStream(path);
  const z = gzip ? createGzip({ level: 1 }) : undefined;
  if (z) z.pipe(file);
  const out = z ?? file;
  let written = 0;
  let id = 0;
  if (header) out.write(`${header}\n`);
  while (written < bytes) {
    let chunk = '';
    for (let i = 0; i < 1000; i++) chunk += `${line(++id)}\n`;
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(file, 'close');
  return id;
}

const csvLine = (id: number): string =>
  `${id},${id % 50000},${id % 100000}.${String(id % 10000).padStart(4, '0')},"order ${id}, text",paid,${id % 2 === 0},2024-01-01T00:00:${String(id % 60).padStart(2, '0')}Z,2024-01-02,"{""k"": ${id % 100}}",${(id % 1000) / 8}`;
const jsonLine = (id: number): string =>
  `{"id": ${id}, "kind": "k${id % 13}", "at": "2024-01-01T00:00:00Z", "amount": ${id % 1000}.25, "big": 9007199254740993, "payload": {"tags": ["a", "b"], "n": ${id}}}`;

async function measure(env: Record<string, string>): Promise<{ rows: number; peakMb: number }> {
  const root = tempDir('memory-out');
  const child = spawnCli(MAIN, ['run'], { ...env, BRONZE_URL: `file://${root}`, NODE_OPTIONS, LOG_LEVEL: 'warn' }, { measure: true });
  const r = await child.done;
  rmSync(root, { recursive: true, force: true });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  return { rows: (r.json as { rows: number }).rows, peakMb: Math.round((child.peakRssKb() ?? Infinity) / 1024) };
}

/** Peak RSS of the run over a file of `mb` megabytes; checks the row count. */
async function peakAt(mb: number, csv: boolean): Promise<number> {
  const src = tempDir(csv ? 'memory-csv' : 'memory-ndjson');
  if (csv) {
    mkdirSync(join(src, 'orders'));
    const header = 'id,customer_id,amount,description,status,is_paid,created_at,order_date,attrs,score';
    const rows = await generate(join(src, 'orders/big.csv'), mb * 1024 * 1024, csvLine, header);
    const got = await measure({ FILE_URL: `file://${src}`, FILE_STREAMS: 'orders=orders/*.csv' });
    expect(got.rows).toBe(rows);
    rmSync(src, { recursive: true, force: true });
    return got.peakMb;
  }
  const rows = await generate(join(src, 'events.ndjson.gz'), mb * 1024 * 1024, jsonLine, undefined, true);
  const got = await measure({ FILE_URL: `file://${src}`, FILE_STREAMS: 'events=*.ndjson.gz' });
  expect(got.rows).toBe(rows);
  rmSync(src, { recursive: true, force: true });
  return got.peakMb;
}

describe('bounded memory', () => {
  it(`streams a ${MB / 4} MB and a ${MB} MB CSV through the built CLI with the same peak RSS (within 40 MB), under 400 MB`, async () => {
    const small = await peakAt(MB / 4, true);
    const large = await peakAt(MB, true);
    expect({ small, large, growthUnder40Mb: large - small < 40, largeUnder400Mb: large < 400 }).toEqual({ small, large, growthUnder40Mb: true, largeUnder400Mb: true });
  }, 600_000);

  it(`streams a ${MB / 4} MB and a ${MB / 2} MB gzip NDJSON file through the built CLI with the same peak RSS (within 40 MB), under 400 MB`, async () => {
    const small = await peakAt(MB / 4, false);
    const large = await peakAt(MB / 2, false);
    expect({ small, large, growthUnder40Mb: large - small < 40, largeUnder400Mb: large < 400 }).toEqual({ small, large, growthUnder40Mb: true, largeUnder400Mb: true });
  }, 600_000);
});
