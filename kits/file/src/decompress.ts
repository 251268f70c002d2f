/**
 * A file's bytes, decompressed: gzip and zstd (Node's zlib) and zip (fflate, the archive's single
 * file), chosen by the content's magic bytes — the extension only names what is expected, so a
 * `.csv.gz` that is not gzip is read as it is, and a gzip without `.gz` is still decompressed.
 * A truncated or corrupt compressed stream ends in a {@link TruncatedInput} error after every byte
 * that could be decoded, so the records before it still count.
 */
import { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';

/** Compression of a file. */
export type Compression = 'none' | 'gzip' | 'zstd' | 'zip';

/** A file that cannot be read past some point: a bad record for the whole rest of the file. */
export class UnreadableFile extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableFile';
  }
}

/** The input ended early or is corrupt (truncated gzip/zstd/zip). */
export class TruncatedInput extends UnreadableFile {
  constructor(
    readonly compression: Compression,
    reason: string,
  ) {
    super(`${compression === 'none' ? 'file' : `${compression} stream`} is truncated or corrupt (${reason})`);
    this.name = 'TruncatedInput';
  }
}

/** The compression the magic bytes say. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  return 'none';
}

/** The compression an extension names (`.gz`, `.zst`, `.zip`), and the name without it. */
export function compressionOfName(name: string): { compression: Compression; base: string } {
  const m = /\.(gz|gzip|zst|zstd|zip)$/i.exec(name);
  if (!m) return { compression: 'none', base: name };
  const ext = m[1]!.toLowerCase();
  return { compression: ext.startsWith('g') ? 'gzip' : ext === 'zip' ? 'zip' : 'zstd', base: name.slice(0, -m[0].length) };
}

/** Read until at least `n` bytes (or the end); returns them and a stream of everything. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const r = await it.next();
    if (r.done) break;
    first.push(r.value);
    got += r.value.length;
  }
  const head = Buffer.concat(first);
  async function* all(): AsyncIterable<Buffer> {
    try {
      if (head.length) yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // an early stop closes the source (file handle, HTTP body, SFTP handle)
      await it.return?.();
    }
  }
  return { head, all: all() };
}

async function* through(stream: Readable, compression: Compression): AsyncIterable<Buffer> {
  try {
    for await (const c of stream) yield c as Buffer;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/^Z_|ZSTD|ERR_ZLIB|ERR_ZSTD/i.test(code) || /unexpected end|incorrect header|invalid|corrupt/i.test((e as Error).message)) {
      throw new TruncatedInput(compression, (e as Error).message);
    }
    throw e;
  }
}

async function* unzip(input: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const out: Buffer[] = [];
  let file: UnzipFile | undefined;
  let files = 0;
  let ended = false;
  let failure: Error | undefined;
  const u = new Unzip((f) => {
    if (f.name.endsWith('/')) return;
    files += 1;
    if (file) {
      failure = new UnreadableFile('the zip archive holds more than one file; put one file in each archive');
      return;
    }
    file = f;
    f.ondata = (err, data, final) => {
      if (err) failure = err;
      else if (data.length) out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
      if (final) ended = true;
    };
    f.start();
  });
  u.register(UnzipInflate);
  for await (const chunk of input) {
    // small pushes bound the decompressed bytes held at once
    for (let i = 0; i < chunk.length; i += 64 * 1024) {
      u.push(chunk.subarray(i, i + 64 * 1024));
      if (failure) throw failure;
      while (out.length) yield out.shift()!;
    }
  }
  u.push(new Uint8Array(0), true);
  if (failure) throw failure;
  while (out.length) yield out.shift()!;
  if (!files) throw new TruncatedInput('zip', 'no file in the archive');
  if (!ended) throw new TruncatedInput('zip', 'the archive ends inside its file');
}

/**
 * The decompressed bytes of `raw`, and the first bytes of the content (for sniffing the format).
 * @example const { bytes, head, compression } = await decompressed(await store.open(entry, signal));
 */
export async function decompressed(raw: Readable): Promise<{ compression: Compression; head: Buffer; bytes: AsyncIterable<Buffer> }> {
  const { head: magic, all } = await peek(raw, 4);
  const compression = sniffCompression(magic);
  let bytes: AsyncIterable<Buffer>;
  if (compression === 'gzip' || compression === 'zstd') {
    const z = compression === 'gzip' ? createGunzip() : createZstdDecompress();
    const src = Readable.from(all, { objectMode: false });
    src.on('error', (e) => z.destroy(e));
    bytes = through(src.pipe(z), compression);
  } else if (compression === 'zip') {
    bytes = unzip(all);
  } else {
    bytes = all;
  }
  const { head, all: content } = await peek(Readable.from(bytes, { objectMode: false }), 4096);
  return { compression, head, bytes: content };
}
