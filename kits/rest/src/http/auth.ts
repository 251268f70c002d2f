/**
 * Authentication: API key (header or query), bearer, basic, OAuth2 client credentials and refresh
 * token, custom headers. OAuth2 access tokens are fetched once (single flight), refreshed
 * `refresh_margin_seconds` before they expire, and once more after a 401. Every secret, including
 * each access token obtained, is registered with core's redactor.
 */
import { DatakitError, redactor } from '@datakit/core';
import type { Context } from '@datakit/core';
import type { AuthDefinition, OAuth2Definition } from '../definition/auth.js';
import { bodyExcerpt } from '../errors.js';

type Logger = Context['logger'];

/** What the auth layer may change on a request. */
export interface AuthTarget {
  headers: Record<string, string>;
  query: URLSearchParams;
}

/** A minimal POST for the token endpoint (through the client's budget and retries, without auth). */
export type TokenPost = (url: string, form: Record<string, string>, headers: Record<string, string>) => Promise<{ status: number; text: string }>;

/** Applies credentials to requests. */
export interface Authenticator {
  apply(target: AuthTarget, signal?: AbortSignal): Promise<void>;
  /** True when a 401 may succeed after {@link Authenticator.invalidate} (OAuth2). */
  readonly canRefresh: boolean;
  /** Forget the current access token (after a 401). */
  invalidate(): void;
  /** Query parameters that carry secrets (masked in logged URLs). */
  readonly secretParams: string[];
  /** What to check when the API answers 401: the settings of this auth type. */
  readonly check: string;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Build the authenticator of a definition's `auth` (secrets already filled from settings). */
export function createAuth(def: AuthDefinition, baseUrl: string, post: TokenPost, logger: Logger): Authenticator {
  const fixed = (check: string, headers: Record<string, string>, query: Record<string, string> = {}): Authenticator => ({
    check,
    canRefresh: false,
    secretParams: Object.keys(query),
    invalidate: () => undefined,
    apply: async (t) => {
      Object.assign(t.headers, headers);
      for (const [k, v] of Object.entries(query)) t.query.set(k, v);
    },
  });
  switch (def.type) {
    case 'none':
      return fixed('the definition: it has no auth, and the API wants credentials', {});
    case 'api_key': {
      const value = `${def.prefix ?? ''}${def.value ?? ''}`;
      const check = `REST_API_KEY (or auth.value in the definition), sent as ${def.in === 'query' ? 'query parameter' : 'header'} ${def.name}`;
      return def.in === 'query' ? fixed(check, {}, { [def.name]: value }) : fixed(check, { [def.name]: value });
    }
    case 'bearer':
      return fixed('REST_TOKEN (or auth.token in the definition)', { Authorization: `Bearer ${def.token ?? ''}` });
    case 'basic':
      return fixed('REST_USERNAME and REST_PASSWORD', { Authorization: basic(def.username ?? '', def.password ?? '') });
    case 'headers':
      return fixed('the auth.headers of the definition', def.headers);
    case 'oauth2_client_credentials':
    case 'oauth2_refresh_token':
      return new OAuth2(def, baseUrl, post, logger);
  }
}

/** OAuth2 (RFC 6749 §4.4 client credentials, §6 refresh token) with proactive refresh. */
class OAuth2 implements Authenticator {
  readonly canRefresh = true;
  readonly check: string;
  readonly secretParams: string[] = [];
  private token: { value: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private refreshToken: string | undefined;
  private readonly tokenUrl: string;

  constructor(
    private readonly def: OAuth2Definition,
    baseUrl: string,
    private readonly post: TokenPost,
    private readonly logger: Logger,
  ) {
    this.tokenUrl = new URL(def.token_url, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
    this.refreshToken = def.type === 'oauth2_refresh_token' ? def.refresh_token : undefined;
    this.check = `${def.type === 'oauth2_refresh_token' ? 'REST_CLIENT_ID, REST_CLIENT_SECRET and REST_REFRESH_TOKEN' : 'REST_CLIENT_ID and REST_CLIENT_SECRET'} (the token was refreshed once and still refused), and the scopes`;
  }

  async apply(t: AuthTarget): Promise<void> {
    t.headers.Authorization = `Bearer ${await this.accessToken()}`;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async accessToken(): Promise<string> {
    const marginMs = this.def.refresh_margin_seconds * 1000;
    if (this.token && Date.now() < this.token.expiresAt - marginMs) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const d = this.def;
    const form: Record<string, string> = d.type === 'oauth2_refresh_token' ? { grant_type: 'refresh_token', refresh_token: this.refreshToken ?? '' } : { grant_type: 'client_credentials' };
    if (d.scope) form.scope = d.scope;
    Object.assign(form, d.extra_params ?? {});
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (d.client_auth === 'basic') headers.Authorization = basic(encodeURIComponent(d.client_id ?? ''), encodeURIComponent(d.client_secret ?? ''));
    else {
      form.client_id = d.client_id ?? '';
      if (d.client_secret) form.client_secret = d.client_secret;
    }
    const res = await this.post(this.tokenUrl, form, headers);
    let body: { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      /* reported below */
    }
    if (res.status >= 400 || typeof body.access_token !== 'string' || !body.access_token) {
      const reason = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : bodyExcerpt(res.text);
      throw new DatakitError('SOURCE.AUTH_FAILED', `OAuth2 token request to ${redactor.scrub(this.tokenUrl)} failed (HTTP ${res.status}): ${redactor.scrub(reason)}`, {
        where: { kit: 'rest' },
        fix: d.type === 'oauth2_refresh_token' ? 'check REST_CLIENT_ID, REST_CLIENT_SECRET and REST_REFRESH_TOKEN' : 'check REST_CLIENT_ID and REST_CLIENT_SECRET',
      });
    }
    redactor.add([body.access_token]);
    if (typeof body.refresh_token === 'string' && body.refresh_token !== this.refreshToken && d.type === 'oauth2_refresh_token') {
      // Rotation: use the new refresh token for the rest of this run. It cannot be written back to
      // the secret store, so the stored one must stay valid (see docs/kits/rest.md).
      redactor.add([body.refresh_token]);
      this.refreshToken = body.refresh_token;
      this.logger.warn('the token endpoint rotated the refresh token; the new one is used for this run only');
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' ? Number(body.expires_in) : NaN;
    this.token = { value: body.access_token, expiresAt: Number.isFinite(expiresIn) ? Date.now() + expiresIn * 1000 : Infinity };
    this.logger.debug({ expiresIn: Number.isFinite(expiresIn) ? expiresIn : undefined }, 'obtained an OAuth2 access token');
    return body.access_token;
  }
}
