/**
 * Golden files and exact comparisons.
 *
 * A golden file (`expected/<stream>.jsonl`) holds one JSON object per row, keyed by column name, with
 * values in the canonical form of `read-back.ts`. A long value may be written as
 * `{"$repeat": ["é😀x", 100000]}` (the text repeated) or `{"$concat": ["\\x", {"$repeat": ["00ff", 9]}]}`,
 * so golden files stay small.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Canonical, CanonicalRow } from '../read-back.ts';

function expand(v: unknown): Canonical {
  if (v !== null && typeof v === 'object') {
    const rep = (v as { $repeat?: unknown }).$repeat;
    if (Array.isArray(rep) && typeof rep[0] === 'string' && typeof rep[1] === 'number') return rep[0].repeat(rep[1]);
    const parts = (v as { $concat?: unknown }).$concat;
    if (Array.isArray(parts)) return parts.map((p) => String(expand(p))).join('');
    throw new Error(`golden: unsupported value ${JSON.stringify(v).slice(0, 80)}`);
  }
  return v as Canonical;
}

/** Read a golden `.jsonl` file. */
export function readGolden(path: string): CanonicalRow[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line, i) => {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`golden ${path}:${i + 1}: ${(e as Error).message}`);
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, expand(v)]));
    });
}

/** Shorten a long string that is a repetition (with a short prefix/suffix, e.g. `\x`, quotes). */
function compact(v: Canonical): unknown {
  if (typeof v !== 'string' || v.length < 4096) return v;
  for (let pre = 0; pre <= 4; pre++) {
    for (let suf = 0; suf <= 4; suf++) {
      const mid = v.slice(pre, v.length - suf);
      for (let len = 1; len <= 64; len++) {
        const unit = mid.slice(0, len);
        if (mid.length % len !== 0 || unit.repeat(mid.length / len) !== mid) continue;
        const rep = { $repeat: [unit, mid.length / len] };
        const parts = [v.slice(0, pre), rep, v.slice(v.length - suf)].filter((x) => x !== '');
        return parts.length === 1 ? rep : { $concat: parts };
      }
    }
  }
  return v;
}

/** Write rows as a golden file (used to create or refresh one; review the diff before committing). */
export function writeGolden(path: string, rows: CanonicalRow[]): void {
  writeFileSync(path, rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, compact(v)])))).join('\n') + '\n');
}

/** The key of a row: its primary key values, or the whole row when there is none. */
export function rowKey(row: CanonicalRow, key: readonly string[] | undefined, columns: readonly string[]): string {
  return JSON.stringify((key ?? columns).map((c) => row[c] ?? null));
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 120 ? `${s.slice(0, 100)}…(${s.length} chars)` : s;
};

/**
 * Compare rows exactly (as multisets, matched by key), over the expected rows' columns. Returns a
 * readable list of differences; empty when equal.
 */
export function diffRows(expected: CanonicalRow[], actual: CanonicalRow[], key?: readonly string[], limit = 40): string[] {
  const columns = [...new Set(expected.flatMap((r) => Object.keys(r)))];
  const out: string[] = [];
  const missingCols = columns.filter((c) => actual.length && !(c in actual[0]!));
  if (missingCols.length) out.push(`columns missing from bronze: ${missingCols.join(', ')}`);
  const groups = new Map<string, { exp: CanonicalRow[]; act: CanonicalRow[] }>();
  const group = (k: string) => groups.get(k) ?? (groups.set(k, { exp: [], act: [] }), groups.get(k)!);
  for (const r of expected) group(rowKey(r, key, columns)).exp.push(r);
  for (const r of actual) group(rowKey(r, key, columns)).act.push(r);
  for (const [k, g] of groups) {
    if (out.length >= limit) {
      out.push('…');
      break;
    }
    if (g.act.length > g.exp.length) out.push(`row ${k}: ${g.act.length - g.exp.length} extra (doubled or unexpected)`);
    if (g.act.length < g.exp.length) out.push(`row ${k}: ${g.exp.length - g.act.length} missing`);
    if (key && g.exp.length === 1 && g.act.length === 1) {
      for (const c of columns) {
        const e = g.exp[0]![c] ?? null;
        const a = g.act[0]![c] ?? null;
        if (!Object.is(e, a)) out.push(`row ${k} column ${JSON.stringify(c)}: expected ${show(e)}, got ${show(a)}`);
      }
    }
  }
  return out;
}

/** Keys lost, doubled, and unexpected between an expected key list and what bronze holds. */
export function keyMultisetDiff(expected: readonly string[], actual: readonly string[]): { lost: number; doubled: number; unexpected: number; examples: string[] } {
  const counts = new Map<string, number>();
  for (const k of actual) counts.set(k, (counts.get(k) ?? 0) + 1);
  const want = new Set(expected);
  let lost = 0;
  let doubled = 0;
  let unexpected = 0;
  const examples: string[] = [];
  for (const k of want) {
    const n = counts.get(k) ?? 0;
    if (n === 0) {
      lost++;
      if (examples.length < 10) examples.push(`lost ${k}`);
    } else if (n > 1) {
      doubled += n - 1;
      if (examples.length < 10) examples.push(`doubled ${k} ×${n}`);
    }
  }
  for (const [k, n] of counts) {
    if (!want.has(k)) {
      unexpected += n;
      if (examples.length < 10) examples.push(`unexpected ${k}`);
    }
  }
  return { lost, doubled, unexpected, examples };
}
