/**
 * A small schema registry speaking the Confluent REST API shape the kit (through
 * `@kafkajs/confluent-schema-registry`) uses: schemas by id, the latest version of a subject,
 * registration, optional basic auth, and Confluent's error bodies (`error_code` 40401/40403, 401).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exactType } from '@datakit/kit-kafka';

/** A running registry. */
export interface TestRegistry {
  url: string;
  /** Register a schema under a subject; returns its id (the same schema text gets the same id). */
  register(subject: string, schema: object): number;
  /** Confluent wire format: magic byte 0, schema id (4 bytes, big-endian), Avro binary. */
  encode(id: number, value: unknown): Buffer;
  /** Requests served, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Start a registry on 127.0.0.1; with `auth`, every request needs that basic-auth user and password. */
export async function startRegistry(opts: { auth?: { username: string; password: string } } = {}): Promise<TestRegistry> {
  const schemas: string[] = [];
  const subjects = new Map<string, number[]>();
  const requests: string[] = [];
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': CONTENT_TYPE });
    res.end(JSON.stringify(body));
  };
  const register = (subject: string, schema: string): number => {
    let id = schemas.indexOf(schema) + 1;
    if (!id) id = schemas.push(schema);
    const versions = subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    subjects.set(subject, versions);
    return id;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    if (opts.auth) {
      const expected = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return send(res, 401, { error_code: 401, message: 'Unauthorized' });
    }
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && (m = /^\/schemas\/ids\/(\d+)$/.exec(path))) {
      const schema = schemas[Number(m[1]) - 1];
      return schema ? send(res, 200, { schema }) : send(res, 404, { error_code: 40403, message: `Schema ${m[1]} not found` });
    }
    if (req.method === 'GET' && path === '/subjects') return send(res, 200, [...subjects.keys()]);
    if ((m = /^\/subjects\/([^/]+)\/versions(?:\/(latest|\d+))?$/.exec(path))) {
      const subject = m[1]!;
      if (req.method === 'POST' && !m[2]) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { schema: string };
        return send(res, 200, { id: register(subject, body.schema) });
      }
      const versions = subjects.get(subject);
      if (!versions) return send(res, 404, { error_code: 40401, message: `Subject '${subject}' not found.` });
      const version = m[2] === 'latest' || !m[2] ? versions.length : Number(m[2]);
      const id = versions[version - 1];
      if (!id) return send(res, 404, { error_code: 40402, message: `Version ${m[2]} not found.` });
      return send(res, 200, { subject, version, id, schema: schemas[id - 1] });
    }
    send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { error_code: 500, message: String(e) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    register: (subject, schema) => register(subject, JSON.stringify(schema)),
    encode(id, value) {
      const head = Buffer.alloc(5);
      head.writeInt32BE(id, 1);
      return Buffer.concat([head, exactType(JSON.parse(schemas[id - 1]!)).toBuffer(value)]);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
