import { Writable } from 'node:stream';
import pino from 'pino';
import { RunMetrics, progressFields, readEstimate, runStreams, runtimeSettings, startProgress, type Batch, type Stream } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';
import { fixtureKit } from './kit-fixture.js';

const stream: Stream = { name: 'items', columns: [{ name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' }], primaryKey: ['id'], syncMode: 'full_refresh', rowEstimate: 1000 };

/** A pino logger whose lines land in `lines`, parsed. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}
const progressLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'progress');

describe('progress fields', () => {
  it('gives rows, rows per second and elapsed seconds, with percent and ETA from an estimate', () => {
    expect(progressFields(500, 10_000, 1000)).toEqual({ rows: 500, rowsPerSecond: 50, elapsedSeconds: 10, percent: 50, etaSeconds: 10 });
  });

  it('leaves percent and ETA out without an estimate, or with an estimate of zero', () => {
    expect(progressFields(500, 10_000)).toEqual({ rows: 500, rowsPerSecond: 50, elapsedSeconds: 10 });
    expect(progressFields(500, 10_000, 0)).toEqual({ rows: 500, rowsPerSecond: 50, elapsedSeconds: 10 });
  });

  it('caps percent at 100 and ETA at 0 when the estimate was too low', () => {
    expect(progressFields(1500, 10_000, 1000)).toMatchObject({ percent: 100, etaSeconds: 0 });
  });

  it('gives no ETA while no row has arrived', () => {
    expect(progressFields(0, 10_000, 1000)).toEqual({ rows: 0, rowsPerSecond: 0, elapsedSeconds: 10, percent: 0 });
  });
});

describe('the estimate of a read', () => {
  it('is the source estimate when the read starts at the beginning of the whole stream', () => {
    expect(readEstimate(stream, undefined)).toBe(1000);
    expect(readEstimate({ ...stream, syncMode: 'incremental' }, undefined)).toBe(1000);
    expect(readEstimate(stream, undefined, { index: 0, count: 1 })).toBe(1000);
  });

  it('is unknown for a read resumed from a checkpoint: an incremental run or a resumed full refresh', () => {
    expect(readEstimate({ ...stream, syncMode: 'incremental' }, { cursor: '2024-01-01' })).toBeUndefined();
    expect(readEstimate(stream, { chunk: 3 })).toBeUndefined();
  });

  it('is unknown for one partition of several', () => {
    expect(readEstimate(stream, undefined, { index: 1, count: 4 })).toBeUndefined();
  });
});

describe('progress lines', () => {
  afterEach(() => jest.useRealTimers());

  it('logs a line every interval with the rows so far on the given clock, and none after stop', () => {
    jest.useFakeTimers();
    const { logger, lines } = capture();
    let clock = 1_000_000;
    let rows = 0;
    const p = startProgress(logger, { intervalMs: 10_000, rows: () => rows, estimate: 4000, now: () => clock });
    for (const n of [1000, 2000]) {
      rows = n;
      clock += 10_000;
      jest.advanceTimersByTime(10_000);
    }
    p.stop();
    clock += 10_000;
    jest.advanceTimersByTime(30_000);
    expect(progressLines(lines).map(({ rows, rowsPerSecond, elapsedSeconds, percent, etaSeconds }) => ({ rows, rowsPerSecond, elapsedSeconds, percent, etaSeconds }))).toEqual([
      { rows: 1000, rowsPerSecond: 100, elapsedSeconds: 10, percent: 25, etaSeconds: 30 },
      { rows: 2000, rowsPerSecond: 100, elapsedSeconds: 20, percent: 50, etaSeconds: 20 },
    ]);
  });
});

describe('the runner', () => {
  /** A kit over ids 1..n that pauses between batches, so progress lines fall inside the read. */
  function slowKit(n: number) {
    return fixtureKit('slow', [stream], async function* (_ctx, _c, _s, state): AsyncIterable<Batch> {
      for (let i = typeof state === 'number' ? state : 0; i < n; i += 10) {
        await new Promise((r) => setTimeout(r, 30));
        yield { rows: Array.from({ length: 10 }, (_, j) => [BigInt(i + j + 1)]), checkpoint: i + 10 };
      }
    });
  }
  async function run(s: Stream, states = {}) {
    const { logger, lines } = capture();
    const target = new MemoryTarget();
    const runtime = { ...runtimeSettings.parse({}), progressIntervalMs: 5 };
    await runStreams({
      kit: slowKit(100),
      config: {},
      runtime,
      ctx: { logger, signal: new AbortController().signal, batchSize: 10, runId: 'r1' },
      target,
      run: { source: 'slow', runId: 'r1', loadedAtMicros: 1n, logger },
      streams: [s],
      states,
      metrics: new RunMetrics(),
    });
    return progressLines(lines);
  }

  it('logs progress with percent and ETA on a first full read of a stream with an estimate', async () => {
    const lines = await run(stream);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.stream === 'items' && typeof l.rows === 'number' && typeof l.rowsPerSecond === 'number' && typeof l.percent === 'number')).toBe(true);
  });

  it('logs progress without percent or ETA on an incremental run resumed from its checkpoint', async () => {
    const inc: Stream = { ...stream, syncMode: 'incremental', cursorField: ['id'] };
    const stored = { items: { kit: 50, generation: 'g0', phase: 'live' as const, seq: 1, runId: 'r0', updatedAt: '2024-01-01T00:00:00Z' } };
    const lines = await run(inc, stored);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => 'percent' in l || 'etaSeconds' in l)).toEqual([]);
  });
});
