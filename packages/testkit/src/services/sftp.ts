/**
 * A real SFTP server for tests: Debian's OpenSSH `sshd` started by hand on 127.0.0.1 (recipe:
 * ../shared/TEST-SERVICES.md §4), dying with its parent (`setpriv --pdeathsig`). It serves the
 * directory `root` to the user `sftptest` (created once; password set per start) by password, by an
 * ed25519 key, or by a passphrase-protected key. Needs root (sshd switches to the user).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './ports.ts';

/** A running SFTP server. */
export interface SftpService {
  /** The sshd process (parent of every session). */
  pid: number;
  host: string;
  port: number;
  user: string;
  password: string;
  /** OpenSSH private key (no passphrase) authorised for `user`. */
  privateKey: string;
  /** A second authorised key, encrypted with {@link SftpService.passphrase}. */
  encryptedKey: string;
  passphrase: string;
  /** `SHA256:…` of the host key, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** The local directory the server serves (write fixtures here). */
  root: string;
  /** `sftp://user@127.0.0.1:port<root>/<path>` */
  url(path?: string): string;
  /** SSH sessions open right now (sshd's children). */
  sessions(): number;
  stop(): Promise<void>;
}

/** The test user every server serves. */
export const SFTP_TEST_USER = 'sftptest';
/** Its password (a local test account with no shell, reachable only through these servers). */
export const SFTP_TEST_PASSWORD = 'datakit-sftp-Test-pw1';

function ensureUser(password: string): void {
  try {
    execFileSync('id', ['-u', SFTP_TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', SFTP_TEST_USER], { stdio: 'ignore' });
  }
  execFileSync('chpasswd', { input: `${SFTP_TEST_USER}:${password}\n` });
}

function keygen(path: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'datakit-test', '-f', path], { stdio: 'ignore' });
}

/** Children of a process (from /proc). */
function childCount(pid: number): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) n++;
    } catch {
      // the process ended while we looked
    }
  }
  return n;
}

/**
 * Start sshd serving a fresh directory.
 * @example const sftp = await startSftp(); writeFileSync(join(sftp.root, 'a.csv'), 'id\n1\n'); sftp.url('a.csv')
 */
export async function startSftp(): Promise<SftpService> {
  if (process.getuid?.() !== 0) throw new Error('startSftp needs root (sshd switches to the test user): run the tests as root, or in CI');
  const base = mkdtempSync(join(tmpdir(), 'datakit-sftp-'));
  chmodSync(base, 0o755);
  const root = join(base, 'root');
  mkdirSync(root, { mode: 0o755 });
  // one fixed password: several servers (a shared one, a test file's own) serve the same user
  const password = SFTP_TEST_PASSWORD;
  ensureUser(password);
  const passphrase = `pp-${randomBytes(6).toString('hex')}`;
  keygen(join(base, 'host_key'));
  keygen(join(base, 'client_key'));
  keygen(join(base, 'client_key_enc'), passphrase);
  writeFileSync(join(base, 'authorized_keys'), readFileSync(join(base, 'client_key.pub'), 'utf8') + readFileSync(join(base, 'client_key_enc.pub'), 'utf8'));
  chmodSync(join(base, 'authorized_keys'), 0o644);
  const fp = /SHA256:[A-Za-z0-9+/]+/.exec(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(base, 'host_key.pub')]).toString())![0];
  const port = await freePort();
  const conf = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(base, 'host_key')}`,
    `PidFile ${join(base, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'Subsystem sftp internal-sftp',
    `ForceCommand internal-sftp -d ${root}`,
    'AllowTcpForwarding no',
    'MaxStartups 100',
    'MaxSessions 100',
  ].join('\n');
  writeFileSync(join(base, 'sshd_config'), `${conf}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('setpriv', ['--pdeathsig=SIGTERM', '--', '/usr/sbin/sshd', '-D', '-e', '-f', join(base, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (!buf.includes(`Server listening on 127.0.0.1 port ${port}`)) return;
      child.stderr!.off('data', onData);
      child.stderr!.resume();
      resolve();
    };
    child.stderr!.on('data', onData);
    child.once('error', (e) => reject(new Error(`cannot start sshd (apt-get install openssh-server): ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`sshd exited with ${code}: ${buf.slice(-2000)}`)));
  });
  const sshdPid = (): number => Number(readFileSync(join(base, 'sshd.pid'), 'utf8').trim() || child.pid);
  return {
    pid: child.pid!,
    host: '127.0.0.1',
    port,
    user: SFTP_TEST_USER,
    password,
    privateKey: readFileSync(join(base, 'client_key'), 'utf8'),
    encryptedKey: readFileSync(join(base, 'client_key_enc'), 'utf8'),
    passphrase,
    hostKeyFingerprint: fp,
    root,
    url: (path = '') => `sftp://${SFTP_TEST_USER}@127.0.0.1:${port}${root}${path ? `/${path.replace(/^\/+/, '')}` : ''}`,
    sessions: () => {
      try {
        return childCount(sshdPid());
      } catch {
        return childCount(child.pid!);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The fields of a service that can cross to jest workers (everything but the functions). */
type SftpData = Omit<SftpService, 'url' | 'sessions' | 'stop'>;

/** Serialise a service for `process.env` (jest globalSetup → workers). */
export function sftpToEnv(s: SftpService): string {
  const { url: _u, sessions: _s, stop: _t, ...data } = s;
  return JSON.stringify(data);
}

/** The service a globalSetup published with {@link sftpToEnv} (its `stop` is a no-op). */
export function sftpFromEnv(text: string): SftpService {
  const d = JSON.parse(text) as SftpData;
  return {
    ...d,
    url: (path = '') => `sftp://${d.user}@${d.host}:${d.port}${d.root}${path ? `/${path.replace(/^\/+/, '')}` : ''}`,
    sessions: () => childCount(d.pid),
    stop: async () => undefined,
  };
}
