import type { ResolvedAuthOptions } from '../auth.options';
import { AuthError } from '../errors/auth.error';
import type { AuthHttp, AuthRequest } from '../platform/auth-http';
import { authHttpOf } from '../platform/auth-http.provider';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for every method that may change state (anything but GET, HEAD and OPTIONS). @publicApi */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether the request's `Origin` (or, without one, its `Referer`) is the app's own origin or one
 * of `allowedOrigins`. `Origin: null`, a missing pair of headers, repeated headers and unparsable
 * values are all "not allowed". `http` reads the headers (the app's platform seam; by default the
 * request is recognised by its shape).
 * @publicApi
 */
export function hasAllowedOrigin(
  req: AuthRequest,
  options: Pick<ResolvedAuthOptions, 'appOrigin' | 'allowedOrigins'>,
  http: Pick<AuthHttp, 'headerValues'> = authHttpOf(req),
): boolean {
  const allowed = (origin: string) => origin === options.appOrigin || options.allowedOrigins.includes(origin);
  const origin = single(http, req, 'origin');
  if (origin !== undefined) {
    if (origin === 'null') return false;
    const parsed = originOf(origin);
    // An Origin header is exactly scheme://host[:port]; anything longer is not a browser's.
    return parsed !== undefined && parsed === origin.toLowerCase() && allowed(parsed);
  }
  const referer = single(http, req, 'referer');
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
export function assertSameOriginForCookieAuth(
  req: AuthRequest,
  options: Pick<ResolvedAuthOptions, 'appOrigin' | 'allowedOrigins'>,
  http: Pick<AuthHttp, 'headerValues'> = authHttpOf(req),
): void {
  if (isUnsafeMethod(req.method) && !hasAllowedOrigin(req, options, http)) throw new AuthError('csrf_rejected');
}

/**
 * Every value of header `name` (lower case) as received. Node keeps only the first of some
 * repeated headers (`Authorization`) and joins others, so ambiguity is judged on the raw list.
 * @internal
 */
export function rawHeaderValues(req: AuthRequest, name: string, http: Pick<AuthHttp, 'headerValues'> = authHttpOf(req)): string[] {
  return http.headerValues(req, name);
}

/** The header's value when sent exactly once. */
function single(http: Pick<AuthHttp, 'headerValues'>, req: AuthRequest, name: string): string | undefined {
  const values = http.headerValues(req, name);
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
