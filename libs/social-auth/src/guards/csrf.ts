import type { Request } from 'express';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthError } from '../errors/auth.error';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for every method that may change state (anything but GET, HEAD and OPTIONS). @publicApi */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether the request's `Origin` (or, without one, its `Referer`) is the app's own origin or one
 * of `allowedOrigins`. `Origin: null`, a missing pair of headers, repeated headers and unparsable
 * values are all "not allowed".
 * @publicApi
 */
export function hasAllowedOrigin(req: Request, options: Pick<ResolvedAuthOptions, 'appOrigin' | 'allowedOrigins'>): boolean {
  const allowed = (origin: string) => origin === options.appOrigin || options.allowedOrigins.includes(origin);
  const origin = single(req, 'origin');
  if (origin !== undefined) {
    if (origin === 'null') return false;
    const parsed = originOf(origin);
    // An Origin header is exactly scheme://host[:port]; anything longer is not a browser's.
    return parsed !== undefined && parsed === origin.toLowerCase() && allowed(parsed);
  }
  const referer = single(req, 'referer');
  if (referer === undefined) return false;
  const parsed = originOf(referer);
  return parsed !== undefined && allowed(parsed);
}

/**
 * The CSRF rule of cookie-authenticated requests (docs/http-api.md): an unsafe method must come from an
 * allowed origin, else `403 csrf_rejected`. Bearer-authenticated requests never reach this:
 * browsers do not attach `Authorization` headers on their own, so they cannot be forged cross-site.
 * @publicApi
 */
export function assertSameOriginForCookieAuth(req: Request, options: Pick<ResolvedAuthOptions, 'appOrigin' | 'allowedOrigins'>): void {
  if (isUnsafeMethod(req.method) && !hasAllowedOrigin(req, options)) throw new AuthError('csrf_rejected');
}

/**
 * Every value of header `name` (lower case) as received. Node keeps only the first of some
 * repeated headers (`Authorization`) and joins others, so ambiguity is judged on the raw list.
 * @internal
 */
export function rawHeaderValues(req: Request, name: string): string[] {
  const out: string[] = [];
  const raw = req.rawHeaders ?? [];
  // Comparing lengths first spares a lower-cased copy of every other header name.
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

/** The header's value when sent exactly once. */
function single(req: Request, name: string): string | undefined {
  const values = rawHeaderValues(req, name);
  return values.length === 1 ? values[0] : undefined;
}

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}
