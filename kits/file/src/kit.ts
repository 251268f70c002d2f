/**
 * The file kit: CSV, TSV, JSON, NDJSON and Parquet files from a local directory, S3 or SFTP into
 * bronze — exactly, incrementally, every bad record accounted for. See docs/kits/file.md.
 */
import { createRequire } from 'node:module';
import { defineKit, type Context } from '@datakit/core';
import { fileConfig, type FileKitConfig } from './config.js';
import { discoverStreams } from './discover.js';
import { listFiles } from './files.js';
import { readStream } from './read.js';
import { readInThread, workerScript } from './read-thread.js';
import { openStore } from './store/index.js';
import { streamSpecs } from './streams.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Connect to the store, list its root and count each stream's files. Throws the store's
 * `SOURCE.*` errors (bad credentials name the settings to check) and `CONFIG.INVALID`.
 */
export async function check(ctx: Context, config: FileKitConfig): Promise<void> {
  const specs = streamSpecs(config);
  const store = await openStore(ctx, config);
  try {
    await store.probe(ctx.signal);
    for (const spec of specs) {
      const files = await listFiles(store, spec, { signal: ctx.signal }, config.minAgeSeconds);
      ctx.logger.info({ stream: spec.name, files: files.length }, 'check: stream files listed');
    }
  } finally {
    await store.close();
  }
}

/** The file kit. */
export const fileKit = defineKit<FileKitConfig>({
  name: 'file',
  version,
  config: fileConfig,
  check,
  discover: discoverStreams,
  read(ctx, config, stream, state) {
    const script = config.readThread ? workerScript() : undefined;
    return script ? readInThread(script, ctx, config, stream, state) : readStream(ctx, config, stream, state);
  },
});
