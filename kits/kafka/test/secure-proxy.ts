/**
 * A TLS + SASL front for the mock cluster, which speaks neither: one listener per mock broker on
 * 127.0.0.1, TLS with the fixture certificate (`fixtures/tls-broker.crt`, for IP 127.0.0.1), and the
 * broker side of Kafka's SASL exchange — SaslHandshake (v0/v1) and SaslAuthenticate (v0/v1) frames
 * with PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802/7677, verified against the stored user's
 * password, server signature sent back). Until a connection has authenticated, every request but
 * ApiVersions and the SASL ones closes it, as a broker with a SASL listener does.
 *
 * Authenticated frames are forwarded byte for byte to the mock broker; only the broker addresses are
 * rewritten (the ports in Metadata and FindCoordinator responses) so that the client stays behind
 * the front, and ApiVersions responses gain SaslHandshake/SaslAuthenticate. The Kafka protocol itself
 * is the mock cluster's, unchanged.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

const API = { Metadata: 3, FindCoordinator: 10, SaslHandshake: 17, ApiVersions: 18, SaslAuthenticate: 36 } as const;
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
const FIXTURES = join(__dirname, 'fixtures');

/** The PEM of the CA that signed the front's certificate (it is self-signed). */
export const PROXY_CA = readFileSync(join(FIXTURES, 'tls-broker.crt'), 'utf8');

/** A running front: its bootstrap address and what it saw. */
export interface SecureProxy {
  brokers: string;
  /** Successful authentications, by mechanism. */
  authenticated: Record<string, number>;
  /** Failed ones (wrong password, unknown user, unsupported mechanism). */
  refused: number;
  stop(): Promise<void>;
}

/** Put a TLS + SASL front before every broker of the mock cluster (`brokers`: `host:port,…`). */
export async function startSecureProxy(brokers: string, users: Record<string, string>): Promise<SecureProxy> {
  const upstream = brokers.split(',').map((b) => ({ host: b.slice(0, b.lastIndexOf(':')), port: Number(b.slice(b.lastIndexOf(':') + 1)) }));
  const portMap = new Map<number, number>();
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const state: SecureProxy = { brokers: '', authenticated: {}, refused: 0, stop: async () => undefined };
  const key = readFileSync(join(FIXTURES, 'tls-broker.key'));
  const cert = readFileSync(join(FIXTURES, 'tls-broker.crt'));
  for (const target of upstream) {
    const server = createServer({ key, cert }, (client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      new Session(client, target, users, portMap, state);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    portMap.set(target.port, (server.address() as AddressInfo).port);
    servers.push(server);
  }
  state.brokers = upstream.map((t) => `127.0.0.1:${portMap.get(t.port)}`).join(',');
  state.stop = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
  return state;
}

/** Length-prefixed frames out of a byte stream. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(4, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

const frame = (body: Buffer): Buffer => {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
};
const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const str = (s: string | null): Buffer => (s === null ? int16(-1) : Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]));
const bytes = (b: Buffer): Buffer => Buffer.concat([int32(b.length), b]);

/** One client connection: SASL first, then a byte pipe to the broker with addresses rewritten. */
class Session {
  private authenticated = false;
  private scram: { hash: 'sha256' | 'sha512'; user: string; clientFirstBare: string; serverFirst: string; nonce: string } | undefined;
  private mechanism = '';
  private readonly pending = new Map<number, { apiKey: number; apiVersion: number }>();
  private readonly broker: Socket;

  constructor(
    private readonly client: Socket,
    target: { host: string; port: number },
    private readonly users: Record<string, string>,
    private readonly portMap: Map<number, number>,
    private readonly stats: SecureProxy,
  ) {
    this.broker = createConnection(target);
    this.broker.on('data', framer((f) => this.fromBroker(f)));
    client.on('data', framer((f) => this.fromClient(f)));
    const end = (): void => {
      client.destroy();
      this.broker.destroy();
    };
    client.on('error', end).on('close', end);
    this.broker.on('error', end).on('close', end);
  }

  private fromClient(f: Buffer): void {
    const apiKey = f.readInt16BE(0);
    const apiVersion = f.readInt16BE(2);
    const correlationId = f.readInt32BE(4);
    const clientIdLen = f.readInt16BE(8);
    const body = f.subarray(10 + Math.max(0, clientIdLen));
    if (apiKey === API.SaslHandshake) return this.handshake(correlationId, body);
    if (apiKey === API.SaslAuthenticate) return this.authenticate(correlationId, apiVersion, body);
    if (!this.authenticated && apiKey !== API.ApiVersions) {
      this.client.destroy();
      return;
    }
    this.pending.set(correlationId, { apiKey, apiVersion });
    this.broker.write(frame(f));
  }

  private reply(correlationId: number, body: Buffer): void {
    this.client.write(frame(Buffer.concat([int32(correlationId), body])));
  }

  private handshake(correlationId: number, body: Buffer): void {
    this.mechanism = body.subarray(2, 2 + body.readInt16BE(0)).toString();
    const ok = MECHANISMS.includes(this.mechanism);
    if (!ok) this.stats.refused++;
    this.reply(correlationId, Buffer.concat([int16(ok ? 0 : 33), int32(MECHANISMS.length), ...MECHANISMS.map(str)]));
  }

  private authenticate(correlationId: number, apiVersion: number, body: Buffer): void {
    const token = body.subarray(4, 4 + body.readInt32BE(0)).toString();
    let out: { error?: string; bytes: string } | undefined;
    try {
      out = this.step(token);
    } catch {
      out = { error: 'malformed SASL message', bytes: '' };
    }
    if (out.error) this.stats.refused++;
    const lifetime = apiVersion >= 1 ? Buffer.alloc(8) : Buffer.alloc(0);
    this.reply(correlationId, Buffer.concat([int16(out.error ? 58 : 0), str(out.error ?? null), bytes(Buffer.from(out.bytes)), lifetime]));
    if (out.error) setTimeout(() => this.client.destroy(), 10);
  }

  /** One SASL step: the reply token, or an error. */
  private step(token: string): { error?: string; bytes: string } {
    if (this.mechanism === 'PLAIN') {
      const [, user, password] = token.split('\u0000');
      if (!user || this.users[user] === undefined || !safeEqual(Buffer.from(this.users[user]), Buffer.from(password ?? ''))) return { error: 'Authentication failed: Invalid username or password', bytes: '' };
      return this.done('');
    }
    const hash = this.mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256';
    if (!this.scram) {
      // client-first: n,,n=<user>,r=<nonce>
      const clientFirstBare = token.slice(token.indexOf(',', token.indexOf(',') + 1) + 1);
      const attrs = parseScram(clientFirstBare);
      const user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
      const nonce = `${attrs.r}${randomBytes(12).toString('base64')}`;
      const serverFirst = `r=${nonce},s=${saltOf(user).toString('base64')},i=4096`;
      this.scram = { hash, user, clientFirstBare, serverFirst, nonce };
      return { bytes: serverFirst };
    }
    // client-final: c=biws,r=<nonce>,p=<proof>
    const s = this.scram;
    const attrs = parseScram(token);
    const withoutProof = token.slice(0, token.lastIndexOf(',p='));
    const password = this.users[s.user];
    if (password === undefined || attrs.r !== s.nonce || !attrs.p) return { error: 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + this.mechanism, bytes: '' };
    const salted = pbkdf2Sync(password, saltOf(s.user), 4096, hash === 'sha512' ? 64 : 32, hash);
    const clientKey = createHmac(hash, salted).update('Client Key').digest();
    const storedKey = createHash(hash).update(clientKey).digest();
    const authMessage = `${s.clientFirstBare},${s.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(attrs.p, 'base64');
    const recovered = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
    if (proof.length !== clientSignature.length || !safeEqual(createHash(hash).update(recovered).digest(), storedKey)) {
      return { error: 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + this.mechanism, bytes: '' };
    }
    const serverKey = createHmac(hash, salted).update('Server Key').digest();
    return this.done(`v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`);
  }

  private done(bytesOut: string): { bytes: string } {
    this.authenticated = true;
    this.stats.authenticated[this.mechanism] = (this.stats.authenticated[this.mechanism] ?? 0) + 1;
    return { bytes: bytesOut };
  }

  private fromBroker(f: Buffer): void {
    const correlationId = f.readInt32BE(0);
    const req = this.pending.get(correlationId);
    this.pending.delete(correlationId);
    let out = f;
    if (req?.apiKey === API.ApiVersions) out = withSaslApis(f, req.apiVersion);
    else if (req?.apiKey === API.Metadata) {
      out = Buffer.from(f);
      rewriteMetadata(out, req.apiVersion, this.portMap);
    } else if (req?.apiKey === API.FindCoordinator) {
      out = Buffer.from(f);
      rewriteCoordinator(out, req.apiVersion, this.portMap);
    }
    this.client.write(frame(out));
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseScram(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** A stable salt per user (a broker stores one with the credential). */
function saltOf(user: string): Buffer {
  return createHash('sha256').update(`salt:${user}`).digest().subarray(0, 16);
}

/** An ApiVersions response (v0–v2) that also lists SaslHandshake 0–1 and SaslAuthenticate 0–1. */
function withSaslApis(f: Buffer, version: number): Buffer {
  if (version > 2 || f.readInt16BE(4) !== 0) return f;
  const count = f.readInt32BE(6);
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const e = f.subarray(10 + i * 6, 16 + i * 6);
    const k = e.readInt16BE(0);
    if (k !== API.SaslHandshake && k !== API.SaslAuthenticate) entries.push(e);
  }
  for (const k of [API.SaslHandshake, API.SaslAuthenticate]) entries.push(Buffer.concat([int16(k), int16(0), int16(1)]));
  return Buffer.concat([f.subarray(0, 6), int32(entries.length), ...entries, f.subarray(10 + count * 6)]);
}

/** Rewrite the broker ports of a Metadata response (v0–v8, not flexible) in place. */
function rewriteMetadata(f: Buffer, version: number, ports: Map<number, number>): void {
  let at = 4 + (version >= 3 ? 4 : 0);
  const count = f.readInt32BE(at);
  at += 4;
  for (let i = 0; i < count; i++) {
    at += 4; // node id
    at += 2 + f.readInt16BE(at); // host
    const port = ports.get(f.readInt32BE(at));
    if (port !== undefined) f.writeInt32BE(port, at);
    at += 4;
    if (version >= 1) at += 2 + Math.max(0, f.readInt16BE(at)); // rack
  }
}

/** Rewrite the coordinator's port of a FindCoordinator response (v0–v2) in place. */
function rewriteCoordinator(f: Buffer, version: number, ports: Map<number, number>): void {
  let at = 4 + (version >= 1 ? 4 : 0) + 2; // throttle, error code
  if (version >= 1) at += 2 + Math.max(0, f.readInt16BE(at)); // error message
  at += 4; // node id
  at += 2 + f.readInt16BE(at); // host
  const port = ports.get(f.readInt32BE(at));
  if (port !== undefined) f.writeInt32BE(port, at);
}
