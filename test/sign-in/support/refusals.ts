import type { Hop } from '../../support/oauth-driver';
import { DEMO_COOKIES } from '../../support/oauth-driver';

/** Names of auth cookies a hop *sets* (a clearing `Max-Age=0` does not count). */
export function authCookiesSet(hop: Hop): string[] {
  return hop.setCookies
    .filter((c) => !/;\s*max-age=0/i.test(c))
    .map((c) => c.slice(0, c.indexOf('=')))
    .filter((name) => name === DEMO_COOKIES.access || name === DEMO_COOKIES.refresh);
}

/** Whether the hop expires the transaction cookie. */
export function clearsTransaction(hop: Hop): boolean {
  return hop.setCookies.some((c) => c.startsWith(`${DEMO_COOKIES.transaction}=;`) && /max-age=0/i.test(c));
}

/**
 * The callback refused the sign-in the way docs/http-api.md says: 302 to the error page with the code, no
 * auth cookie set, the transaction cookie cleared.
 */
export function expectRefused(hop: Hop, code: string): void {
  expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: `/?error=${code}` });
  expect(authCookiesSet(hop)).toEqual([]);
  expect(clearsTransaction(hop)).toBe(true);
}

/** The callback signed the user in and landed on `returnTo`. */
export function expectSignedIn(hop: Hop, returnTo = '/'): void {
  expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: returnTo });
  expect(authCookiesSet(hop).sort()).toEqual([DEMO_COOKIES.access, DEMO_COOKIES.refresh].sort());
  expect(clearsTransaction(hop)).toBe(true);
}
