/**
 * The test API's data: customers with 64-bit ids beyond 2^53, exact decimals with trailing zeros,
 * nested objects, a field that only later records have, ties on `updated_at`, and orders per
 * customer. JSON is written with `JSON.rawJSON`, so numbers go out exactly as the source text says.
 */

interface RawJson {
  rawJSON: string;
}
const raw = (text: string): RawJson => (JSON as unknown as { rawJSON(t: string): RawJson }).rawJSON(text);

/** First customer id: 2^53 + 1, which a JS number cannot hold. */
export const FIRST_ID = 9007199254740993n;
const BASE_MS = Date.UTC(2024, 0, 1);

/** A customer as the server knows it. */
export interface Customer {
  id: bigint;
  name: string;
  balance: string;
  active: boolean;
  updatedAt: string;
  index: number;
}

/** ISO timestamp (seconds) of `minutes` after 2024-01-01. */
export const minutesAfterBase = (minutes: number): string => new Date(BASE_MS + minutes * 60_000).toISOString().replace('.000Z', 'Z');

/** `n` customers; customers 2k and 2k+1 share `updated_at` (ties). */
export function makeCustomers(n: number): Customer[] {
  return Array.from({ length: n }, (_, i) => ({
    id: FIRST_ID + BigInt(i),
    name: `customer ${i} ✓`,
    balance: `${i}.${String(i % 100).padStart(2, '0')}`, // "10.10": a trailing zero that must survive
    active: i % 3 !== 0,
    updatedAt: minutesAfterBase(Math.floor(i / 2)),
    index: i,
  }));
}

/** The JSON shape of a customer (with `note` from customer 7 on: a late field). */
export function customerJson(c: Customer): Record<string, unknown> {
  return {
    id: raw(c.id.toString()),
    name: c.name,
    balance: raw(c.balance),
    active: c.active,
    updated_at: c.updatedAt,
    address: { city: `City ${c.index % 5}`, geo: { lat: raw('52.520000'), lng: 13.405 } },
    tags: c.index % 2 ? ['vip'] : [],
    ...(c.index >= 7 ? { note: c.index % 2 ? null : `note ${c.index}` } : {}),
  };
}

/** Orders of a customer: `1 + index % 3` of them. */
export function ordersOf(c: Customer): Record<string, unknown>[] {
  return Array.from({ length: 1 + (c.index % 3) }, (_, k) => ({
    order_id: `${c.index}-${k}`,
    customer_id: raw(c.id.toString()),
    amount: raw(`${k + 1}0.00`),
    placed_at: minutesAfterBase(c.index * 10 + k),
  }));
}

/** Events for windowed reads: one every 6 hours from 2024-01-01. */
export function makeEvents(n: number): { id: number; ts: string }[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, ts: minutesAfterBase(i * 360) }));
}
