/**
 * Normalisers for profile attributes a provider sends (email, names, URLs): a malformed value
 * becomes null instead of an error, because only the subject is essential to a sign-in.
 * @internal
 */

// eslint-disable-next-line no-control-regex
const EMAIL = /^[^\s@\u0000-\u001f\u007f]{1,64}@[^\s@\u0000-\u001f\u007f]{1,255}$/u;
const MAX_EMAIL = 320;
const MAX_URL = 1000;

/** An email as given, or null when it is not a plausible single address. @internal */
export function cleanEmail(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_EMAIL || !EMAIL.test(value)) return null;
  return value;
}

/** Trimmed text without control characters, cut to `max`; null when empty or not a string. @internal */
export function cleanText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f]/gu, '').trim();
  return text ? Array.from(text).slice(0, max).join('') : null;
}

/** An http(s) URL of at most 1000 characters, or null. @internal */
export function cleanUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_URL) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}
