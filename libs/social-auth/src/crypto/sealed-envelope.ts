import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Why an envelope did not open. @internal */
export type EnvelopeFailure = 'malformed' | 'tampered';

/**
 * Seals `plaintext` as `<version>.<base64url(iv ‖ ciphertext ‖ tag)>` with AES-256-GCM and a fresh
 * 96-bit IV. The one envelope of the module's sealed values (OAuth transaction, login code, the
 * refresh-token successor kept for the grace window).
 *
 * Invariants: `key` is derived for one purpose only (`deriveKey(options, purpose)`) and `aad`
 * names that purpose (or binds the value to its row), so a value sealed for one use never opens
 * as another; any changed byte fails authentication.
 * @internal
 */
export function sealEnvelope(version: string, plaintext: Buffer, key: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${version}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
}

/**
 * Opens an envelope made by {@link sealEnvelope}. Never throws: anything that is not a string of
 * the right version, shape and size is `malformed`; a failed authentication is `tampered`.
 * @internal
 */
export function openEnvelope(
  sealed: unknown,
  version: string,
  key: Buffer,
  aad: Buffer,
  maxLength: number,
): { ok: true; plaintext: Buffer } | { ok: false; reason: EnvelopeFailure } {
  if (typeof sealed !== 'string' || sealed.length > maxLength) return { ok: false, reason: 'malformed' };
  const dot = sealed.indexOf('.');
  const body = sealed.slice(dot + 1);
  if (dot < 0 || sealed.slice(0, dot) !== version || !B64URL.test(body)) return { ok: false, reason: 'malformed' };
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES + 2) return { ok: false, reason: 'malformed' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return { ok: true, plaintext: Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]) };
  } catch {
    return { ok: false, reason: 'tampered' };
  }
}
