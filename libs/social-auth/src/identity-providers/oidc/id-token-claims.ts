import { safeEqual } from '../../transaction/passport-state.store';
import { cleanEmail, cleanText, cleanUrl } from '../profile-values';
import type { VerifiedIdentity } from '../verified-identity';

/**
 * Pure checks and mapping of ID-token claims shared by every OpenID provider (Google and the
 * generic ones). Signature, `iss`, `exp`, `iat` and `nbf` are verified by jose before these run.
 * @internal
 */

/** OIDC Core §2: `sub` is at most 255 ASCII characters; we also refuse spaces and controls. */
const SUBJECT = /^[\x21-\x7e]{1,255}$/;
const MAX_NAME = 200;

/** What the claim checks need to know. @internal */
export interface IdTokenClaimExpectations {
  clientId: string;
  /** The nonce sent in the authorization request; a token without it equal is refused. */
  nonce: string | undefined;
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
 * @internal
 */
export function checkIdTokenClaims(claims: Record<string, unknown>, expected: IdTokenClaimExpectations): string | undefined {
  const { aud, azp, nonce, sub } = claims;
  if (Array.isArray(aud) ? aud.length !== 1 || aud[0] !== expected.clientId : aud !== expected.clientId) return 'aud';
  if (azp !== undefined && azp !== expected.clientId) return 'azp';
  if (expected.nonce === undefined || typeof nonce !== 'string' || !safeEqual(nonce, expected.nonce)) return 'nonce';
  if (typeof sub !== 'string' || !SUBJECT.test(sub)) return 'sub';
  return undefined;
}

/**
 * Reads `email_verified` (and Apple's `is_private_email`, Microsoft's `xms_edov`) strictly: only
 * boolean `true` and the exact string `"true"` mean true. Google and Apple have sent the flag as a
 * string; `"false"`, `"TRUE "`, `1`, `"yes"`, `null` or absence all mean *not* verified (threat
 * model C1; better-auth PR #9578 treated `"false"` as truthy). One reader for every provider.
 * @internal
 */
export function readEmailVerified(value: unknown): boolean {
  return value === true || value === 'true';
}

/**
 * The identity of an OpenID sign-in, from the verified ID token and the userinfo answer (whose
 * `sub` the caller has already matched to the token's; `{}` when userinfo was not called).
 *
 * The ID token is signed, so it is the authority: `email` and `email_verified` are taken as a
 * pair from it, and from userinfo only when the token carries no `email`. Malformed attributes
 * become null, never an error: only the subject is essential.
 * @internal
 */
export function oidcIdentity(provider: string, issuer: string, claims: Record<string, unknown>, userinfo: Record<string, unknown>): VerifiedIdentity {
  const source = typeof claims.email === 'string' ? claims : userinfo;
  const email = cleanEmail(source.email);
  return {
    provider,
    issuer,
    subject: claims.sub as string,
    email,
    emailVerified: email !== null && readEmailVerified(source.email_verified),
    displayName: cleanText(claims.name ?? userinfo.name ?? claims.preferred_username ?? userinfo.preferred_username, MAX_NAME),
    avatarUrl: cleanUrl(claims.picture ?? userinfo.picture),
  };
}
