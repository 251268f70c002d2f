/**
 * Helpers for tests of the built CLI (`dist/main.js`, what the image runs): spawn it against the mock
 * cluster and a bronze target, query the warehouse, wait for stored commits.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { readParquet } from '@datakit/testkit';
import { brokers, kafka } from './helpers.js';

const MAIN = join(__dirname, '../dist/main.js');

/** How a CLI process ended, with everything it printed. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A running CLI process. */
export interface Child {
  kill(sig: NodeJS.Signals): void;
  /** True once the process has exited. */
  exited(): boolean;
  /** What it has printed to stderr (JSON log lines) so far. */
  stderr(): string;
  done: Promise<Exit>;
}

/** Spawn the built CLI with `BRONZE_URL=bronze` (overridable in `env`), warn-level JSON logs by default. */
export function startCli(bronze: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, KAFKA_BROKERS: brokers(), BRONZE_URL: bronze, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exited = false;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal, out, err });
    }),
  );
  return { kill: (sig) => child.kill(sig), exited: () => exited, stderr: () => err, done };
}

/** The processes exited with these codes; a mismatch shows each one's error and warning log lines. */
export function expectCodes(exits: Exit[], codes: number[]): void {
  const got = exits.map((e) => e.code);
  if (got.every((c, i) => c === codes[i]) && got.length === codes.length) return;
  const logs = exits.map((e, i) => `process ${i} exited ${String(e.code ?? e.signal)}:\n${e.err.split('\n').filter((l) => /"level":"(warn|error|fatal)"/.test(l)).join('\n')}`);
  throw new Error(`exit codes ${JSON.stringify(got)}, expected ${JSON.stringify(codes)}\n${logs.join('\n')}`);
}

/** Run a query on the warehouse. */
export async function query<T extends pg.QueryResultRow>(warehouse: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: warehouse });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** `partition:offset` of every row of the given bronze tables (all partitions of a split). */
export async function landed(warehouse: string, tables: string[]): Promise<string[]> {
  const union = tables.map((t) => `SELECT _kafka_partition, _kafka_offset FROM bronze."${t}"`).join(' UNION ALL ');
  return (await query<{ k: string }>(warehouse, `SELECT _kafka_partition || ':' || _kafka_offset AS k FROM (${union}) x`)).map((r) => r.k);
}

/** Commits stored so far for a state key in the warehouse (0 before the first). */
export async function storedSeq(warehouse: string, key: string): Promise<number> {
  const rows = await query<{ state: { seq: number } }>(warehouse, `SELECT state FROM bronze._datakit_state WHERE stream = '${key}'`).catch(() => []);
  return rows[0]?.state.seq ?? 0;
}

/** Poll until `what` holds (throws after `ms`). */
export async function waitFor(what: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Every key present, none twice. */
export function expectExactlyOnce(keys: string[], total: number): void {
  expect(keys).toHaveLength(total);
  expect(new Set(keys).size).toBe(total);
}

/** Sum of the next offsets of a kafka checkpoint (= messages stored from offset 0). */
export function offsetSum(offsets: Record<string, string>): number {
  return Object.values(offsets).reduce((a, o) => a + Number(o), 0);
}

/** `partition:offset` of every row of every split (`partition=XofN`) of a topic under a Parquet root. */
export async function landedInSplits(root: string, topic: string): Promise<string[]> {
  const dir = join(root, 'kafka', topic);
  const splits = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith('partition=')) : [];
  const reads = await Promise.all(splits.map((s) => readParquet(join(dir, s), { columns: ['_kafka_partition', '_kafka_offset'] })));
  return reads.flatMap((r) => r.rows).map((r) => `${String(r._kafka_partition)}:${String(r._kafka_offset)}`);
}

/** The group's committed offsets equal the high watermarks (lag monitoring sees no lag). */
export async function expectNoLag(topic: string, group: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    expect(Object.fromEntries(committed!.partitions.map((p) => [p.partition, p.offset]))).toEqual(Object.fromEntries(ends.map((p) => [p.partition, p.high])));
  } finally {
    await admin.disconnect();
  }
}
