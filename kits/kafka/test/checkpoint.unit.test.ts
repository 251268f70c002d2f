import type { SplitState } from '@datakit/core';
import { ownedPartitions, parseCheckpoint, resumeOffsets, runBudget, toCheckpoint } from '../src/checkpoint.js';

describe('the checkpoint', () => {
  it('round-trips offsets beyond 2^53 as decimal strings, partitions in order', () => {
    const positions = new Map([[3, 9007199254740993n], [0, 12n]]);
    const cp = toCheckpoint(positions);
    expect(JSON.stringify(cp)).toBe('{"offsets":{"0":"12","3":"9007199254740993"}}');
    expect(parseCheckpoint(cp, 'orders')).toEqual(new Map([[0, 12n], [3, 9007199254740993n]]));
  });

  it('is empty on a first run', () => {
    expect(parseCheckpoint(undefined, 'orders').size).toBe(0);
  });

  it.each([
    [{ cursor: 'x' }, 'no "offsets" object'],
    [{ offsets: { 0: 12 } }, 'offset of partition 0 is not a non-negative integer string'],
    [{ offsets: { zero: '1' } }, 'partition "zero" is not a number'],
    [{ offsets: { 1: '-3' } }, 'offset of partition 1'],
  ])('refuses %j as STATE.CORRUPT with the reset command', (state, why) => {
    expect(() => parseCheckpoint(state, 'orders')).toThrow(expect.objectContaining({ code: 'STATE.CORRUPT', message: expect.stringContaining(why), fix: expect.stringContaining('--state-reset orders') }));
  });
});

describe('resuming a split from every split of the stream', () => {
  const cp = (o: Record<number, number>) => ({ offsets: Object.fromEntries(Object.entries(o).map(([p, v]) => [p, String(v)])) });
  const at = (over: Partial<SplitState>): SplitState => ({ self: false, phase: 'live', updatedAt: '2026-12-01T10:00:00Z', checkpoint: undefined, ...over });

  it('takes, per owned partition, the furthest offset of its own checkpoint and the live splits', () => {
    // the group grew from 2 to 3: split 0/3 owns partitions 0 and 3 of 4
    const splits = [
      at({ split: { index: 0, count: 2 }, checkpoint: cp({ 0: 500, 2: 700 }) }),
      at({ split: { index: 1, count: 2 }, checkpoint: cp({ 1: 600, 3: 800 }) }),
      at({ split: { index: 0, count: 3 }, self: true, checkpoint: cp({ 0: 400, 3: 900 }) }),
      // an unfinished first load of another split is invisible: its offsets do not count
      at({ split: { index: 1, count: 4 }, phase: 'staging', checkpoint: cp({ 1: 999 }) }),
    ];
    expect(resumeOffsets(cp({ 0: 400, 3: 900 }), splits, 'orders', [0, 3])).toEqual({ offsets: new Map([[0, 500n], [3, 900n]]), adopted: true });
    expect(resumeOffsets(undefined, splits, 'orders', [1])).toEqual({ offsets: new Map([[1, 600n]]), adopted: true });
    expect(resumeOffsets(cp({ 0: 900 }), [], 'orders', [0, 3])).toEqual({ offsets: new Map([[0, 900n]]), adopted: false });
    // partitions it does not own are dropped from its own checkpoint
    expect(resumeOffsets(cp({ 0: 9, 1: 9 }), undefined, 'orders', [0]).offsets).toEqual(new Map([[0, 9n]]));
  });

  it('refuses to resume its unfinished first load once another split has read its partitions since', () => {
    const self = at({ split: { index: 0, count: 3, named: true }, self: true, phase: 'staging', updatedAt: '2026-12-01T10:00:00Z', checkpoint: cp({ 0: 100 }) });
    const later = at({ split: { index: 0, count: 2 }, updatedAt: '2026-12-01T11:00:00Z', checkpoint: cp({ 0: 5000 }) });
    expect(() => resumeOffsets(cp({ 0: 100 }), [self, later], 'orders', [0, 3])).toThrow(
      expect.objectContaining({ code: 'STATE.CORRUPT', message: expect.stringContaining('split orders#0/3 has an unfinished first load'), fix: expect.stringContaining('state reset orders#0/3') }),
    );
    // read before this split's first load began: no overlap
    expect(resumeOffsets(cp({ 0: 100 }), [self, { ...later, updatedAt: '2026-12-01T09:00:00Z', checkpoint: cp({ 0: 50 }) }], 'orders', [0, 3]).offsets).toEqual(new Map([[0, 100n]]));
  });
});

describe('partition ownership with --partition i/n', () => {
  it('splits any number of partitions into disjoint shares that cover them all', () => {
    const ids = Array.from({ length: 7 }, (_, i) => i);
    for (const n of [1, 2, 3, 4, 8]) {
      const shares = Array.from({ length: n }, (_, index) => ownedPartitions(ids, { index, count: n }));
      expect(shares.flat().sort((a, b) => a - b)).toEqual(ids);
    }
    expect(ownedPartitions(ids, { index: 1, count: 3 })).toEqual([1, 4]);
    expect(ownedPartitions(ids, undefined)).toEqual(ids);
  });
});

describe('the run budget', () => {
  it('is shared by every stream of a run and fresh for a new run', () => {
    const a = runBudget('run-a', 10, undefined);
    a.messagesLeft -= 4;
    expect(runBudget('run-a', 10, undefined).messagesLeft).toBe(6);
    expect(runBudget('run-b', 10, 5).messagesLeft).toBe(10);
    expect(runBudget('run-c', undefined, undefined)).toEqual({ messagesLeft: Infinity, deadline: Infinity });
  });
});
