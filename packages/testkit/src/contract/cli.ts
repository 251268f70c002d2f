/**
 * Running a kit's CLI in tests: in-process through `runCli` (fast; most cases), or the built
 * `dist/main.js` as a child process (what the image runs; signals, kill -9 and memory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createLogger, runCli, type Kit } from '@datakit/core';

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The test logger: silent unless `DATAKIT_TEST_LOG` names a level. */
const logger = createLogger({ level: process.env.DATAKIT_TEST_LOG ?? 'silent', pretty: false });

/** Run the CLI in-process with exactly this environment (no process env). */
export async function runInProcess<C>(kit: Kit<C>, argv: string[], env: Record<string, string>, opts: { signal?: AbortSignal } = {}): Promise<CliResult> {
  let stdout = '';
  const code = await runCli(kit, argv, { env, stdout: (t) => (stdout += t), logger, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { code, signal: null, stdout, stderr: '', json: parseJson(stdout) };
}

/** A child process of the built CLI. */
export interface CliChild {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
}

/** The environment a spawned CLI gets: only what a container would have, plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  const base = Object.fromEntries(keep.flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])));
  return { ...base, LOG_FORMAT: 'json', ...env };
}

/**
 * Node's flags for a 256 MB old space with the young generation bounded, as the image's entrypoint
 * bounds it in a memory-limited container (`docker/entrypoint.sh`: 16 MB semi-spaces in a 256–511 Mi
 * pod) — Node 24's default young generation alone adds ~130 MB of RSS on a busy stream.
 */
export const BOUNDED_NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=16';

/**
 * Spawn `node <main> ...argv`. With `measure`, the process runs under `/usr/bin/time -v` and the
 * result's `peakRssKb` is its maximum resident set size.
 */
export function spawnCli(main: string, argv: string[], env: Record<string, string>, opts: { measure?: boolean } = {}): CliChild & { peakRssKb(): number | undefined } {
  if (!existsSync(main)) throw new Error(`${main} does not exist: build the kit first (pnpm turbo run build --filter=<kit>)`);
  const measure = opts.measure && existsSync('/usr/bin/time');
  const [cmd, args] = measure ? ['/usr/bin/time', ['-v', process.execPath, main, ...argv]] : [process.execPath, [main, ...argv]];
  const child = spawn(cmd, args as string[], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, json: parseJson(stdout) }));
  });
  // without /usr/bin/time, poll the peak (VmHWM) while the process lives
  let polled: number | undefined;
  if (opts.measure && !measure) {
    const timer = setInterval(() => {
      const kb = vmHwmKb(child.pid!);
      if (kb !== undefined) polled = Math.max(polled ?? 0, kb);
    }, 50);
    child.on('exit', () => clearInterval(timer));
  }
  const peakRssKb = (): number | undefined => {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    return m ? Number(m[1]) : polled;
  };
  return { child, done, output: () => stdout + stderr, peakRssKb };
}

/** Thrown inside a {@link waitFor} poll to stop waiting at once. */
export class FatalWait extends Error {}

/** Poll `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof FatalWait) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** The peak RSS (VmHWM, kB) of a live process, from /proc (undefined once it has exited). */
export function vmHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
