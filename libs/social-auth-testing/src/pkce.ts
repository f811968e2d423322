import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** BASE64URL(SHA256(verifier)) without padding is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether `value` is a syntactically valid PKCE `code_verifier` (RFC 7636 §4.1).
 * @publicApi
 */
export function isValidCodeVerifier(value: unknown): value is string {
  return typeof value === 'string' && CODE_VERIFIER.test(value);
}

/**
 * Whether `value` looks like an S256 `code_challenge`: 43 base64url characters, no padding.
 * @publicApi
 */
export function isValidS256Challenge(value: unknown): value is string {
  return typeof value === 'string' && S256_CHALLENGE.test(value);
}

/**
 * `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
 * @example s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') === 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * @publicApi
 */
export function s256Challenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/**
 * The S256 check an authorization server runs at the token endpoint (RFC 7636 §4.6): the
 * verifier is well-formed and hashes to the stored challenge. Compared in constant time.
 * @publicApi
 */
export function verifyS256(codeVerifier: unknown, codeChallenge: string): boolean {
  if (!isValidCodeVerifier(codeVerifier)) return false;
  const expected = Buffer.from(s256Challenge(codeVerifier));
  const given = Buffer.from(codeChallenge);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * A fresh verifier (32 random bytes, 43 characters) and its S256 challenge, for tests that drive
 * a fake provider directly.
 * @example
 * const { codeVerifier, codeChallenge } = createPkcePair();
 * @publicApi
 */
export function createPkcePair(): { codeVerifier: string; codeChallenge: string; codeChallengeMethod: 'S256' } {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: s256Challenge(codeVerifier), codeChallengeMethod: 'S256' };
}
