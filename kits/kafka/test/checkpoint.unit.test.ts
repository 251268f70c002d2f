import { ownedPartitions, parseCheckpoint, runBudget, toCheckpoint } from '../src/checkpoint.js';

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
