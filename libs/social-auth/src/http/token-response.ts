import type { ProviderResponse } from './provider-http.client';
import { parseJsonObject } from './provider-http.client';

/** What the module keeps of a successful token response; the refresh token is dropped. @internal */
export interface TokenResponse {
  accessToken: string;
  /** The other members (`token_type`, `expires_in`, `scope`, `id_token`, …), minus both tokens. */
  params: Record<string, unknown>;
}

/** The verdict on a token-endpoint answer. @internal */
export type TokenResponseCheck =
  | { ok: true; token: TokenResponse }
  | { ok: false; code: 'provider_error' | 'provider_unavailable'; reason: string };

/** RFC 6749 §A.12: access-token characters are VSCHAR (printable ASCII). */
const ACCESS_TOKEN = /^[\x20-\x7e]{1,4096}$/;

/**
 * Judges a token-endpoint answer (RFC 6749 §5.1–5.2), strictly.
 *
 * Invariants (threat model B9, A7; passport-oauth2 CVE-2021-41580):
 * - Only a 2xx JSON object with a non-empty string `access_token` and `token_type` "Bearer"
 *   (case-insensitive, RFC 6749 §7.1) is a success. An `error` member is a failure whatever the
 *   status: GitHub answers `200 error=bad_verification_code`.
 * - No fallback to form parsing: the module asks for JSON (`Accept: application/json`), and an
 *   HTML or form body is a misbehaving upstream, not a token.
 * - `expires_in`, when present, must be a non-negative number (a string is refused).
 * - The refresh token is never kept: the module does not call provider APIs after sign-in.
 * @internal
 */
export function checkTokenResponse(response: Pick<ProviderResponse, 'status' | 'text'>): TokenResponseCheck {
  if (response.status === 429 || response.status >= 500) return { ok: false, code: 'provider_unavailable', reason: `HTTP ${response.status}` };
  if (response.status < 200 || response.status >= 300) return { ok: false, code: 'provider_error', reason: `HTTP ${response.status}` };
  const body = parseJsonObject(response.text);
  if (!body) return { ok: false, code: 'provider_error', reason: 'not a JSON object' };
  if (body.error !== undefined) return { ok: false, code: 'provider_error', reason: 'error member' };
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || !ACCESS_TOKEN.test(accessToken)) return { ok: false, code: 'provider_error', reason: 'access_token missing or malformed' };
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') return { ok: false, code: 'provider_error', reason: 'token_type not Bearer' };
  const expiresIn = body.expires_in;
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
    return { ok: false, code: 'provider_error', reason: 'expires_in not a number' };
  }
  if (body.id_token !== undefined && typeof body.id_token !== 'string') return { ok: false, code: 'provider_error', reason: 'id_token not a string' };
  const { access_token: _access, refresh_token: _refresh, ...params } = body;
  return { ok: true, token: { accessToken, params } };
}
