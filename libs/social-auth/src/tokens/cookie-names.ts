import type { ResolvedAuthOptions } from '../auth.options';

/**
 * Names of the module's cookies. Every one of them is host-only with `Path=/`.
 * @publicApi
 */
export interface AuthCookieNames {
  /** Access token. */
  access: string;
  /** Refresh token. */
  refresh: string;
  /** The OAuth transaction (state, PKCE verifier, nonce), `transaction.ttl` seconds. */
  transaction: string;
  /**
   * The browser binding of a `client=browser` login-code hand-off (docs/handoff.md): set when the
   * sign-in starts, checked by `POST /auth/token`, so a leaked login code is useless in any other browser.
   */
  loginBinding: string;
}

/**
 * Cookie names. With `Secure` cookies (https) every cookie that decides who the user is uses the
 * `__Host-` prefix: browsers accept such a cookie only from the host itself, with `Secure`,
 * `Path=/` and no `Domain`, so a sibling subdomain (`evil.example.com` next to
 * `app.example.com`) can neither plant nor shadow it (cookie tossing, threat model F2).
 * `__Secure-` would not do: it only demands `Secure`, and a sibling may still set it with
 * `Domain=example.com`.
 *
 * On plain http (development) browsers refuse both prefixes, so the names are unprefixed and any
 * host under the same parent domain can plant them: nothing stops cookie tossing over http.
 * @publicApi
 */
export function authCookieNames(options: Pick<ResolvedAuthOptions, 'cookies'>): AuthCookieNames {
  const { secure, namePrefix } = options.cookies;
  const p = secure ? `__Host-${namePrefix}` : namePrefix;
  return { access: `${p}_at`, refresh: `${p}_rt`, transaction: `${p}_tx`, loginBinding: `${p}_lb` };
}

/**
 * `Path` of every module cookie. `__Host-` requires `/`; http uses the same path so both behave
 * alike. The refresh and transaction cookies were once scoped to the auth routes so they travelled
 * nowhere else; a `__Host-` cookie cannot be, and a path-scoped cookie is one a sibling can plant.
 * They are `HttpOnly`, so scripts never see them on other routes either way.
 * @internal
 */
export const AUTH_COOKIE_PATH = '/';
