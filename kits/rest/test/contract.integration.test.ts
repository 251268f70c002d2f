/**
 * The contract suite (STYLE §6) for the rest kit. Each source is its own local test API (test/server,
 * on 127.0.0.1) serving the contract fixtures of server/routes-contract.ts behind bearer auth (the
 * "bad credentials" are a wrong REST_TOKEN), and its own API definition file pointing at it.
 *
 * Every fixture stream declares its columns: `discover` makes no request, so only declared columns
 * are in the catalog the suite compares with the golden files (inferred columns are covered by
 * records.integration.test.ts and fixtures.integration.test.ts). `DATAKIT_WRITE_GOLDEN=1` rewrites
 * fixtures/expected/*.jsonl from the fixture records' expected values (never from the kit's output).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createLogger, loadConfig, type LogicalType } from '@datakit/core';
import { describeKitContract, writeGolden, type ContractSource } from '@datakit/testkit';
import { restConfig, restKit } from '../src/index.js';
import { logicalType, MAPPED_TYPES, mappedTypeKey } from '../src/type-map.js';
import { ContractData, contractDefinition, LINE_COLUMNS, LINES, ORDER_COLUMNS, TYPE_COLUMNS } from './server/routes-contract.js';
import { CREDENTIALS } from './server/routes-auth.js';
import { startApiServer, type ApiServer } from './server/server.js';
import { tempDir, writeDefinition } from './helpers.js';

const FIXTURES = join(__dirname, 'fixtures');

interface RestSource extends ContractSource {
  data: ContractData;
  server: ApiServer;
}

async function restSource(): Promise<RestSource> {
  const data = new ContractData();
  const server = await startApiServer({ routes: data.routes() });
  const bad = `wrong-${randomBytes(6).toString('hex')}-token`;
  return {
    data,
    server,
    env: { REST_CONFIG: writeDefinition(contractDefinition(server.url), tempDir(), 'api.yaml'), REST_TOKEN: CREDENTIALS.bearer },
    badCredentials: { env: { REST_TOKEN: bad }, setting: 'REST_TOKEN' },
    secrets: [CREDENTIALS.bearer, bad],
    openResources: () => server.connections(),
    close: () => server.close(),
  };
}

const dataOf = (src: ContractSource): ContractData => (src as RestSource).data;

if (process.env.DATAKIT_WRITE_GOLDEN === '1') {
  const data = new ContractData();
  writeGolden(join(FIXTURES, 'expected', 'orders.jsonl'), data.orders.map((r) => r.expected));
  writeGolden(join(FIXTURES, 'expected', 'order-lines.jsonl'), data.lines.map((r) => r.expected));
  writeGolden(join(FIXTURES, 'expected', 'datakit_types.jsonl'), data.types.map((r) => r.expected));
}

const columnsOf = (cols: Record<string, string>): [string, LogicalType][] => Object.entries(cols).map(([n, t]) => [n, logicalType(t)]);

describeKitContract({
  kit: restKit,
  main: join(__dirname, '../dist/main.js'),
  source: () => restSource(),
  fixtures: {
    dir: FIXTURES,
    streams: [
      { name: 'orders', primaryKey: ['id'], columns: columnsOf(ORDER_COLUMNS) },
      { name: LINES, golden: 'expected/order-lines.jsonl', primaryKey: ['order id', 'line#'], columns: columnsOf(LINE_COLUMNS) },
      { name: 'datakit_types', primaryKey: ['id'], columns: columnsOf(TYPE_COLUMNS) },
    ],
    secretSettings: ['REST_API_KEY', 'REST_TOKEN', 'REST_PASSWORD', 'REST_CLIENT_SECRET', 'REST_REFRESH_TOKEN'],
    invalidConfigSetting: 'REST_MAX_RETRIES',
    types: {
      stream: 'datakit_types',
      mappedTypes: MAPPED_TYPES,
      async coveredTypes(src) {
        const ctx = { logger: createLogger({ level: 'silent', pretty: false }), signal: new AbortController().signal, batchSize: 100, runId: 'types' };
        const config = loadConfig(restConfig, { env: src.env }).config;
        const stream = (await restKit.discover(ctx, config)).find((s) => s.name === 'datakit_types')!;
        const out: Record<string, string[]> = {};
        for (const c of stream.columns) (out[mappedTypeKey(c.sourceType.replace(/^declared:/, ''))] ??= []).push(c.name);
        return out;
      },
    },
    incremental: {
      stream: 'orders',
      env: {},
      key: 'id',
      appendRows: async (src, n) => dataOf(src).appendOrders(n),
    },
    large: {
      stream: 'big',
      key: 'id',
      async seed(src, rows) {
        dataOf(src).bigRows = rows;
        return Array.from({ length: rows }, (_, i) => String(i + 1));
      },
    },
  },
});
