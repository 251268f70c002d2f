import { planSplits, storedSplitCount, type MemberClaim } from '../src/membership.js';

const member = (memberId: string, over: Partial<MemberClaim> = {}): MemberClaim => ({ memberId, stored: 0, ...over });
const plan = (members: MemberClaim[], configured?: number) => {
  const p = planSplits(members, configured);
  return { count: p.count, splits: Object.fromEntries(p.splits) };
};

describe('the leader splitting the work', () => {
  it('gives a new group of n members one split each, in member id order', () => {
    expect(plan([member('b'), member('a'), member('c')])).toEqual({ count: 3, splits: { a: [0], b: [1], c: [2] } });
    expect(plan([member('a')])).toEqual({ count: 1, splits: { a: [0] } });
  });

  it('keeps the stored split count: fewer members take several splits, more members than splits get none', () => {
    expect(plan([member('a', { stored: 4 }), member('b', { stored: 4 })])).toEqual({ count: 4, splits: { a: [0, 2], b: [1, 3] } });
    expect(plan([member('a', { stored: 2 }), member('b'), member('c')], 2)).toEqual({ count: 2, splits: { a: [0], b: [1], c: [] } });
  });

  it('grows the count when more members join than there are splits', () => {
    expect(plan([member('a', { stored: 2 }), member('b', { stored: 2 }), member('c', { stored: 2 })])).toEqual({ count: 3, splits: { a: [0], b: [1], c: [2] } });
  });

  it('lets members keep the splits they had in the run when another leaves or comes late', () => {
    // b had 0/2 and stays; a left: b keeps 0 and takes 1
    expect(plan([member('b', { had: { count: 2, splits: [0] } })])).toEqual({ count: 2, splits: { b: [0, 1] } });
    // c comes late to a group of 3 splits whose member left: c takes the free split, the others keep theirs
    expect(plan([member('a', { had: { count: 3, splits: [2] } }), member('b', { had: { count: 3, splits: [0] } }), member('c')])).toEqual({ count: 3, splits: { a: [2], b: [0], c: [1] } });
    // KAFKA_SPLITS changed the count: nothing is kept
    expect(plan([member('a', { had: { count: 2, splits: [1] } }), member('b')], 4)).toEqual({ count: 4, splits: { a: [0, 2], b: [1, 3] } });
  });

  it('assigns every split exactly once', () => {
    for (const n of [1, 2, 3, 5]) {
      for (const count of [1, 2, 4, 7]) {
        const members = Array.from({ length: n }, (_, i) => member(`m${i}`, { had: { count, splits: [i % count, (i * 3) % count] } }));
        const all = [...planSplits(members, count).splits.values()].flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: count }, (_, i) => i));
      }
    }
  });
});

describe('the stored split count', () => {
  it('is the largest count among the stored keys of the streams, 1 for an unsplit key, 0 for none', () => {
    expect(storedSplitCount(['orders', 'items'], ['orders#0/2', 'orders#1/2', 'items#2/3', 'other#0/8'])).toBe(3);
    expect(storedSplitCount(['orders'], ['orders'])).toBe(1);
    expect(storedSplitCount(['orders'], ['orders_eu#0/4'])).toBe(0);
  });
});
