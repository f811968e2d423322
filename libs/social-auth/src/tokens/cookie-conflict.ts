import { isIP } from 'node:net';
import { formatSetCookie } from '../platform/set-cookie';

/** Where a request was sent, as far as cookie scoping goes. @internal */
export interface CookieScope {
  /** Host name of the app as browsers see it (`appUrl`'s), lower case, without port. */
  host: string;
  /** The request's path as received (see `AuthHttp.requestPath`). */
  requestPath: string;
  /** Whether the module's cookies are `Secure`. */
  secure: boolean;
}

/** More would only come from a crafted request path or host; the copies a browser can hold are covered well before. */
const MAX_PATHS = 12;
const MAX_DOMAINS = 6;
/** Characters a `Path=`/`Domain=` attribute value may hold without breaking the header (no `;`, no space, no controls). */
const ATTRIBUTE_VALUE = /^[\x21-\x3A\x3C-\x7E]+$/;

/**
 * Every `Path` a cookie sent with a request to `requestPath` can have (RFC 6265 §5.1.4
 * path-match): `/`, then each leading run of segments with and without its trailing slash, and
 * the path itself. `/auth/refresh` → `/`, `/auth`, `/auth/`, `/auth/refresh`.
 * @internal
 */
export function matchingCookiePaths(requestPath: string): string[] {
  const path = requestPath.startsWith('/') ? requestPath : '/';
  const out = new Set<string>(['/']);
  for (let i = path.indexOf('/', 1); i > 0 && out.size < MAX_PATHS - 1; i = path.indexOf('/', i + 1)) {
    out.add(path.slice(0, i));
    out.add(path.slice(0, i + 1));
  }
  out.add(path);
  return [...out].slice(0, MAX_PATHS).filter((p) => ATTRIBUTE_VALUE.test(p));
}

/**
 * The `Domain=` values a cookie sent to `host` may have been set with: the host itself and each
 * parent domain of two labels or more (`app.example.com` → `app.example.com`, `example.com`).
 * None for an IP address or a single-label host (`localhost`). A public suffix among them
 * (`co.uk`) costs one header browsers ignore.
 * @internal
 */
export function matchingCookieDomains(host: string): string[] {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!name.includes('.') || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return [];
  const labels = name.split('.');
  const out: string[] = [];
  for (let i = 0; i + 2 <= labels.length && out.length < MAX_DOMAINS; i++) out.push(labels.slice(i).join('.'));
  return out.filter((d) => ATTRIBUTE_VALUE.test(d));
}

/**
 * `Set-Cookie` values that expire every copy of cookie `name` a browser could have sent with this
 * request, whoever set it.
 *
 * - A `__Host-` name can only exist host-only with `Path=/` (browsers refuse any other `Domain` or
 *   `Path` for it, and would refuse such a clear too): one value.
 * - Any other name (http, where no prefix exists): host-only and with `Domain=` the host and each
 *   parent domain, for every path that matches the request path. A planted copy with a more
 *   specific `Path`, or with `Domain=` the parent, is expired as well as the app's own, so the
 *   next request is not decided by whichever copy the attacker left.
 * @internal
 */
export function expireEveryCopy(name: string, scope: CookieScope, now: number = Date.now()): string[] {
  const base = { httpOnly: true, secure: scope.secure, sameSite: 'lax' as const, maxAge: 0 };
  if (name.startsWith('__Host-')) return [formatSetCookie(name, '', { ...base, path: '/' }, now)];
  const paths = matchingCookiePaths(scope.requestPath);
  const domains: Array<string | undefined> = [undefined, ...matchingCookieDomains(scope.host)];
  const out: string[] = [];
  for (const domain of domains) for (const path of paths) out.push(formatSetCookie(name, '', { ...base, path, domain }, now));
  return out;
}
