/**
 * Shapes shared by the test API's server and routes.
 */
import type http from 'node:http';

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** `performance.now()` at arrival. */
  at: number;
  /** The status answered (undefined when the connection was dropped). */
  status?: number;
  /** The `Content-Encoding` of the body answered (undefined: sent as is). */
  encoding?: string;
}

/** A reply of a route. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A route: returns a reply, or undefined when the path is not its own. */
export type Route = (req: SeenRequest) => Reply | undefined;

/** JSON reply helper. */
export const json = (value: unknown, headers: Record<string, string> = {}): Reply => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

