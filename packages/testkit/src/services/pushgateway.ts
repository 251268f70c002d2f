import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake Pushgateway received. */
export interface Push {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/**
 * A fake Prometheus Pushgateway on 127.0.0.1: records every request, answers `status` (200).
 * @example const gw = await fakeGateway(); env.PROMETHEUS_PUSHGATEWAY_URL = gw.url; … gw.pushes
 */
export async function fakeGateway(status = 200): Promise<{ url: string; pushes: Push[]; close(): Promise<void> }> {
  const pushes: Push[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      pushes.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pushes, close: () => new Promise((r) => server.close(() => r())) };
}
