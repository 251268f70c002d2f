/**
 * URLs as they may appear in logs and errors: secret query parameters masked, user-info masked, and
 * every known secret scrubbed by core's redactor.
 */
import { redactor } from '@datakit/core';

/** Query parameter names masked in every logged URL, whatever the API definition says. */
export const SECRET_PARAM_NAMES = [
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'token',
  'auth',
  'client_secret',
  'password',
  'secret',
  'signature',
  'sig',
  'refresh_token',
  'code',
];

/** The URL with secret query values (the given names plus {@link SECRET_PARAM_NAMES}) as `***`. */
export function redactUrl(url: string, secretParams: Iterable<string> = []): string {
  const names = new Set([...SECRET_PARAM_NAMES, ...secretParams].map((n) => n.toLowerCase()));
  let out = url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (names.has(key.toLowerCase())) u.searchParams.set(key, '***');
    }
    out = u.toString().replace(/=%2A%2A%2A/g, '=***');
  } catch {
    /* not a URL: scrub only */
  }
  return redactor.scrub(out);
}
