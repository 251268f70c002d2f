/**
 * The `auth` section of an API definition. Secret fields may be left out: they then come from the
 * kit's secret settings (`REST_API_KEY`, `REST_TOKEN`, `REST_PASSWORD`, `REST_CLIENT_SECRET`,
 * `REST_REFRESH_TOKEN`, each with a `_FILE` variant), or may reference any variable as `${env:NAME}`.
 */
import { z } from 'zod';

const text = z.string().min(1);

const oauthCommon = {
  token_url: z.string().min(1).meta({ description: 'Token endpoint (absolute, or relative to base_url).' }),
  client_id: text.optional().meta({ description: 'OAuth2 client id. Default: REST_CLIENT_ID.' }),
  client_secret: text.optional().meta({ description: 'OAuth2 client secret. Default: REST_CLIENT_SECRET.' }),
  scope: z.string().optional(),
  /** Extra form fields sent to the token endpoint (e.g. `audience`). */
  extra_params: z.record(z.string(), z.string()).optional().meta({ description: 'Extra form fields for the token endpoint (e.g. audience).' }),
  client_auth: z.enum(['body', 'basic']).default('body').meta({ description: 'Send the client credentials in the form body or as HTTP basic auth.' }),
  refresh_margin_seconds: z.number().int().min(0).default(60).meta({ description: 'Refresh the access token this long before it expires.' }),
};

/** Authentication styles. */
export const authSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('api_key'),
      name: text.meta({ description: 'Header or query parameter name, e.g. X-Api-Key or api_key.' }),
      in: z.enum(['header', 'query']).default('header'),
      value: text.optional().meta({ description: 'The key. Default: REST_API_KEY.' }),
      prefix: z.string().optional().meta({ description: 'Text before the key, e.g. "Token ".' }),
    }),
    z.strictObject({
      type: z.literal('bearer'),
      token: text.optional().meta({ description: 'The token. Default: REST_TOKEN.' }),
    }),
    z.strictObject({
      type: z.literal('basic'),
      username: z.string().optional().meta({ description: 'Default: REST_USERNAME.' }),
      password: z.string().optional().meta({ description: 'Default: REST_PASSWORD.' }),
    }),
    z.strictObject({ type: z.literal('oauth2_client_credentials'), ...oauthCommon }),
    z.strictObject({
      type: z.literal('oauth2_refresh_token'),
      ...oauthCommon,
      refresh_token: text.optional().meta({ description: 'Default: REST_REFRESH_TOKEN.' }),
    }),
    z.strictObject({
      type: z.literal('headers'),
      headers: z.record(z.string(), z.string()).meta({ description: 'Headers sent on every request; every value is treated as a secret.' }),
    }),
  ])
  .meta({ description: 'How requests authenticate. Every secret is redacted from logs, errors and URLs.' });

export type AuthDefinition = z.output<typeof authSchema>;
export type OAuth2Definition = Extract<AuthDefinition, { type: 'oauth2_client_credentials' | 'oauth2_refresh_token' }>;
