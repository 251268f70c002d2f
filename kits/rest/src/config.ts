/**
 * The rest kit's settings: where the API definition is, and the secrets it may leave out (each also
 * accepted as `<NAME>_FILE`, scrubbed from every log line, error and URL).
 */
import { secret, setting } from '@datakit/core';
import { z } from 'zod';

/** Settings of the rest kit (environment first, then `--config`, then defaults). */
export const restConfig = z.object({
  definition: setting(z.string().min(1), {
    env: 'REST_CONFIG',
    description: 'Path of the API definition (YAML or JSON); see schema/api-definition.schema.json.',
  }),
  apiKey: secret(z.string().optional(), 'REST_API_KEY', 'API key for auth type api_key (when the definition has no value).'),
  token: secret(z.string().optional(), 'REST_TOKEN', 'Token for auth type bearer (when the definition has no token).'),
  username: setting(z.string().optional(), { env: 'REST_USERNAME', description: 'User for auth type basic.' }),
  password: secret(z.string().optional(), 'REST_PASSWORD', 'Password for auth type basic.'),
  clientId: setting(z.string().optional(), { env: 'REST_CLIENT_ID', description: 'OAuth2 client id.' }),
  clientSecret: secret(z.string().optional(), 'REST_CLIENT_SECRET', 'OAuth2 client secret.'),
  refreshToken: secret(z.string().optional(), 'REST_REFRESH_TOKEN', 'OAuth2 refresh token (auth type oauth2_refresh_token).'),
  maxRetries: setting(z.coerce.number().int().min(0).max(100).default(3), {
    env: ['REST_MAX_RETRIES', 'MAX_RETRIES'],
    description: 'Retries of one request on network errors, timeouts, 5xx and 429 (backoff with jitter, Retry-After honoured).',
  }),
});

/** Validated settings of the rest kit. */
export type RestKitConfig = z.infer<typeof restConfig>;
