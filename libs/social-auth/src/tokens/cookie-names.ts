import type { ResolvedAuthOptions } from '../auth.options';

/** Names of the module's cookies. @publicApi */
export interface AuthCookieNames {
  /** Access token; `Path=/`. */
  access: string;
  /** Refresh token; `Path=` the auth routes' path (`/<routePrefix>` unless the app prefixes it) so it is only ever sent to them. */
  refresh: string;
  /** The OAuth transaction (state, PKCE verifier, nonce); `Path=` the auth routes' path like the refresh cookie, 10 minutes. */
  transaction: string;
}

/**
 * Cookie names. With `Secure` cookies the access and transaction cookies use the `__Host-`
 * prefix (no Domain, Path=/ enforced by browsers) and the path-scoped refresh cookie uses
 * `__Secure-`, so a sibling subdomain cannot plant them. On plain http (development) browsers
 * reject those prefixes, so the names are unprefixed.
 * @publicApi
 */
export function authCookieNames(options: Pick<ResolvedAuthOptions, 'cookies'>): AuthCookieNames {
  const { secure, namePrefix } = options.cookies;
  return secure
    ? { access: `__Host-${namePrefix}_at`, refresh: `__Secure-${namePrefix}_rt`, transaction: `__Secure-${namePrefix}_tx` }
    : { access: `${namePrefix}_at`, refresh: `${namePrefix}_rt`, transaction: `${namePrefix}_tx` };
}
