import { checkIdTokenClaims, readEmailVerified } from '../oidc/id-token-claims';
import { cleanEmail, cleanText, cleanUrl } from '../profile-values';
import type { VerifiedIdentity } from '../verified-identity';

/**
 * Pure checks and mapping of Google's ID-token claims and userinfo (no I/O, table-tested).
 * Signature, `iss`, `aud` presence, `exp`, `iat` and `nbf` are verified by jose before these run.
 * @internal
 */

const MAX_NAME = 200;

/** What the claim checks need to know. @internal */
export interface GoogleClaimExpectations {
  clientId: string;
  /** The nonce sent in the authorization request; a token without it equal is refused. */
  nonce: string | undefined;
  /** `providers.google.hostedDomain`, when set. */
  hostedDomain?: string;
}

/**
 * The reason the claims are not acceptable, or undefined when they are.
 *
 * Invariants (threat model B3, B5, B6; OIDC Core §3.1.3.7):
 * - `aud` is our client id, or an array of exactly that one value: any extra audience is an
 *   untrusted party the token was also issued to.
 * - `azp`, when present, is our client id.
 * - `nonce` equals the one this transaction sent (timing-safe); a missing nonce is refused.
 * - `sub` is a string of 1–255 printable ASCII characters.
 * - With `hostedDomain` configured, `hd` must equal it exactly (an email domain proves nothing).
 * @internal
 */
export function checkGoogleClaims(claims: Record<string, unknown>, expected: GoogleClaimExpectations): string | undefined {
  // The OpenID checks every provider shares (aud, azp, nonce, sub), then Google's hosted domain.
  const refused = checkIdTokenClaims(claims, expected);
  if (refused) return refused;
  if (expected.hostedDomain !== undefined && claims.hd !== expected.hostedDomain) return 'hd';
  return undefined;
}

/**
 * The identity of a Google sign-in, from the verified ID token and the userinfo answer (whose
 * `sub` the caller has already matched to the token's).
 *
 * The ID token is signed, so it is the authority: `email` and `email_verified` are taken as a
 * pair from it, and from userinfo only when the token carries no `email`. Name and picture come
 * from the token, else from userinfo. Malformed attributes become null, never an error: only the
 * subject is essential.
 * @internal
 */
export function googleIdentity(claims: Record<string, unknown>, userinfo: Record<string, unknown>, issuer: string): VerifiedIdentity {
  const source = typeof claims.email === 'string' ? claims : userinfo;
  const email = cleanEmail(source.email);
  return {
    provider: 'google',
    issuer,
    subject: claims.sub as string,
    email,
    emailVerified: email !== null && readEmailVerified(source.email_verified),
    displayName: cleanText(claims.name ?? userinfo.name, MAX_NAME),
    avatarUrl: cleanUrl(claims.picture ?? userinfo.picture),
  };
}
