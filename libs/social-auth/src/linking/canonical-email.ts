/** Longest address the module stores (RFC 5321 path limit, also the `email` column length). */
const MAX_EMAIL_LENGTH = 320;

// Control, format (zero-width, bidi overrides), unassigned and private-use code points, and any
// whitespace. Such characters make two addresses look alike while comparing unequal, or make an
// address look like another one; an address holding one never takes part in a comparison.
const INVISIBLE_OR_SPACE = /[\p{C}\p{Z}\s]/u;

/**
 * The one canonical form in which the module compares email addresses, or `null` when the
 * address is not one a comparison may rely on.
 *
 * Steps: trim surrounding whitespace, Unicode NFC, lowercase (whole address), NFC again (case
 * mapping can produce decomposed sequences). Then the result must be a plausible `local@domain`
 * split on the ASCII `@` only.
 *
 * Invariants:
 * - NFC, never NFKC: compatibility folding would turn the fullwidth `ｖ` into `v` and `＠` into
 *   `@`, which is exactly the homoglyph merge that must not happen. Look-alike characters from
 *   other scripts (Cyrillic `а`) or widths stay distinct, so they never equal an ASCII address.
 * - The address is validated *after* normalisation (Auth.js GHSA-7rqj-j65f-68wh validated before
 *   normalising and let a homoglyph `@` through).
 * - Case mapping never turns a non-ASCII character into ASCII: `İ` would lower to `i` + U+0307,
 *   so an address holding such a character has no canonical form.
 * - The canonical form is the address's own NFC lower-case spelling, never another character's:
 *   an address holding a character that NFC replaces by a different one on its own (the Kelvin
 *   sign U+212A becomes `K`, the Ohm sign `Ω`, the Ångström sign `Å`) has no canonical form, so
 *   `\u212Aate@example.com` never shares one with `kate@example.com` and neither links to the
 *   other's account. Combining sequences (`e` + U+0301 composing to `é`) are spellings of the
 *   same characters and keep theirs. Such an address can still sign up and be connected; it is
 *   only kept out of automatic linking.
 * - Fails closed: an address with invisible characters, inner whitespace, several `@`, an empty
 *   part, a leading/trailing/double dot in the domain (`example.com.` included) or more than
 *   320 characters has no canonical form, so it never matches any account.
 * - Only ever applied to provider-verified addresses before a comparison; the canonical form is
 *   stored only for verified addresses (see `AccountLinkingService`).
 *
 * Public because a host's `AuthUserStore` stores and looks up `emailCanonical` in this form.
 * @publicApi
 */
export function canonicalEmail(email: string | null | undefined): string | null {
  if (typeof email !== 'string') return null;
  const trimmed = email.trim();
  if (hasCompatibilityCharacter(trimmed)) return null;
  const composed = trimmed.normalize('NFC');
  if (hasAsciiCaseFold(composed)) return null;
  const normalised = composed.toLowerCase().normalize('NFC');
  if (normalised.length === 0 || normalised.length > MAX_EMAIL_LENGTH) return null;
  if (INVISIBLE_OR_SPACE.test(normalised)) return null;
  const at = normalised.indexOf('@');
  if (at <= 0 || at !== normalised.lastIndexOf('@')) return null;
  const local = normalised.slice(0, at);
  const domain = normalised.slice(at + 1);
  if (local.length > 64 || !isDomain(domain)) return null;
  return normalised;
}

// A code point that NFC replaces on its own (a singleton or composition-excluded character such
// as the Kelvin sign U+212A → `K`): two different spellings would then share one canonical form,
// which lets one person's address claim another's account. Parts of combining sequences are
// stable on their own and pass.
function hasCompatibilityCharacter(value: string): boolean {
  for (const char of value) {
    if (char.codePointAt(0)! > 0x7f && char.normalize('NFC') !== char) return true;
  }
  return false;
}

// A non-ASCII character whose lower case is (or contains) ASCII, such as `İ` (U+0130 → `i` +
// U+0307): lowercasing would merge a look-alike into an ASCII address, so such an address is
// refused instead.
function hasAsciiCaseFold(value: string): boolean {
  for (const char of value) {
    if (char.codePointAt(0)! > 0x7f && [...char.toLowerCase()].some((c) => c.codePointAt(0)! <= 0x7f)) return true;
  }
  return false;
}

function isDomain(domain: string): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  const labels = domain.split('.');
  // At least "name.tld"; an empty label means a leading, trailing or doubled dot.
  if (labels.length < 2) return false;
  return labels.every((label) => label.length > 0 && label.length <= 63 && !label.startsWith('-') && !label.endsWith('-'));
}
