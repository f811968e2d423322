import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient } from './provider-http.client';
import { checkTokenResponse } from './token-response';

type NodeOAuthCallback = (error: unknown, data?: string, response?: { statusCode: number }) => void;
type TokenCallback = (error: unknown, accessToken?: string, refreshToken?: string, params?: Record<string, unknown>) => void;

/**
 * The parts of node-oauth's `OAuth2` (passport-oauth2's `strategy._oauth2`) this module replaces.
 * @internal
 */
export interface NodeOAuth2 {
  _clientId: string;
  _clientSecret: string;
  _customHeaders: Record<string, string>;
  _getAccessTokenUrl(): string;
  _request(method: string, url: string, headers: Record<string, string> | undefined, body: string | null, accessToken: string | null, callback: NodeOAuthCallback): void;
  _executeRequest(...args: unknown[]): void;
  getOAuthAccessToken(code: string, params: Record<string, string>, callback: TokenCallback): void;
  useAuthorizationHeaderforGET(use: boolean): void;
}

/**
 * Rewires a passport-oauth2 strategy's node-oauth client onto {@link ProviderHttpClient}.
 *
 * Invariants (threat model I1, B9, I4):
 * - node-oauth has no timeout and no size cap; after this call none of its own I/O code runs:
 *   `_request` goes through the bounded `fetch` client and `_executeRequest` refuses to run.
 * - An access token is only ever sent in the `Authorization` header, never in a query string
 *   (where proxies and access logs would keep it); node-oauth's query fallback is gone.
 * - The token exchange is strict (`checkTokenResponse`): no form-body fallback, an `error`
 *   member in a 200 answer is a failure, `token_type` must be Bearer. Failures reach passport as
 *   `AuthError` (wrapped by passport in `InternalOAuthError.oauthError`) so the callback maps
 *   them to `provider_error` / `provider_unavailable` without parsing any provider text.
 * @internal
 */
export function useProviderHttp(strategy: unknown, http: ProviderHttpClient): void {
  const oauth2 = (strategy as { _oauth2: NodeOAuth2 })._oauth2;

  oauth2._request = (method, url, headers, body, accessToken, callback) => {
    const merged: Record<string, string> = { ...oauth2._customHeaders, ...headers };
    if (accessToken && !hasHeader(merged, 'authorization')) merged.Authorization = `Bearer ${accessToken}`;
    http
      .request(url, { method: method === 'POST' ? 'POST' : 'GET', headers: merged, body: body ?? undefined })
      .then(
        (response) => {
          if (response.status >= 200 && response.status < 300) callback(null, response.text, { statusCode: response.status });
          else callback({ statusCode: response.status, data: response.text });
        },
        (error: unknown) => callback(error),
      );
  };

  oauth2._executeRequest = () => {
    throw new Error('node-oauth transport is disabled; requests go through ProviderHttpClient');
  };

  oauth2.getOAuthAccessToken = (code, params, callback) => {
    const form = new URLSearchParams({ ...params, code, client_id: oauth2._clientId, client_secret: oauth2._clientSecret });
    http
      .request(oauth2._getAccessTokenUrl(), {
        method: 'POST',
        headers: { ...oauth2._customHeaders, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: form.toString(),
      })
      .then(
        (response) => {
          const check = checkTokenResponse(response);
          if (!check.ok) return callback(new AuthError(check.code, { cause: new Error(`token endpoint: ${check.reason}`) }));
          callback(null, check.token.accessToken, undefined, check.token.params);
        },
        (error: unknown) => callback(error),
      );
  };

  oauth2.useAuthorizationHeaderforGET(true);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
