/**
 * Auth for the test API: an OAuth2 token endpoint (client credentials and refresh token, optional
 * refresh-token rotation, short-lived or revocable tokens) and guarded path prefixes:
 * `/secure/…` (OAuth2 bearer), `/bearer/…`, `/apikey/…` (header or `api_key` query), `/basic/…`.
 */
import type { Customer } from './data.js';
import { json, type Route, type SeenRequest } from './reply.js';

/** Credentials the test API accepts. */
export const CREDENTIALS = {
  clientId: 'client-1',
  clientSecret: 's3cr3t-client-value',
  refreshToken: 'r3fresh-token-value',
  bearer: 'static-bearer-token-value',
  apiKey: 'api-key-value-123',
  user: 'etl',
  password: 'pa55word-value',
} as const;

/** The token endpoint's state. */
export class OAuthServer {
  private readonly tokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>([CREDENTIALS.refreshToken]);
  /** Token requests answered with a token. */
  issued = 0;
  /** Grant types seen, in order. */
  readonly grants: string[] = [];
  /** Hand out a new refresh token with each refresh (the used one becomes invalid). */
  rotate = false;

  constructor(public ttlSeconds: number) {}

  /** Invalidate every access token (the next API call gets 401). */
  revokeAll(): void {
    this.tokens.clear();
  }

  valid(token: string | undefined): boolean {
    const exp = token ? this.tokens.get(token) : undefined;
    return exp !== undefined && Date.now() < exp;
  }

  tokenRequest(req: SeenRequest): ReturnType<Route> {
    const form = new URLSearchParams(req.body);
    const basic = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''));
    const [id, secret] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent) : [form.get('client_id'), form.get('client_secret')];
    const grant = form.get('grant_type') ?? '';
    this.grants.push(grant);
    if (id !== CREDENTIALS.clientId || (grant === 'client_credentials' && secret !== CREDENTIALS.clientSecret)) {
      return { status: 401, ...json({ error: 'invalid_client', error_description: 'unknown client or wrong secret' }) };
    }
    if (grant === 'refresh_token' && !this.refreshTokens.has(form.get('refresh_token') ?? '')) {
      return { status: 400, ...json({ error: 'invalid_grant', error_description: 'refresh token revoked' }) };
    }
    if (grant !== 'client_credentials' && grant !== 'refresh_token') return { status: 400, ...json({ error: 'unsupported_grant_type' }) };
    this.issued += 1;
    const access = `access-${this.issued}-${Math.random().toString(36).slice(2)}`;
    this.tokens.set(access, Date.now() + this.ttlSeconds * 1000);
    const extra: Record<string, string> = {};
    if (grant === 'refresh_token' && this.rotate) {
      // rotation: the refresh token just used is spent
      this.refreshTokens.delete(form.get('refresh_token') ?? '');
      extra.refresh_token = `r3fresh-rotated-${this.issued}`;
      this.refreshTokens.add(extra.refresh_token);
    }
    return json({ access_token: access, token_type: 'bearer', expires_in: this.ttlSeconds, ...extra });
  }
}

const unauthorized = json({ error: 'unauthorized' });

/** The token route and the guards of the protected prefixes. */
export function authRoutes(oauth: OAuthServer, _customers: Customer[]): Route[] {
  return [
    (req) => (req.path === '/oauth/token' && req.method === 'POST' ? oauth.tokenRequest(req) : undefined),
    (req) => {
      const auth = String(req.headers.authorization ?? '');
      const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
      let ok = true;
      if (req.path.startsWith('/secure/')) ok = oauth.valid(bearer);
      else if (req.path.startsWith('/bearer/')) ok = bearer === CREDENTIALS.bearer;
      else if (req.path.startsWith('/apikey/')) ok = req.headers['x-api-key'] === CREDENTIALS.apiKey || req.query.get('api_key') === CREDENTIALS.apiKey;
      else if (req.path.startsWith('/basic/')) ok = auth === `Basic ${Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64')}`;
      return ok ? undefined : { status: 401, ...unauthorized };
    },
  ];
}
