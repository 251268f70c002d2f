/**
 * Globs of streams: which directory to list (the static prefix, so S3 lists one prefix and SFTP walks
 * one subtree) and whether a listed path matches. `*` stays inside one directory, `**` crosses them;
 * braces, classes and extglobs work as in bash (picomatch). Dotfiles are not matched by wildcards.
 */
import picomatch from 'picomatch';
import type { ListScope } from './store/types.js';

/** A compiled glob. */
export interface Glob {
  pattern: string;
  scope: ListScope;
  matches(path: string): boolean;
}

const MAGIC = /[*?[\]{}()!+@]/;

/**
 * Compile a glob relative to the store root.
 * @example compileGlob('orders/2024-*\/*.csv').scope // { dir: 'orders/', depth: 1 }
 */
export function compileGlob(pattern: string): Glob {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (MAGIC.test(p) || p.includes('\\')) break;
    fixed.push(p);
  }
  const rest = parts.slice(fixed.length);
  const depth = rest.some((p) => p.includes('**')) ? Infinity : rest.length - 1;
  const isMatch = picomatch(pattern, { dot: false });
  return { pattern, scope: { dir: fixed.length ? `${fixed.join('/')}/` : '', depth }, matches: (path) => isMatch(path) };
}

/** The narrowest scopes covering every glob (one listing per distinct directory). */
export function scopesOf(globs: readonly Glob[]): ListScope[] {
  const byDir = new Map<string, number>();
  for (const g of globs) byDir.set(g.scope.dir, Math.max(byDir.get(g.scope.dir) ?? -1, g.scope.depth));
  const dirs = [...byDir.keys()].sort();
  // a directory inside another listed one is covered by it when the outer one goes deep enough
  return dirs
    .filter((d) => !dirs.some((o) => o !== d && d.startsWith(o) && byDir.get(o)! >= d.slice(o.length).split('/').length - 1 + byDir.get(d)!))
    .map((dir) => ({ dir, depth: byDir.get(dir)! }));
}
