#!/usr/bin/env node
/**
 * The image's entry point: core's CLI, then — after `run` — the stored offsets of the run report are
 * committed to KAFKA_GROUP_ID for lag monitoring (see group.ts; core has no commit hook yet).
 */
import { createLogger, runCli } from '@datakit/core';
import { commitReported } from './group.js';
import { kafkaKit } from './kit.js';

const argv = process.argv.slice(2);
let printed = '';
const code = await runCli(kafkaKit, argv, {
  stdout: (text) => {
    printed += text;
    process.stdout.write(text);
  },
});
await commitReported(argv, printed, createLogger({ name: 'kafka', ...(process.env.LOG_LEVEL ? { level: process.env.LOG_LEVEL } : {}) }));
// let stdout drain before exiting (pipes are async)
await new Promise<void>((r) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', () => r()) : r()));
process.exit(code);
