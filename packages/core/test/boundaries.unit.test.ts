import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const src = join(__dirname, '..', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const importsOf = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);

// Source clients belong to kits; core only loads bronze-target clients, and only in their target's folder.
const SOURCE_CLIENTS = ['mssql', 'tedious', 'axios', 'jsforce', 'kafkajs', 'ssh2', 'ssh2-sftp-client'];
const TARGET_CLIENTS: Record<string, string> = { pg: 'bronze/postgres/', 'pg-copy-streams': 'bronze/postgres/', '@aws-sdk/': 'bronze/s3/' };

describe('core dependency boundaries', () => {
  it('never imports a source client', () => {
    const offenders = files(src).flatMap((f) => importsOf(f).filter((i) => SOURCE_CLIENTS.some((c) => i === c || i.startsWith(`${c}/`))).map((i) => `${relative(src, f)} imports ${i}`));
    expect(offenders).toEqual([]);
  });

  it('imports bronze-target clients only inside their target folder (loaded lazily)', () => {
    const offenders = files(src).flatMap((f) => {
      const rel = relative(src, f);
      return importsOf(f)
        .filter((i) => Object.entries(TARGET_CLIENTS).some(([c, dir]) => (i === c || i.startsWith(c.endsWith('/') ? c : `${c}/`)) && !rel.startsWith(dir)))
        .map((i) => `${rel} imports ${i}`);
    });
    expect(offenders).toEqual([]);
  });

  it('never imports a kit', () => {
    const offenders = files(src).flatMap((f) => importsOf(f).filter((i) => i.startsWith('@datakit/kit-')).map((i) => `${relative(src, f)} imports ${i}`));
    expect(offenders).toEqual([]);
  });
});
