#!/usr/bin/env node
// `pnpm bench [kit…]`: runs every bench/<kit>.bench.mjs (or only the named kits), one after the other,
// each in its own Node process (so one benchmark's memory never weighs on the next). Each benchmark
// prints its own table and writes bench/results/<kit>.json (gitignored).
//
// A kit adds its benchmark by dropping `bench/<kit>.bench.mjs` here: a plain ES module that needs the
// kit built (`pnpm bench` builds every kit and the testkit first) and starts whatever service it needs.
//
// Benchmarks report, they do not gate: this exits non-zero only when a benchmark could not run
// (crashed or exited non-zero), never because a figure missed its floor.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(`${w}.bench.mjs`));
if (unknown.length) {
  console.error(`bench: no bench/${unknown[0]}.bench.mjs (have: ${all.map((f) => basename(f, '.bench.mjs')).join(', ')})`);
  process.exit(2);
}
const files = wanted.length ? all.filter((f) => wanted.includes(basename(f, '.bench.mjs'))) : all;

const outcomes = [];
for (const file of files) {
  const kit = basename(file, '.bench.mjs');
  console.log(`\n\x1b[1m━━ bench: ${kit} ━━\x1b[0m`);
  const t = performance.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, file)], { stdio: 'inherit', env: process.env });
    child.once('error', (e) => {
      console.error(`bench: ${file}: ${e.message}`);
      resolve(1);
    });
    child.once('exit', (c, sig) => resolve(sig ? `signal ${sig}` : c));
  });
  outcomes.push({ kit, code, seconds: (performance.now() - t) / 1000 });
}

console.log('\n\x1b[1m━━ bench summary ━━\x1b[0m');
for (const o of outcomes) {
  console.log(`  ${o.kit.padEnd(12)} ${o.code === 0 ? 'ran' : `exit ${o.code}`}  (${o.seconds.toFixed(1)} s)  → bench/results/${o.kit}.json`);
}
process.exitCode = outcomes.some((o) => o.code !== 0) ? 1 : 0;
