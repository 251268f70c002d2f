/**
 * Names in bronze: the stream directory of the Parquet layout and the warehouse table `br_<stream>`.
 */
import { createHash } from 'node:crypto';

/**
 * The bronze name of a stream: `orders` → `orders`, `sales.orders` → `sales_orders`. Characters that
 * are unsafe in a path segment (`/`, `\`, NUL, control characters) and the namespace dot become `_`;
 * unicode, spaces and case are kept (the warehouse quotes identifiers). A leading `_` or `.` is
 * prefixed with `s` so readers never mistake a stream for hidden bookkeeping.
 */
export function bronzeStreamName(stream: string): string {
  // eslint-disable-next-line no-control-regex
  let n = stream.replace(/[./\\\u0000-\u001f\u007f]/g, '_');
  if (n.startsWith('_') || n.startsWith('.')) n = `s${n}`;
  return n || 's_';
}

/** PostgreSQL truncates identifiers at 63 bytes: keep them unique with a short hash. */
export function pgIdentifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let cut = name;
  while (Buffer.byteLength(cut, 'utf8') > 54) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

/** The warehouse table of a stream: `br_<bronze name>` (`br_orders__p0of4` for a partition). */
export function warehouseTableName(bronzeName: string): string {
  return pgIdentifier(`br_${bronzeName.replace(/\/partition=(\d+)of(\d+)$/, '__p$1of$2')}`);
}

/** The table of a stream's quarantine output, beside the stream's table: `br_orders__quarantine`. */
export function quarantineTableName(table: string): string {
  return pgIdentifier(`${table}__quarantine`);
}

/**
 * The bronze name of one partition of a stream (`--partition i/n`): `orders/partition=0of4`. Each
 * partition is its own generation, swapped in on its own, so partitions of a full refresh never
 * replace each other: in Parquet `<stream>/partition=0of4/` (readers glob `<stream>/*\/*.parquet`), in
 * the warehouse `br_orders__p0of4`.
 */
export function partitionBronzeName(bronzeName: string, partition?: { index: number; count: number; named?: boolean }): string {
  return partition && (partition.count > 1 || partition.named) ? `${bronzeName}/partition=${partition.index}of${partition.count}` : bronzeName;
}

/** `"a ""b"""` — a quoted PostgreSQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The state key of a stream, with its partition when split (`orders#2/4`; `orders#0/1` for a named single split). */
export function stateKey(stream: string, partition?: { index: number; count: number; named?: boolean }): string {
  return partition && (partition.count > 1 || partition.named) ? `${stream}#${partition.index}/${partition.count}` : stream;
}

/**
 * Which split of `stream` a state key belongs to: `{}` for the stream's own key, `{ split }` for
 * `stream#i/n` (named, so `stateKey(stream, split)` gives the key back, `#0/1` included), `undefined`
 * for a key of another stream.
 */
export function splitOfKey(stream: string, key: string): { split?: { index: number; count: number; named: true } } | undefined {
  if (key === stream) return {};
  if (!key.startsWith(`${stream}#`)) return undefined;
  const split = parseSplit(key.slice(stream.length + 1));
  return split ? { split: { ...split, named: true } } : undefined;
}

/** `i/n` (0-based split i of n, `0 <= i < n`), as `--partition` and state keys spell it; else undefined. */
export function parseSplit(text: string): { index: number; count: number } | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index < count ? { index, count } : undefined;
}
