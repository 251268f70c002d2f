/**
 * An SFTP directory as a {@link FileStore}: `sftp://user@host:22/path` (the path is absolute;
 * `/~/dir` is relative to the login directory). Authenticates with a password (SFTP_PASSWORD or the
 * URL) and/or a private key with its passphrase, checks the host key's SHA-256 fingerprint when
 * SFTP_HOST_KEY_SHA256 is set, lists recursively and reads through one SSH connection: streams for
 * text formats, positioned reads for Parquet.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DatakitError } from '@datakit/core';
import type SftpClient from 'ssh2-sftp-client';
import type { FileKitConfig } from '../config.js';
import { storeError } from '../errors.js';
import type { FileEntry, FileStore, ListScope } from './types.js';

/** The raw SFTP session of ssh2 (the parts used here). */
interface RawSftp {
  open(path: string, flags: string, cb: (err: Error | undefined, handle: Buffer) => void): void;
  read(handle: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | undefined, bytesRead: number) => void): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
  createReadStream(path: string, opts?: { highWaterMark?: number }): Readable;
}

/** `SHA256:base64` (no padding) of a host key blob, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function sameFingerprint(expected: string, key: Buffer): boolean {
  if (expected.startsWith('SHA256:')) return expected.replace(/=+$/, '') === hostKeyFingerprint(key);
  return expected.replace(/:/g, '').toLowerCase() === createHash('sha256').update(key).digest('hex');
}

/** A store over an SFTP directory; {@link SftpStore.connect} opens it. */
export class SftpStore implements FileStore {
  readonly kind = 'sftp';
  private constructor(
    private readonly client: SftpClient,
    private readonly sftp: RawSftp,
    private readonly root: string,
    private readonly display: string,
  ) {}

  /** Connect and authenticate. Throws `SOURCE.AUTH_FAILED` (naming the settings) on bad credentials or host key. */
  static async connect(url: URL, config: FileKitConfig, log: (msg: string, fields: Record<string, unknown>) => void): Promise<SftpStore> {
    const { default: Client } = await import('ssh2-sftp-client');
    const client = new Client('datakit-file');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 22;
    const username = decodeURIComponent(url.username);
    const password = config.sftpPassword ?? (url.password ? decodeURIComponent(url.password) : undefined);
    let seen: string | undefined;
    let mismatch = false;
    if (!username) throw new DatakitError('CONFIG.INVALID', 'FILE_URL: an sftp:// URL needs a user (sftp://user@host/path)', { fix: 'add the user to FILE_URL' });
    try {
      const raw = (await client.connect({
        host,
        port,
        username,
        ...(password !== undefined ? { password } : {}),
        ...(config.sftpPrivateKey ? { privateKey: config.sftpPrivateKey, ...(config.sftpPassphrase ? { passphrase: config.sftpPassphrase } : {}) } : {}),
        readyTimeout: config.sftpTimeoutMs,
        keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          seen = hostKeyFingerprint(key);
          mismatch = config.sftpHostKey !== undefined && !sameFingerprint(config.sftpHostKey, key);
          return !mismatch;
        },
      })) as unknown as RawSftp;
      if (!config.sftpHostKey) log('sftp: host key not verified (set SFTP_HOST_KEY_SHA256 to pin it)', { host, fingerprint: seen });
      const path = decodeURIComponent(url.pathname);
      const root = path.startsWith('/~/') || path === '/~' ? path.slice(3).replace(/\/+$/, '') || '.' : path.replace(/\/+$/, '') || '/';
      return new SftpStore(client, raw, root, `sftp://${host}:${port}${path.replace(/\/+$/, '')}`);
    } catch (e) {
      await client.end().catch(() => undefined);
      if (mismatch) {
        throw new DatakitError('SOURCE.AUTH_FAILED', `sftp: host key of ${host}:${port} is ${seen}, not the expected ${config.sftpHostKey}`, { cause: e, fix: 'check SFTP_HOST_KEY_SHA256 (ssh-keyscan + ssh-keygen -lf)' });
      }
      if (/cannot parse privatekey/i.test((e as Error)?.message ?? '')) {
        // ssh2 could not decrypt or read the key: a wrong or missing passphrase, or a key it cannot read
        const reason = (e as Error).message.replace(/^.*?cannot parse privatekey:\s*/i, '');
        throw new DatakitError('SOURCE.AUTH_FAILED', `sftp: cannot use SFTP_PRIVATE_KEY for ${username}@${host}:${port}: ${reason}`, { cause: e, fix: 'check SFTP_PASSPHRASE (the passphrase of SFTP_PRIVATE_KEY) and that the key is an OpenSSH or PEM private key' });
      }
      throw storeError(e, 'sftp', `connecting to ${host}:${port} as ${username}`);
    }
  }

  private abs(rel: string): string {
    const r = rel.replace(/\/+$/, '');
    if (!r) return this.root;
    return this.root === '/' ? `/${r}` : `${this.root}/${r}`;
  }

  async *list(scope: ListScope, signal: AbortSignal): AsyncIterable<FileEntry> {
    yield* this.walk(scope.dir, scope.depth, signal, true);
  }

  private async *walk(dir: string, depth: number, signal: AbortSignal, top: boolean): AsyncIterable<FileEntry> {
    signal.throwIfAborted();
    let items: SftpClient.FileInfo[];
    try {
      items = await this.client.list(this.abs(dir));
    } catch (e) {
      const err = storeError(e, 'sftp', `listing ${this.abs(dir)}`);
      if (err.code === 'SOURCE.NOT_FOUND' && !(top && dir === '')) return;
      throw err;
    }
    for (const it of items) {
      if (it.name === '.' || it.name === '..') continue;
      const rel = `${dir}${it.name}`;
      if (it.type === 'd') {
        if (depth > 0) yield* this.walk(`${rel}/`, depth - 1, signal, false);
      } else if (it.type === '-') {
        yield { path: rel, size: it.size, modifiedMicros: BigInt(it.modifyTime) * 1000n, version: String(it.modifyTime) };
      }
    }
  }

  async open(entry: FileEntry, signal: AbortSignal): Promise<Readable> {
    signal.throwIfAborted();
    const s = this.sftp.createReadStream(this.abs(entry.path), { highWaterMark: 256 * 1024 });
    // ssh2 reports reads still in flight when the stream is destroyed or the connection closes (an
    // early stop) as an 'error' event: without a listener that would crash the process. Readers of
    // the stream still get real errors through their own listener.
    s.on('error', () => undefined);
    const onAbort = (): void => void s.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('close', () => signal.removeEventListener('abort', onAbort));
    await new Promise<void>((resolve, reject) => {
      s.once('ready', () => resolve());
      s.once('open', () => resolve());
      s.once('error', (e) => reject(storeError(e, 'sftp', `opening ${this.abs(entry.path)}`)));
    });
    return s;
  }

  async readRange(entry: FileEntry, start: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
    signal.throwIfAborted();
    const path = this.abs(entry.path);
    const call = <T>(fn: (cb: (err: Error | undefined, v: T) => void) => void): Promise<T> =>
      new Promise((resolve, reject) => fn((err, v) => (err ? reject(storeError(err, 'sftp', `reading ${path}`)) : resolve(v))));
    const handle = await call<Buffer>((cb) => this.sftp.open(path, 'r', cb));
    try {
      const buf = Buffer.allocUnsafe(end - start);
      let off = 0;
      while (off < buf.length) {
        // servers cap one read (OpenSSH: 255 KiB); loop until the range is complete or EOF
        const n = await call<number>((cb) => this.sftp.read(handle, buf, off, Math.min(buf.length - off, 256 * 1024), start + off, cb));
        if (!n) break;
        off += n;
      }
      return buf.subarray(0, off);
    } finally {
      await new Promise<void>((r) => this.sftp.close(handle, () => r()));
    }
  }

  location(entry: FileEntry): string {
    return `${this.display}/${entry.path}`;
  }

  async probe(): Promise<void> {
    try {
      await this.client.list(this.root);
    } catch (e) {
      throw storeError(e, 'sftp', `listing ${this.root}`);
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
