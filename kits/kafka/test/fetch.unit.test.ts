import { nextOffset, visibleMessages } from '../src/fetch.js';
import type { FetchedPartition, WireMessage } from '../src/wire.js';

const msg = (offset: number, extra: Partial<WireMessage> = {}): WireMessage => ({
  offset: String(offset),
  key: null,
  value: Buffer.from(String(offset)),
  timestamp: '0',
  batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId: '-1', inTransaction: false },
  ...extra,
});
const data = (messages: WireMessage[], abortedTransactions?: FetchedPartition['abortedTransactions']): FetchedPartition => ({ partition: 0, highWatermark: '100', messages, ...(abortedTransactions ? { abortedTransactions } : {}) });

describe('the next fetch offset', () => {
  it('is after the last message, or after the end of its record batch when compaction removed the tail', () => {
    expect(nextOffset(5n, data([msg(5), msg(6)]))).toBe(7n);
    expect(nextOffset(5n, data([msg(5, { batchContext: { firstOffset: '5', lastOffsetDelta: 9 } })]))).toBe(15n);
    expect(nextOffset(5n, data([]))).toBe(5n);
  });
});

describe('read_committed visibility', () => {
  it('drops control records and the messages of aborted transactions, keeping committed ones', () => {
    const txn = (offset: number, producerId: string): WireMessage => msg(offset, { batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId, inTransaction: true } });
    const marker = (offset: number, producerId: string, abort: boolean): WireMessage =>
      msg(offset, { isControlRecord: true, key: Buffer.from([0, 0, 0, abort ? 0 : 1]), batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId, inTransaction: true, isControlBatch: true } });
    const got = visibleMessages(data([msg(0), txn(1, '7'), txn(2, '8'), marker(3, '7', true), txn(4, '7'), marker(5, '8', false), marker(6, '7', false)], [{ producerId: '7', firstOffset: '1' }]));
    expect(got.map((m) => m.offset)).toEqual(['0', '2', '4']);
  });
});
