import { createPrivateKey, hkdfSync } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';

/**
 * HKDF salt of every key the module derives. Changing it changes every derived key (and so
 * invalidates every sealed value and HS256 access token): never change it.
 */
const SALT = Buffer.from('@nest-social-auth/core key derivation v1', 'utf8');

/**
 * Purpose labels of the keys derived in the tokens layer. Other layers use their own labels
 * (the sign-in flow uses `'social-auth/transaction'`).
 * @internal
 */
export const KEY_PURPOSE = {
  /** HMAC key of HS256 access tokens. */
  accessToken: 'social-auth/access-token',
  /** AES-256-GCM key sealing a refresh token's successor for the reuse grace window. */
  refreshSuccessor: 'social-auth/refresh-successor',
} as const;

/**
 * Derives a 32-byte key for one purpose from the configured master secret with HKDF-SHA256.
 *
 * Invariant: no key is ever used for two purposes. The master secret (`tokens.secret`, or the
 * DER bytes of `tokens.privateKey` when no secret is set) is only ever HKDF input keying
 * material; what signs access tokens, seals refresh successors and encrypts the OAuth transaction
 * cookie are distinct derived keys, so a value minted for one purpose can never verify or decrypt
 * as another (threat model D4).
 * @example const key = deriveKey(options, 'social-auth/transaction');
 * @publicApi
 */
export function deriveKey(options: Pick<ResolvedAuthOptions, 'tokens'>, purpose: string): Buffer {
  if (!purpose) throw new Error('deriveKey needs a purpose label');
  return deriveKeyFrom(masterSecret(options.tokens), purpose);
}

/** HKDF-SHA256 of one secret for one purpose. @internal */
export function deriveKeyFrom(secret: string | Buffer, purpose: string): Buffer {
  const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return Buffer.from(hkdfSync('sha256', ikm, SALT, Buffer.from(purpose, 'utf8'), 32));
}

function masterSecret(tokens: { secret?: string; privateKey?: string }): Buffer {
  if (tokens.secret) return Buffer.from(tokens.secret, 'utf8');
  if (tokens.privateKey) {
    // The DER encoding, not the PEM text, so whitespace or line-ending changes of the PEM do not
    // change every derived key.
    return createPrivateKey(tokens.privateKey).export({ type: 'pkcs8', format: 'der' });
  }
  throw new Error('deriveKey needs tokens.secret or tokens.privateKey');
}
