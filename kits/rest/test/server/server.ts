/**
 * A local HTTP API for the rest kit's tests and benchmark (node:http on 127.0.0.1, port 0): every
 * pagination style, OAuth2 (client credentials and refresh token, tokens that expire or are revoked
 * mid-run), API key / bearer / basic auth, compression, and injectable faults (429 storms with
 * Retry-After, 500s, slow or dropped responses, malformed bodies, HTML error pages).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { makeCustomers, makeEvents, type Customer } from './data.js';
import { authRoutes, OAuthServer } from './routes-auth.js';
import { pagingRoutes } from './routes-paging.js';
import { json, type Reply, type Route, type SeenRequest } from './reply.js';

export { json, type Reply, type Route, type SeenRequest };

/** A fault answered instead of the route. */
export interface Fault extends Reply {
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
  /** Run before answering (e.g. revoke tokens mid-run). */
  effect?: () => void;
}

/** Server options. */
export interface ApiServerOptions {
  customers?: number;
  events?: number;
  /** Seconds an OAuth2 access token lives. @default 3600 */
  tokenTtlSeconds?: number;
  /** More routes, tried after the built-in ones (behind the same auth guards). */
  routes?: Route[];
}

/** A running test API. */
export interface ApiServer {
  url: string;
  requests: SeenRequest[];
  customers: Customer[];
  oauth: OAuthServer;
  /** Answer the next `count` requests whose path starts with `prefix` with `fault`. */
  inject(prefix: string, fault: Fault, count?: number): void;
  /** Forget the requests seen so far and any unused faults. */
  reset(): void;
  /** Call after changing `customers`: drops cached replies. */
  dataChanged(): void;
  /** Open client connections. */
  connections(): Promise<number>;
  /** Most requests the server was answering at once. */
  peakInFlight(): number;
  close(): Promise<void>;
}

function compress(req: http.IncomingMessage, reply: Reply, forced: string | undefined): Reply {
  const accepted = String(req.headers['accept-encoding'] ?? '');
  const enc = forced ?? (reply.body && Buffer.byteLength(reply.body) > 1024 && accepted.includes('gzip') ? 'gzip' : undefined);
  if (!enc || reply.body === undefined || !accepted.includes(enc)) return reply;
  const body = enc === 'br' ? brotliCompressSync(reply.body) : enc === 'deflate' ? deflateSync(reply.body) : gzipSync(reply.body);
  return { ...reply, headers: { ...reply.headers, 'content-encoding': enc }, body };
}

/** Start the test API on 127.0.0.1. */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const customers = makeCustomers(opts.customers ?? 25);
  const events = makeEvents(opts.events ?? 40);
  const oauth = new OAuthServer(opts.tokenTtlSeconds ?? 3600);
  const requests: SeenRequest[] = [];
  const faults: { prefix: string; fault: Fault; left: number }[] = [];
  const cache = new Map<string, Reply>();
  const routes: Route[] = [...authRoutes(oauth, customers), ...pagingRoutes(customers, events, cache), ...(opts.routes ?? [])];

  let inFlight = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    peak = Math.max(peak, ++inFlight);
    res.on('close', () => void (inFlight -= 1));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const seen: SeenRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      requests.push(seen);
      const f = faults.find((x) => x.left > 0 && seen.path.startsWith(x.prefix));
      if (f) f.left -= 1;
      const answer = (): void => {
        if (f?.fault.destroy) return void req.socket.destroy();
        f?.fault.effect?.();
        let reply: Reply | undefined = f && (f.fault.status !== undefined || f.fault.body !== undefined) ? f.fault : undefined;
        if (!reply) {
          for (const r of routes) {
            reply = r(seen);
            if (reply) break;
          }
          // a fault with headers only adds them to the route's reply (e.g. RateLimit-Remaining: 0)
          if (reply && f?.fault.headers) reply = { ...reply, headers: { ...reply.headers, ...f.fault.headers } };
        }
        reply ??= { status: 404, ...json({ error: 'not found' }) };
        seen.status = reply.status ?? 200;
        reply = compress(req, reply, seen.query.get('enc') ?? undefined);
        seen.encoding = reply.headers?.['content-encoding'];
        res.writeHead(reply.status ?? 200, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      if (f?.fault.delayMs) setTimeout(answer, f.fault.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    oauth,
    inject: (prefix, fault, count = 1) => void faults.push({ prefix, fault, left: count }),
    dataChanged: () => cache.clear(),
    peakInFlight: () => peak,
    connections: () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n)))),
    reset: () => {
      requests.length = 0;
      peak = inFlight;
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
