/**
 * Where a sign-in may land: the `returnTo` policy, as a pure function.
 *
 * Invariants (threat model G1, G2; RFC 9700 §4.11.1 "Clients MUST NOT expose open redirectors"):
 * - The result is either a path of this app or an absolute URL whose origin is the app's or one
 *   of `allowedOrigins`; anything else yields `defaultReturnTo`. It never throws, whatever the
 *   input (arrays, objects, 10 kB strings, malformed percent-encoding).
 * - Paths are judged in every form a browser or a proxy could read them: as sent, and
 *   percent-decoded (repeatedly). `//host`, `/\host`, `\\host`, tabs/CR/LF/NUL and other control
 *   characters are refused in any of those forms. Every form is also judged after dot-segment
 *   normalisation (`/%2E%2E%2F%2Fevil` decodes to `/..//evil`, which normalises to `//evil`), and
 *   the normalised result must pass every check again unchanged (`/./%2Fevil` normalises to
 *   `/%2Fevil`, whose decoded form is `//evil`): a proxy or browser that decodes, normalises or
 *   does both in any order never reads another host.
 * - The value is decided when the flow starts and stored in the encrypted transaction; the
 *   callback never reads a destination from its query string.
 * @internal
 */

/** Inputs of {@link resolveReturnTo}. @internal */
export interface ReturnToPolicy {
  /** `scheme://host[:port]` of `appUrl`. */
  appOrigin: string;
  /** Other origins a sign-in may land on (already normalised origins). */
  allowedOrigins: readonly string[];
  /** Where to land when the requested value is absent or refused. */
  defaultReturnTo: string;
}

/** Longest `returnTo` accepted, in characters. @internal */
export const MAX_RETURN_TO_LENGTH = 2048;

// As sent: no control characters (C0, DEL, C1), no backslash, no whitespace (a real URL encodes them).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_RAW = /[\u0000-\u001f\u007f-\u009f\\\s]/u;
// Decoded: no control characters anywhere (CR/LF/TAB/NUL smuggled as %0d, %09, %00 …).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_DECODED = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * The landing URL for a requested `returnTo`: the value itself (normalised) when it is a safe
 * path of this app or an absolute URL of an allowed origin, otherwise `defaultReturnTo`.
 * @example resolveReturnTo('/settings?tab=1', policy) // '/settings?tab=1'
 * @example resolveReturnTo('//evil.test', policy) // policy.defaultReturnTo
 * @internal
 */
export function resolveReturnTo(requested: unknown, policy: ReturnToPolicy): string {
  return checkReturnTo(requested, policy) ?? policy.defaultReturnTo;
}

/** The accepted (normalised) form of `requested`, or undefined when it is refused. @internal */
export function checkReturnTo(requested: unknown, policy: ReturnToPolicy): string | undefined {
  if (typeof requested !== 'string' || requested.length === 0 || requested.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (FORBIDDEN_RAW.test(requested)) return undefined;
  const forms = safeForms(requested);
  if (!forms) return undefined;
  return requested.startsWith('/') ? checkPath(requested, forms, policy) : checkAbsolute(requested, policy);
}

function checkPath(path: string, forms: string[], policy: ReturnToPolicy, recheck = true): string | undefined {
  // A path-absolute reference only: "//x" is network-path (another host) in any decoded form,
  // before or after its dot-segments are resolved.
  if (forms.some((f) => !isPathAbsolute(f) || !isPathAbsolute(normalisePath(f, policy) ?? '//'))) return undefined;
  const normalised = normalisePath(path, policy);
  if (normalised === undefined || !isPathAbsolute(normalised) || normalised.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (normalised === path) return normalised;
  // Normalising changed the value: the result is what the browser will be sent to, so it must
  // pass every check itself and be stable (a second pass would not change it again).
  if (!recheck) return undefined;
  const normalisedForms = safeForms(normalised);
  if (!normalisedForms) return undefined;
  return checkPath(normalised, normalisedForms, policy, false) === normalised ? normalised : undefined;
}

/** `/x`, never `//x` (a network-path reference: another host). */
function isPathAbsolute(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//');
}

/** Path, query and fragment of `path` resolved against the app (dot-segments removed), or undefined when it leaves the app's origin or does not parse. */
function normalisePath(path: string, policy: ReturnToPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(path, `${policy.appOrigin}/`);
  } catch {
    return undefined;
  }
  if (url.origin !== policy.appOrigin) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

function checkAbsolute(value: string, policy: ReturnToPolicy): string | undefined {
  // Only the canonical "scheme://" form: "https:evil.test" and friends are refused outright.
  if (!/^https?:\/\/[^/]/i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  if (url.origin !== policy.appOrigin && !policy.allowedOrigins.includes(url.origin)) return undefined;
  return url.href.length > MAX_RETURN_TO_LENGTH ? undefined : url.href;
}

/** The value and its decoded forms, or undefined when one of them has a control character or a backslash in its path. */
function safeForms(value: string): string[] | undefined {
  const forms = decodedForms(value);
  return forms && !forms.some((f) => FORBIDDEN_DECODED.test(f) || pathPart(f).includes('\\')) ? forms : undefined;
}

/** The part before the query or fragment, where a backslash could read as a path separator. */
function pathPart(value: string): string {
  const end = value.search(/[?#]/);
  return end < 0 ? value : value.slice(0, end);
}

/**
 * The value and its percent-decoded forms (decoded until stable, at most 3 times); undefined
 * when a form is not valid percent-encoding.
 */
function decodedForms(value: string): string[] | undefined {
  const forms = [value];
  let current = value;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return forms;
    forms.push(next);
    current = next;
  }
  // Still changing after three rounds: layered encoding is an attack, not a landing page.
  return decodeURIComponentSafe(current) === current ? forms : undefined;
}

function decodeURIComponentSafe(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
