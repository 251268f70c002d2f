import pino from 'pino';
import { DatakitError, METADATA_COLUMNS, RunMetrics, defineKit, runSplits, runStreams, selectStreams, runtimeSettings, splitStates, type Assignment, type Batch, type Context, type Split, type StoredStreamState, type Stream, type StreamReport } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';
import { fixtureKit } from './kit-fixture.js';

const logger = pino({ level: 'silent' });
const stream: Stream = { name: 'items', columns: [{ name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' }], primaryKey: ['id'], syncMode: 'incremental', cursorField: ['id'] };

/** A kit over ids 1..n that fails once (retriably) after `failAfter` batches. */
function counterKit(n: number, opts: { failAfter?: number; retriable?: boolean; checkpoints?: boolean } = {}) {
  let failed = false;
  const reads: (number | undefined)[] = [];
  const kit = fixtureKit('counter', [stream], async function* (ctx: Context, _c, _s, state): AsyncIterable<Batch> {
    const from = typeof state === 'number' ? state : 0;
    reads.push(from);
    let batches = 0;
    for (let i = from + 1; i <= n; i += ctx.batchSize) {
      if (opts.failAfter !== undefined && batches === opts.failAfter && !failed) {
        failed = true;
        throw new DatakitError(opts.retriable === false ? 'SOURCE.QUERY_FAILED' : 'SOURCE.TRANSIENT', 'connection reset');
      }
      const rows = [];
      for (let j = i; j < i + ctx.batchSize && j <= n; j++) rows.push([BigInt(j)]);
      batches++;
      yield opts.checkpoints === false ? { rows } : { rows, checkpoint: i + rows.length - 1 };
    }
  });
  return { kit, reads };
}

function params(kit: ReturnType<typeof counterKit>['kit'], target: MemoryTarget, signal = new AbortController().signal) {
  const runtime = runtimeSettings.parse({ batchSize: 10, maxRetries: 2 });
  return {
    kit,
    config: {},
    runtime: { ...runtime, progressIntervalMs: 60_000 },
    ctx: { logger, signal, batchSize: 10, runId: 'r1' },
    target,
    run: { source: 'counter', runId: 'r1', loadedAtMicros: 1n, logger },
    streams: [stream],
    metrics: new RunMetrics(),
  };
}

describe('runner', () => {
  it('appends metadata columns and stores the last checkpoint with the rows', async () => {
    const target = new MemoryTarget();
    const { kit } = counterKit(25);
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report).toMatchObject({ stream: 'items', status: 'succeeded', rows: 25 });
    const live = target.live.get('counter/items')!;
    expect(live.columns.map((c) => c.name)).toEqual(['id', ...METADATA_COLUMNS.map((c) => c.name)]);
    expect(live.rows[0]).toEqual([1n, 1n, 'counter', 'r1']);
    expect(target.states.get('counter')!.items).toMatchObject({ kit: 25, phase: 'live' });
  });

  it('hands quarantined records to the target with their batch, metadata appended, and counts them apart', async () => {
    const target = new MemoryTarget();
    const quarantineColumns = [{ name: 'reason', type: 'string', nullable: false, sourceType: 'reason' }] as Stream['columns'];
    const withQuarantine: Stream = { ...stream, quarantineColumns };
    const kit = fixtureKit('q', [withQuarantine], async function* (): AsyncIterable<Batch> {
      yield { rows: [[1n]], checkpoint: 1, quarantine: [['bad 2']] };
      yield { rows: [], checkpoint: 3, quarantine: [['bad 3']] };
    });
    const metrics = new RunMetrics();
    const [report] = await runStreams({ ...params(kit, target), streams: [withQuarantine], metrics, states: {} });
    expect(report).toMatchObject({ status: 'succeeded', rows: 1, quarantined: 2 });
    const live = target.live.get('counter/items')!;
    expect(live.quarantine).toEqual([
      ['bad 2', 1n, 'counter', 'r1'],
      ['bad 3', 1n, 'counter', 'r1'],
    ]);
    expect(live.quarantineColumns!.map((c) => c.name)).toEqual(['reason', ...METADATA_COLUMNS.map((c) => c.name)]);
    expect(await metrics.text()).toContain('datakit_quarantined_rows_total{kit="q",stream="items"} 2');
  });

  it('fails a stream whose kit yields quarantined records without declaring quarantine columns', async () => {
    const target = new MemoryTarget();
    const kit = fixtureKit('q', [stream], async function* (): AsyncIterable<Batch> {
      yield { rows: [[1n]], checkpoint: 1, quarantine: [['bad']] };
    });
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report).toMatchObject({ status: 'failed', error: { code: 'INTERNAL.ERROR', message: expect.stringContaining('declares no quarantineColumns') as unknown } });
    expect(target.states.get('counter')).toBeUndefined();
  });

  it('retries a retriable failure from the last checkpoint without doubling rows', async () => {
    const target = new MemoryTarget();
    const { kit, reads } = counterKit(50, { failAfter: 2 });
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report!.status).toBe('succeeded');
    expect(reads).toEqual([0, 20]);
    const ids = target.live.get('counter/items')!.rows.map((r) => r[0]);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 1)));
  });

  it('does not retry when rows without a checkpoint are already in the sink', async () => {
    const target = new MemoryTarget();
    const { kit, reads } = counterKit(50, { failAfter: 2, checkpoints: false });
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SOURCE.TRANSIENT' } });
    expect(reads).toEqual([0]);
    expect(target.states.get('counter')).toBeUndefined();
  });

  it('reports a non-retriable failure and keeps the stored state unchanged', async () => {
    const target = new MemoryTarget();
    const { kit } = counterKit(50, { failAfter: 1, retriable: false });
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report!.status).toBe('failed');
    expect(report!.error!.message).toContain('stream items');
    expect(target.live.get('counter/items')).toBeUndefined();
  });

  it('resumes incremental streams from the stored checkpoint and appends', async () => {
    const target = new MemoryTarget();
    await runStreams({ ...params(counterKit(20).kit, target), states: {} });
    const second = counterKit(35);
    const [report] = await runStreams({ ...params(second.kit, target), states: await target.loadState('counter') });
    expect(second.reads).toEqual([20]);
    expect(report!.rows).toBe(15);
    expect(target.live.get('counter/items')!.rows).toHaveLength(35);
  });

  it('stops at a batch boundary on abort and stores what it read', async () => {
    const target = new MemoryTarget();
    const ac = new AbortController();
    const { kit } = counterKit(100);
    const p = params(kit, target, ac.signal);
    const origWrite = target.openStream.bind(target);
    target.openStream = async (o) => {
      const sink = await origWrite(o);
      const write = sink.write;
      let n = 0;
      sink.write = async (...a) => {
        await write(...a);
        if (++n === 3) ac.abort('SIGTERM');
      };
      return sink;
    };
    const [report] = await runStreams({ ...p, states: {} });
    expect(report!.status).toBe('interrupted');
    expect(target.states.get('counter')!.items).toMatchObject({ kit: 30, phase: 'staging' });
  });
});

describe('kit.stored', () => {
  /** counterKit with a `stored` hook that records what it was told and what the target held then. */
  function withStoredHook(n: number, fail = false) {
    const { kit } = counterKit(n);
    const told: { checkpoint: unknown; storedThen: unknown }[] = [];
    let target: MemoryTarget | undefined;
    const hooked = defineKit({
      ...kit,
      async stored(_ctx, _c, s, checkpoint) {
        told.push({ checkpoint, storedThen: target!.states.get('counter')?.[s.name]?.kit });
        if (fail) throw new DatakitError('SOURCE.UNREACHABLE', 'group coordinator gone');
      },
    });
    return { kit: hooked, told, use: (t: MemoryTarget) => (target = t) };
  }

  it('is told each stored checkpoint once, only after the target stored it, the last one at the end', async () => {
    const { kit, told, use } = withStoredHook(95);
    const target = use(new MemoryTarget({ commitEveryRows: 30 }));
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report).toMatchObject({ status: 'succeeded', rows: 95 });
    // commits after 30, 60 and 90 rows (batches of 10), then the last 5 at the end
    expect(told.map((t) => t.checkpoint)).toEqual([30, 60, 90, 95]);
    for (const t of told) expect(t.storedThen).toBe(t.checkpoint);
  });

  it('is not told anything before the first commit, and a failing hook never fails the stream', async () => {
    const { kit, told, use } = withStoredHook(25, true);
    const target = use(new MemoryTarget());
    const [report] = await runStreams({ ...params(kit, target), states: {} });
    expect(report).toMatchObject({ status: 'succeeded', rows: 25 });
    expect(told.map((t) => t.checkpoint)).toEqual([25]);
    expect(target.states.get('counter')?.items?.kit).toBe(25);
  });
});

describe('stream selection', () => {
  const all = ['orders', 'order_items', 'sales.orders', 'audit_log'].map((name) => ({ ...stream, name }));
  it('takes named streams and rejects unknown ones with exit code 2', () => {
    expect(selectStreams(all, ['orders']).map((s) => s.name)).toEqual(['orders']);
    expect(() => selectStreams(all, ['nope'])).toThrow(expect.objectContaining({ code: 'CONFIG.UNKNOWN_STREAM', exitCode: 2 }));
  });
  it('filters by include and exclude patterns', () => {
    expect(selectStreams(all, [], ['order*', 'sales.*'], ['*items']).map((s) => s.name)).toEqual(['orders', 'sales.orders']);
  });
});

describe('splits of a scale-out', () => {
  const report = (stream: string, rows: number, status: StreamReport['status'] = 'succeeded'): StreamReport => ({ stream, mode: 'incremental', status, rows, bytes: rows * 10, outputs: [`${stream}-${rows}`], durationSeconds: 1 });

  /** An assignment whose splits are taken back after `revokeAfter` reads, then replaced by `then`. */
  function assignment(splits: Split[], then?: Split[]): { a: Assignment; released: () => number; revoke: () => void } {
    let released = 0;
    const c = new AbortController();
    const a: Assignment = {
      splits,
      revoked: c.signal,
      next: async () => assignment(then ?? [], undefined).a,
      release: async () => void released++,
    };
    return { a, released: () => released, revoke: () => c.abort() };
  }

  it('reads every stream once per split and merges the reports per stream', async () => {
    const { a, released } = assignment([
      { index: 0, count: 3 },
      { index: 2, count: 3 },
    ]);
    const seen: string[] = [];
    const reports = await runSplits(a, async (split) => {
      seen.push(`${split.index}/${split.count}`);
      return [report('orders', 10 + split.index), report('items', 1)];
    });
    expect(seen).toEqual(['0/3', '2/3']);
    expect(reports).toEqual([
      { ...report('orders', 22), bytes: 220, outputs: ['orders-10', 'orders-12'], durationSeconds: 2 },
      { ...report('items', 2), bytes: 20, outputs: ['items-1', 'items-1'], durationSeconds: 2 },
    ]);
    expect(released()).toBe(1);
  });

  it('after a revocation takes the next assignment and reads its splits; stops at a failed stream', async () => {
    const first = assignment([{ index: 0, count: 2 }], [
      { index: 0, count: 2 },
      { index: 1, count: 2 },
    ]);
    const seen: string[] = [];
    const reports = await runSplits(first.a, async (split, revoked) => {
      seen.push(`${split.index}/${split.count}`);
      if (seen.length === 1) {
        first.revoke();
        expect(revoked.aborted).toBe(true);
      }
      return [report('orders', 5, seen.length === 3 ? 'failed' : 'succeeded')];
    });
    expect(seen).toEqual(['0/2', '0/2', '1/2']);
    expect(reports).toMatchObject([{ stream: 'orders', rows: 15, status: 'failed' }]);
  });

  it('gives read() what every split of its stream stored, its own marked', () => {
    const at = (kit: unknown, phase: StoredStreamState['phase'] = 'live'): StoredStreamState => ({ kit, generation: 'g', phase, seq: 1, runId: 'r', updatedAt: '2026-12-01T00:00:00Z' });
    const states = { orders: at(1), 'orders#0/2': at(2, 'staging'), 'orders#1/2': at(3), 'orders_eu#0/2': at(4), 'orders#5': at(5) };
    expect(splitStates(states, 'orders', 'orders#0/2')).toEqual([
      { self: false, phase: 'live', updatedAt: '2026-12-01T00:00:00Z', checkpoint: 1 },
      { split: { index: 0, count: 2, named: true }, self: true, phase: 'staging', updatedAt: '2026-12-01T00:00:00Z', checkpoint: 2 },
      { split: { index: 1, count: 2, named: true }, self: false, phase: 'live', updatedAt: '2026-12-01T00:00:00Z', checkpoint: 3 },
    ]);
  });
});
