import { createHash, timingSafeEqual } from 'node:crypto';
import { openEnvelope, sealEnvelope } from '../crypto/sealed-envelope';

/**
 * The login-code hand-off (docs/handoff.md), as pure functions: an SPA or a native app signs in through
 * the browser redirect flow, but the callback hands it a single-use, 60-second login code bound to
 * the client's PKCE challenge instead of setting session cookies; `POST /auth/token` redeems it.
 *
 * Invariants (threat model D4, F4):
 * - A login code is sealed with AES-256-GCM under `deriveKey(options, 'social-auth/login-code')`:
 *   the client can neither read nor forge one, and no other sealed value of the module opens as one.
 * - It carries no token: only the user id, provider, PKCE challenge, client kind, a random id
 *   (the single-use key) and its expiry.
 * - The redeemer must present the verifier whose S256 is the challenge (RFC 7636 §4.6), compared
 *   timing-safe. That protects a code only from those who do not hold the verifier: whoever
 *   *started* the flow chose the challenge and holds it, so a code the victim's browser approved
 *   for a flow an attacker started (a link to `/auth/google?code_challenge=<theirs>`) is the
 *   attacker's as soon as it leaks. Hence two more rules (threat model F5):
 *   - a `browser` code carries the S256 of the login-binding cookie set in the browser that started
 *     the flow, and is redeemed only with that cookie (`__Host-` on https, so no other site can
 *     set it): a code leaked from the victim's browser is useless in the attacker's;
 *   - a `native` code is minted only for a `returnTo` listed in `handoff.redirectUris`, so it goes
 *     to the registered app, never to a web page whose URL ends up in history, logs or analytics.
 *     Once delivered there, the verifier is all that guards it (RFC 8252 §8.1).
 * @internal
 */

/** HKDF purpose label of the login code's AES-256-GCM key. @internal */
export const LOGIN_CODE_KEY_PURPOSE = 'social-auth/login-code';
/** Lifetime of a login code, in seconds. @internal */
export const LOGIN_CODE_TTL_SECONDS = 60;

/** How the redeemed tokens are handed over: in the body (native apps) or as cookies (browsers). @publicApi */
export type HandoffClient = 'native' | 'browser';

/** What the start route binds into the OAuth transaction when the client asked for a hand-off. @internal */
export interface HandoffRequest {
  /** PKCE S256 challenge from the client (base64url, 43 characters). */
  challenge: string;
  client: HandoffClient;
  /** `browser` only: S256 of the login-binding cookie set at the start (see `HandoffService.newBrowserBinding`). */
  binding?: string;
}

/** The content of a login code. @internal */
export interface LoginCode {
  /** Random id: the key of the single-use marker consumed by `POST /auth/token`. */
  id: string;
  userId: string;
  provider: string;
  challenge: string;
  client: HandoffClient;
  /** `browser` codes: S256 of the login-binding cookie of the browser that started the flow. */
  binding?: string;
  /** Seconds since the epoch; refused from this second on. */
  exp: number;
}

const VERSION = 'lc1';
const AAD = Buffer.from('social-auth/login-code/v1', 'utf8');
const MAX_SEALED_LENGTH = 1024;
/** S256 of a verifier: 32 bytes, base64url without padding. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** The login-binding cookie's value: 256 random bits, base64url. */
const BINDING = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1 code_verifier. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Seals a login code (fresh 96-bit IV). Format: `lc1.<base64url(iv ‖ ciphertext ‖ tag)>`. @internal */
export function sealLoginCode(code: LoginCode, key: Buffer): string {
  const wire = { j: code.id, u: code.userId, p: code.provider, c: code.challenge, k: code.client === 'native' ? 'n' : 'b', ...(code.binding !== undefined ? { b: code.binding } : {}), exp: code.exp };
  return sealEnvelope(VERSION, Buffer.from(JSON.stringify(wire), 'utf8'), key, AAD);
}

/**
 * Decrypts a login code and checks its shape. Never throws. Expiry is checked apart
 * ({@link isLoginCodeExpired}) so the caller can consume the code first.
 * @internal
 */
export function openLoginCode(sealed: unknown, key: Buffer): { ok: true; code: LoginCode } | { ok: false; reason: 'malformed' | 'tampered' } {
  const opened = openEnvelope(sealed, VERSION, key, AAD, MAX_SEALED_LENGTH);
  if (!opened.ok) return opened;
  const plaintext = opened.plaintext;
  let w: Record<string, unknown>;
  try {
    w = JSON.parse(plaintext.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (!w || typeof w !== 'object' || !str(w.j) || !str(w.u) || !str(w.p) || !str(w.c) || (w.k !== 'n' && w.k !== 'b') || !Number.isInteger(w.exp)) {
    return { ok: false, reason: 'malformed' };
  }
  // A browser code without its binding would be redeemable from any browser: not ours.
  if (w.k === 'b' ? !str(w.b) : w.b !== undefined) return { ok: false, reason: 'malformed' };
  const binding = w.k === 'b' ? { binding: w.b as string } : {};
  return { ok: true, code: { id: w.j, userId: w.u, provider: w.p, challenge: w.c, client: w.k === 'n' ? 'native' : 'browser', ...binding, exp: w.exp as number } };
}

/** True from the second `code.exp` on. @internal */
export function isLoginCodeExpired(code: LoginCode, nowSeconds: number): boolean {
  return nowSeconds >= code.exp;
}

/** `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2, S256). @internal */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Whether the login-binding cookie's value hashes (S256) to the code's `binding`, compared timing-safe. @internal */
export function bindingMatches(cookieValue: string | undefined, binding: string | undefined): boolean {
  if (cookieValue === undefined || binding === undefined || !BINDING.test(cookieValue)) return false;
  const a = Buffer.from(s256(cookieValue), 'utf8');
  const b = Buffer.from(binding, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `verifier` is well-formed and its S256 equals `challenge`, compared timing-safe. @internal */
export function verifierMatches(verifier: unknown, challenge: string): boolean {
  if (typeof verifier !== 'string' || !CODE_VERIFIER.test(verifier)) return false;
  const a = Buffer.from(s256(verifier), 'utf8');
  const b = Buffer.from(challenge, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The hand-off a start request asks for: none (no hand-off parameter at all), one, or invalid.
 * `code_challenge` is required once any of `code_challenge`, `code_challenge_method` or `client`
 * is present; the method, when given, must be `S256`; `client` is `native` or `browser` (default).
 * Repeated parameters are invalid.
 * @internal
 */
export function parseHandoffQuery(query: Record<string, unknown>): { ok: true; handoff?: HandoffRequest } | { ok: false } {
  const { code_challenge: challenge, code_challenge_method: method, client } = query;
  if (challenge === undefined && method === undefined && client === undefined) return { ok: true };
  if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) return { ok: false };
  if (method !== undefined && method !== 'S256') return { ok: false };
  if (client !== undefined && client !== 'native' && client !== 'browser') return { ok: false };
  return { ok: true, handoff: { challenge, client: client ?? 'browser' } };
}

/**
 * `returnTo` (a path of the app or an absolute URL the returnTo policy accepted) with
 * `login_code=<code>` set in its query, before any fragment.
 * @internal
 */
export function withLoginCode(returnTo: string, code: string, appOrigin: string): string {
  const relative = returnTo.startsWith('/');
  const url = new URL(returnTo, `${appOrigin}/`);
  url.searchParams.set('login_code', code);
  return relative ? `${url.pathname}${url.search}${url.hash}` : url.href;
}
