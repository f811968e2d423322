import { randomBytes } from 'node:crypto';
import type { StrategyRequest } from '../../transaction/passport-state.store';
import { AuthError } from '../../errors/auth.error';
import { ProviderHttpClient, parseJsonObject } from '../../http/provider-http.client';
import type { TransactionSeed } from '../../transaction/oauth-transaction.service';
import { verifiedTransaction } from '../../transaction/passport-state.store';
import type { AuthorizationFacts } from '../oauth-identity-provider';

/**
 * What an OpenID sign-in binds to its transaction before redirecting: the issuer, whether the
 * callback must carry RFC 9207 `iss` (configured, or announced by discovery), and a fresh nonce.
 * @internal
 */
export function oidcAuthorizationFacts(issuer: string, requireIssParameter: boolean, metadata: { issParameterSupported: boolean }): AuthorizationFacts {
  return { issuer, requireIss: requireIssParameter || metadata.issParameterSupported, nonce: randomBytes(32).toString('base64url') };
}

/** The `nonce` authorize parameter from the transaction seed passport hands to `authorizationParams`. @internal */
export function nonceParam(state: unknown): { nonce?: string } {
  const seed = state as Partial<TransactionSeed> | undefined;
  return typeof seed?.nonce === 'string' ? { nonce: seed.nonce } : {};
}

/**
 * The ID-token half of an OpenID Connect callback, the same for Google and for generic providers.
 *
 * Invariants (threat model B1–B9, OIDC Core §3.1.3.7 and §5.3.2):
 * - The callback's transaction was verified by the flow and belongs to `providerId`.
 * - The token response carries an `id_token`, and it passes every check (with the transaction's
 *   nonce) before anything else is fetched.
 * - Userinfo, when asked for, must be about the same `sub`; otherwise it is not used at all.
 * @internal
 */
export async function verifyOidcCallback(input: {
  req: StrategyRequest;
  providerId: string;
  params: Record<string, unknown>;
  verifyIdToken: (idToken: string, nonce: string | undefined) => Promise<Record<string, unknown>>;
  /** Reads userinfo; absent when the provider's identity comes from the ID token alone. */
  userinfo?: () => Promise<Record<string, unknown>>;
}): Promise<{ claims: Record<string, unknown>; userinfo: Record<string, unknown> }> {
  const transaction = verifiedTransaction(input.req);
  if (!transaction || transaction.provider !== input.providerId) throw new AuthError('invalid_state');
  if (typeof input.params?.id_token !== 'string') throw new AuthError('invalid_id_token', { cause: new Error('token response without id_token') });
  const claims = await input.verifyIdToken(input.params.id_token, transaction.nonce);
  if (!input.userinfo) return { claims, userinfo: {} };
  const userinfo = await input.userinfo();
  if (userinfo.sub !== claims.sub) throw new AuthError('invalid_id_token', { cause: new Error('userinfo sub differs from ID token sub') });
  return { claims, userinfo };
}

/** GET userinfo with the access token in the `Authorization` header (never in the URL). @internal */
export async function fetchUserinfo(http: ProviderHttpClient, url: string, accessToken: string): Promise<Record<string, unknown>> {
  const response = await http.requestOk(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } });
  const body = parseJsonObject(response.text);
  if (!body) throw new AuthError('provider_error', { cause: new Error('userinfo is not a JSON object') });
  return body;
}
