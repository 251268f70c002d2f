/**
 * Open the {@link FileStore} that `FILE_URL` names. The S3 and SFTP clients load only when used.
 */
import type { Context } from '@datakit/core';
import { DatakitError } from '@datakit/core';
import type { FileKitConfig } from '../config.js';
import { LocalStore, localRoot } from './local.js';
import type { FileStore } from './types.js';

export type { FileEntry, FileStore, ListScope } from './types.js';

/** `FILE_URL` parsed (throws `CONFIG.INVALID`). */
export function parseFileUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new DatakitError('CONFIG.INVALID', 'FILE_URL: not a URL', { fix: 'use file:///dir, s3://bucket/prefix or sftp://user@host:port/dir' });
  }
}

/**
 * Connect to the store of `config.url`.
 * @example const store = await openStore(ctx, config); try { … } finally { await store.close(); }
 */
export async function openStore(ctx: Context, config: FileKitConfig): Promise<FileStore> {
  const url = parseFileUrl(config.url);
  switch (url.protocol) {
    case 'file:':
      return new LocalStore(localRoot(url));
    case 's3:': {
      if (!url.hostname) throw new DatakitError('CONFIG.INVALID', 'FILE_URL: an s3:// URL needs a bucket (s3://bucket/prefix)', { fix: 'set FILE_URL=s3://bucket/prefix/' });
      const { S3Store } = await import('./s3.js');
      return new S3Store(url.hostname, decodeURIComponent(url.pathname.replace(/^\//, '')), config);
    }
    case 'sftp:': {
      const { SftpStore } = await import('./sftp.js');
      return SftpStore.connect(url, config, (msg, fields) => ctx.logger.info(fields, msg));
    }
    default:
      throw new DatakitError('CONFIG.INVALID', `FILE_URL: unsupported scheme ${url.protocol}//`, { fix: 'use file://, s3:// or sftp://' });
  }
}
