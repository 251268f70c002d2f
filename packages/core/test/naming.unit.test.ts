import { bronzeStreamName, partitionBronzeName, pgIdentifier, splitOfKey, stateKey, warehouseTableName } from '../src/naming.js';

describe('bronze names', () => {
  it('turns a schema-qualified stream into one path segment and table name', () => {
    expect(bronzeStreamName('sales.orders')).toBe('sales_orders');
    expect(warehouseTableName(bronzeStreamName('sales.orders'))).toBe('br_sales_orders');
    expect(warehouseTableName(bronzeStreamName('orders'))).toBe('br_orders');
  });

  it('keeps unicode, spaces and case, and makes path separators, control characters and hidden prefixes safe', () => {
    expect(bronzeStreamName('Order Lines 🚀')).toBe('Order Lines 🚀');
    expect(bronzeStreamName('a/b\\c\u0001d')).toBe('a_b_c_d');
    expect(bronzeStreamName('_private')).toBe('s_private');
    expect(bronzeStreamName('.hidden')).toBe('s_hidden');
    expect(bronzeStreamName('')).toBe('s_');
  });

  it('names partitions in Parquet and the warehouse, and in state', () => {
    expect(partitionBronzeName('orders', { index: 0, count: 4 })).toBe('orders/partition=0of4');
    expect(partitionBronzeName('orders', { index: 0, count: 1 })).toBe('orders');
    expect(warehouseTableName('orders/partition=3of4')).toBe('br_orders__p3of4');
    expect(stateKey('sales.orders', { index: 2, count: 4 })).toBe('sales.orders#2/4');
    expect(stateKey('sales.orders')).toBe('sales.orders');
    // a scale-out's single split keeps its split name (the group may grow later)
    expect(stateKey('orders', { index: 0, count: 1, named: true })).toBe('orders#0/1');
    expect(partitionBronzeName('orders', { index: 0, count: 1, named: true })).toBe('orders/partition=0of1');
    expect(warehouseTableName('orders/partition=0of1')).toBe('br_orders__p0of1');
  });

  it('shortens identifiers past 63 bytes with a hash, keeping distinct names distinct', () => {
    const a = pgIdentifier(`br_${'x'.repeat(80)}`);
    const b = pgIdentifier(`br_${'x'.repeat(79)}y`);
    expect([Buffer.byteLength(a), Buffer.byteLength(b)].every((n) => n <= 63)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^br_x+_[0-9a-f]{8}$/);
    expect(pgIdentifier('br_short')).toBe('br_short');
  });
});

describe('state keys of splits', () => {
  it('tells which split of a stream a key is, and rejects keys of other streams', () => {
    expect(splitOfKey('orders', 'orders')).toEqual({});
    expect(splitOfKey('orders', 'orders#2/3')).toEqual({ split: { index: 2, count: 3, named: true } });
    expect(splitOfKey('orders', 'orders_eu#0/2')).toBeUndefined();
    expect(splitOfKey('orders', 'orders#3/3')).toBeUndefined();
    expect(splitOfKey('orders', 'orders#x')).toBeUndefined();
    const one = splitOfKey('sales.orders', 'sales.orders#0/1');
    expect(one).toEqual({ split: { index: 0, count: 1, named: true } });
    expect(stateKey('sales.orders', one!.split)).toBe('sales.orders#0/1');
  });
});
