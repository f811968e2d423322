import { readEmailVerified } from '../oidc/id-token-claims';
import { cleanEmail, cleanText } from '../profile-values';
import type { VerifiedIdentity } from '../verified-identity';

/**
 * Pure mapping of Sign in with Apple's ID token and posted `user` field (no I/O, table-tested).
 * The ID token has passed the shared OpenID checks (signature, `iss`, `aud`, nonce, times) first.
 * @internal
 */

const MAX_NAME = 200;
const MAX_USER_FIELD = 2048;

/**
 * The display name from the `user` form field Apple posts on the first authorization only:
 * `{"name":{"firstName":"…","lastName":"…"},"email":"…"}`. The field is not signed, so only the
 * name is taken from it (the email always comes from the ID token); anything malformed is null.
 * @internal
 */
export function namePostedByApple(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_USER_FIELD) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const name = (parsed as { name?: unknown } | null)?.name as { firstName?: unknown; lastName?: unknown } | undefined;
  if (!name || typeof name !== 'object') return null;
  const parts = [name.firstName, name.lastName].map((p) => cleanText(p, MAX_NAME)).filter((p): p is string => p !== null);
  return cleanText(parts.join(' '), MAX_NAME);
}

/** An Apple identity, with whether its email is a private relay (Hide My Email). @internal */
export interface AppleIdentity extends VerifiedIdentity {
  privateRelayEmail: boolean;
}

/**
 * The identity of an Apple sign-in.
 *
 * - `subject` is the token's `sub` (stable per user and team).
 * - `email_verified` and `is_private_email` are read strictly: `true` or `"true"` only (Apple
 *   sends strings).
 * - The display name comes from the first authorization's posted `user` field; later sign-ins
 *   carry none (null, and the stored name is kept by the caller's update rules).
 * @internal
 */
export function appleIdentity(claims: Record<string, unknown>, issuer: string, postedUser: unknown): AppleIdentity {
  const email = cleanEmail(claims.email);
  return {
    provider: 'apple',
    issuer,
    subject: claims.sub as string,
    email,
    emailVerified: email !== null && readEmailVerified(claims.email_verified),
    displayName: namePostedByApple(postedUser),
    avatarUrl: null,
    privateRelayEmail: email !== null && readEmailVerified(claims.is_private_email),
  };
}
