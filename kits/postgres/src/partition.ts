/**
 * `--partition i/n`: each process reads a disjoint share of a stream, and the shares together are the
 * whole stream.
 *
 * - **range** — a full refresh of a table whose primary key is one integer column: the key span
 *   `[min, max]` (read in the snapshot) is cut into `n` equal ranges, the first and last open-ended, so
 *   a row below `min` or above `max` still belongs to exactly one partition. The bounds go into every
 *   checkpoint, so a resumed partition keeps them. Each partition walks only its part of the key index.
 * - **hash** — everything else (composite or non-integer keys, views, no key, every incremental stream):
 *   `hashtextextended(key::text, 0)` modulo `n`. It needs no shared state, works for every type,
 *   and a row's partition never changes while its key does not, which keeps per-partition incremental
 *   state valid across runs (range bounds move as the table grows). Each partition scans the whole
 *   relation and keeps its share.
 *
 * Range bounds are computed by each process on its own; rows inserted or deleted at the ends of the key
 * span between the processes' starts shift the interior bounds (see docs: start the partitions
 * together, or set `SOURCE_PARTITION_BY=hash` for tables with heavy churn).
 */
import { ALIAS, baseTypname, col, literal } from './sql.js';
import type { PgColumnInfo } from './type-map.js';

/** Which partition this process reads (`ctx.partition`). */
export interface PartitionOf {
  index: number;
  count: number;
}

/** How the stream is partitioned; stored in full-refresh checkpoints so a resume keeps it. */
export type PartitionSpec =
  | { by: 'range'; lo: string | null; hi: string | null; empty?: boolean }
  | { by: 'hash' };

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** True when the stream's key allows range partitions: one integer column. */
export function rangeable(pk: readonly PgColumnInfo[]): boolean {
  return pk.length === 1 && INTEGER_TYPES.has(baseTypname(pk[0]!));
}

/**
 * The bounds of partition `index` of `count` over `[min, max]` (decimal integer text): `lo`
 * inclusive, `hi` exclusive, `null` = open. An empty relation (`min` null) gives every row to
 * partition 0.
 *
 * @example rangeBounds('1', '100', 1, 4) // { by: 'range', lo: '26', hi: '51' }
 */
export function rangeBounds(min: string | null, max: string | null, index: number, count: number): PartitionSpec {
  if (min === null || max === null) return index === 0 ? { by: 'range', lo: null, hi: null } : { by: 'range', lo: null, hi: null, empty: true };
  const lo = BigInt(min);
  const span = BigInt(max) - lo + 1n;
  const bound = (j: number): string => String(lo + (span * BigInt(j)) / BigInt(count));
  return { by: 'range', lo: index === 0 ? null : bound(index), hi: index === count - 1 ? null : bound(index + 1) };
}

/**
 * The predicate that keeps this partition's rows, or undefined when every row is kept.
 * `key` is the primary key (empty: the whole row is hashed).
 */
export function partitionPredicate(spec: PartitionSpec, part: PartitionOf, key: readonly PgColumnInfo[]): string | undefined {
  if (part.count === 1) return undefined;
  if (spec.by === 'range') {
    if (spec.empty) return 'FALSE';
    const k = key[0];
    if (!k) throw new Error('range partitions need a key column');
    const preds = [
      ...(spec.lo !== null ? [`${col(k.name)} >= ${literal(spec.lo, k)}`] : []),
      ...(spec.hi !== null ? [`${col(k.name)} < ${literal(spec.hi, k)}`] : []),
    ];
    return preds.length ? preds.join(' AND ') : undefined;
  }
  const text = key.length === 0 ? `ROW(${ALIAS}.*)::text` : key.length === 1 ? `${col(key[0]!.name)}::text` : `ROW(${key.map((k) => col(k.name)).join(', ')})::text`;
  // `% n` of a negative hash is negative: shift it into [0, n) (abs() would overflow on int8's minimum)
  return `((hashtextextended(${text}, 0) % ${part.count}) + ${part.count}) % ${part.count} = ${part.index}`;
}
