/**
 * The contract suite (STYLE §6) for the file kit, against a real SFTP server (Debian sshd, started by
 * the jest globalSetup): CSV (plain, gzip, zstd, CRLF, multi-line quoted fields), NDJSON, a hostile
 * stream and file name, and a type table of inferred CSV types beside DuckDB-written Parquet.
 *
 * The golden files name their file as `@ROOT@/<path>`: the source's location is only known once the
 * server runs, so they are copied into a temp fixtures directory with the location filled in.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createLogger, loadConfig, type LogicalType } from '@datakit/core';
import { describeKitContract, type ContractSource, type ContractStream } from '@datakit/testkit';
import { fileKit, mappedTypeKey, MAPPED_TYPES } from '../src/index.js';
import { connectionsTo, csvText, FIXTURES, sftpService, touch, writeFixtures } from './support.js';

const sftp = sftpService();
const MAIN = `contract-main-${process.pid}`;
const STREAMS = 'orders=orders/*.csv*;Order Lines 🚀=lines/*.csv;events=events/*;datakit_types=types/*;big=big/*';
const KEYS = 'orders=id,Order Lines 🚀=order id+line#,events=id,datakit_types=id';

/** The fixtures directory with the golden files' `@ROOT@` filled in. */
function materializedFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), 'datakit-file-fixtures-'));
  mkdirSync(join(dir, 'expected'));
  const root = `sftp://${sftp.host}:${sftp.port}${sftp.root}/${MAIN}`;
  for (const f of readdirSync(join(FIXTURES, 'expected'))) {
    writeFileSync(join(dir, 'expected', f), readFileSync(join(FIXTURES, 'expected', f), 'utf8').replaceAll('@ROOT@', root.replace(/["\\]/g, (c) => `\\${c}`)));
  }
  for (const f of ['invalid-config.json', 'corrupt-state.json']) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

const sourceDirs = new Map<string, string>();

async function fileSource(label: string): Promise<ContractSource> {
  const name = label === 'main' ? MAIN : `contract-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = join(sftp.root, name);
  await writeFixtures(dir);
  sourceDirs.set(name, dir);
  const bad = `wrong-${Math.random().toString(36).slice(2)}-pw`;
  const src: ContractSource & { dir: string } = {
    dir,
    env: { FILE_URL: sftp.url(name), SFTP_PASSWORD: sftp.password, SFTP_HOST_KEY_SHA256: sftp.hostKeyFingerprint, FILE_STREAMS: STREAMS, FILE_PRIMARY_KEYS: KEYS },
    badCredentials: { env: { SFTP_PASSWORD: bad }, setting: 'SFTP_PASSWORD' },
    secrets: [sftp.password, bad],
    openResources: async () => connectionsTo(sftp.port),
    async close() {},
  };
  return src;
}

const dirOf = (src: ContractSource): string => (src as ContractSource & { dir: string }).dir;

const ORDER_HEADER = ['id', 'customer_id', 'amount', 'description', 'status', 'is_paid', 'created_at', 'order_date', 'attrs', 'ext_id', 'score', 'coupon'];
let appended = 0;

const streams: ContractStream[] = [
  {
    name: 'orders',
    primaryKey: ['id'],
    columns: [
      ['id', 'int64'], ['customer_id', 'int64'], ['amount', { decimal: [38, 4] }], ['description', 'string'], ['status', 'string'], ['is_paid', 'boolean'],
      ['created_at', 'timestamptz'], ['order_date', 'date'], ['attrs', 'json'], ['ext_id', 'uuid'], ['score', 'float64'], ['coupon', 'string'],
      ['_bronze_file', 'string'], ['_bronze_file_row', 'int64'], ['_bronze_file_modified_at', 'timestamptz'],
    ] as [string, LogicalType][],
  },
  { name: 'Order Lines 🚀', golden: 'expected/order-lines.jsonl', primaryKey: ['order id', 'line#'] },
  { name: 'events', primaryKey: ['id'] },
  { name: 'datakit_types', primaryKey: ['id'] },
];

describeKitContract({
  kit: fileKit,
  main: join(__dirname, '../dist/main.js'),
  source: fileSource,
  fixtures: {
    dir: materializedFixtures(),
    streams,
    secretSettings: ['SFTP_PASSWORD', 'SFTP_PRIVATE_KEY', 'SFTP_PASSPHRASE', 'S3_SECRET_ACCESS_KEY'],
    invalidConfigSetting: 'FILE_INFER_ROWS',
    types: {
      stream: 'datakit_types',
      mappedTypes: MAPPED_TYPES,
      async coveredTypes(src) {
        const ctx = { logger: createLogger({ level: 'silent', pretty: false }), signal: new AbortController().signal, batchSize: 100, runId: 'types' };
        const config = loadConfig(fileKit.config, { env: src.env }).config;
        const stream = (await fileKit.discover(ctx, config)).find((s) => s.name === 'datakit_types')!;
        const out: Record<string, string[]> = {};
        for (const c of stream.columns) {
          const key = mappedTypeKey(c.sourceType);
          if (key) (out[key] ??= []).push(c.name);
        }
        return out;
      },
    },
    incremental: {
      stream: 'orders',
      env: {},
      key: 'id',
      async appendRows(src, n) {
        appended++;
        const first = 1000 * appended;
        const ids = Array.from({ length: n }, (_, i) => first + i);
        const rows = ids.map((id) => [id, 1, '1.5', `late ${id}`, 'new', 'true', '2024-02-01T00:00:00Z', '2024-02-01', '{}', '3f2504e0-4f89-11d3-9a0c-0305e82c3399', '0.25', '']);
        const path = join(dirOf(src), `orders/2024-02-0${appended}.csv`);
        writeFileSync(path, csvText(ORDER_HEADER, rows));
        return ids.map(String);
      },
    },
    large: {
      stream: 'big',
      key: 'id',
      rows: 300_000,
      async seed(src, rows) {
        const parts = 3;
        const per = Math.ceil(rows / parts);
        const keys: string[] = [];
        for (let p = 0; p < parts; p++) {
          const lines = ['id,kind,amount,at,payload'];
          for (let id = p * per + 1; id <= Math.min(rows, (p + 1) * per); id++) {
            lines.push(`${id},kind-${id % 13},${id}.${String(id % 10000).padStart(4, '0')},2024-01-01T00:00:00Z,${'x'.repeat(64)}`);
            keys.push(String(id));
          }
          const text = `${lines.join('\n')}\n`;
          const path = join(dirOf(src), `big/part-${p + 1}.csv${p === 1 ? '.gz' : ''}`);
          writeFileSync(path, p === 1 ? gzipSync(text) : text);
          touch(path, `2024-04-0${p + 1}T00:00:00Z`);
        }
        return keys;
      },
    },
  },
});
