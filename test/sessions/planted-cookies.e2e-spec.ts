import { AuthCookies } from '@nest-social-auth/core';
import type { OAuthDriver } from '../support/oauth-driver';
import { reservePort } from '../support/test-app';
import { LogCapture } from '../sign-in/support/log-capture';
import { authCookiesSet } from '../sign-in/support/refusals';
import { type SignInApp, useSignInApp } from '../sign-in/support/sign-in-app';
import { setCookies, signIn } from './session-fixtures';

/**
 * Threat model F2 (cookie tossing), issue "a sibling subdomain switches a victim into the
 * attacker's account". The app is `app.example.test`; a sibling (`evil.example.test`) can set
 * cookies with `Domain=example.test` and any `Path`. In a `Cookie` header such a copy shows up as
 * the same name twice: before the app's own when its `Path` is more specific, after it otherwise.
 *
 * - Over http (no name prefix exists), a name sent twice is refused with `cookie_conflict`, logged
 *   by name, nothing is written, and every copy the browser could have sent is expired (checked by
 *   replaying the answer's `Set-Cookie` on a model of the browser's store holding both copies).
 * - Over https the names are `__Host-`, which no sibling can set: whatever a sibling can plant (an
 *   unprefixed or `__Secure-` twin, even carrying the attacker's valid value) is never read.
 */

type Kind = 'transaction' | 'refresh' | 'access';

/** One cookie in the browser's store: host-only (`domain` undefined) or `Domain=` scoped, at `path`. */
interface StoredCopy {
  who: 'app' | 'attacker';
  domain?: string;
  path: string;
}

/**
 * What is left of `copies` (all of one name) after the browser applies `lines`: an expiring
 * `Set-Cookie` removes the copy with the same name, host-only flag, domain and path (RFC 6265
 * §5.3 step 11), nothing else.
 */
function survivors(name: string, copies: StoredCopy[], lines: string[]): StoredCopy[] {
  const expired = lines
    .filter((l) => l.startsWith(`${name}=;`) && /; Max-Age=0(;|$)/.test(l))
    .map((l) => ({ domain: /; Domain=([^;]+)/.exec(l)?.[1], path: /; Path=([^;]+)/.exec(l)![1] }));
  return copies.filter((c) => !expired.some((e) => e.domain === c.domain && e.path === c.path));
}

/** The planted copies a sibling can make of a cookie the app sets host-only at `/`. */
const PLANTED: Array<{ title: string; copy: StoredCopy; sentFirst: boolean }> = [
  { title: 'a Domain=example.test copy at the same Path', copy: { who: 'attacker', domain: 'example.test', path: '/' }, sentFirst: false },
  { title: 'a Domain=example.test copy with a more specific Path', copy: { who: 'attacker', domain: 'example.test', path: '<specific>' }, sentFirst: true },
  { title: 'a Domain=app.example.test copy (set by a sub-subdomain)', copy: { who: 'attacker', domain: 'app.example.test', path: '/' }, sentFirst: false },
];

/** `http(s)://app.example.test:PORT/...` → the same path on the address the test app listens on. */
function local(app: SignInApp, url: string): string {
  const u = new URL(url);
  return `${app.t.url}${u.pathname}${u.search}`;
}

describe('cookie tossing over http: a cookie sent twice is refused and every copy expired (threat model F2)', () => {
  const logs = new LogCapture();
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const port = await reservePort();
    Object.assign(env, { PORT: String(port), APP_URL: `http://app.example.test:${port}` });
  });
  const app = useSignInApp({ env, logs });
  const origin = () => env.APP_URL;
  const names = () => app().t.app.get(AuthCookies).names;
  const tokenCalls = () => app().google.requests.filter((r) => r.method === 'POST').length;

  /** The request each case sends, with the app's and the attacker's values of cookie `kind`, the planted one first or last. */
  async function conflicting(kind: Kind, appValue: string, attackerValue: string, plantedFirst: boolean, victim?: OAuthDriver, callbackUrl?: string) {
    const name = names()[kind];
    const pair = plantedFirst ? [attackerValue, appValue] : [appValue, attackerValue];
    const cookie = pair.map((v) => `${name}=${v}`).join('; ');
    if (kind === 'transaction') return { path: '/auth/google/callback', hop: await victim!.callback(local(app(), callbackUrl!), { Cookie: cookie }) };
    if (kind === 'refresh') return { path: '/auth/refresh', hop: toHop(await app().t.http.post('/auth/refresh').set('Origin', origin()).set('Cookie', cookie)) };
    return { path: '/me', hop: toHop(await app().t.http.get('/me').set('Cookie', cookie)) };
  }

  const toHop = (res: { status: number; body: unknown; headers: Record<string, unknown> }) => ({ status: res.status, body: res.body as { error?: string }, location: res.headers.location as string | undefined, setCookies: setCookies(res) });

  /** Values of the app's and the attacker's cookie of `kind`, and for the transaction the victim's browser and its pending callback. */
  async function values(kind: Kind): Promise<{ appValue: string; attackerValue: string; victim?: OAuthDriver; callbackUrl?: string; check(): Promise<void> }> {
    if (kind === 'transaction') {
      // The attacker started its own sign-in and stopped before the callback: its transaction cookie.
      const attacker = app().browser();
      await attacker.authorize((await attacker.start('google')).location!);
      const attackerValue = attacker.jar.get(names().transaction)!;
      const victim = app().browser();
      const callbackUrl = await victim.authorize((await victim.start('google')).location!);
      return { appValue: victim.jar.get(names().transaction)!, attackerValue, victim, callbackUrl, check: async () => expect(tokenCalls()).toBe(0) };
    }
    const victim = await signIn(app().t);
    const attacker = await signIn(app().t);
    const [appValue, attackerValue] = kind === 'refresh' ? [victim.tokens.refreshToken, attacker.tokens.refreshToken] : [victim.tokens.accessToken, attacker.tokens.accessToken];
    return {
      appValue,
      attackerValue,
      // Neither refresh token was rotated or revoked: each still refreshes once, through the body.
      check: async () => {
        for (const token of [victim.tokens.refreshToken, attacker.tokens.refreshToken]) {
          await app().t.http.post('/auth/refresh').set('Content-Type', 'application/json').send({ refreshToken: token }).expect(200);
        }
      },
    };
  }

  describe.each<Kind>(['transaction', 'refresh', 'access'])('the %s cookie', (kind) => {
    it.each(PLANTED)('$title: cookie_conflict, nothing written, every copy expired, logged by name only', async ({ copy, sentFirst }) => {
      const { appValue, attackerValue, victim, callbackUrl, check } = await values(kind);
      const before = await app().rows();
      const logStart = logs.text.length;
      const { path, hop } = await conflicting(kind, appValue, attackerValue, sentFirst, victim, callbackUrl);
      const name = names()[kind];

      if (kind === 'transaction') {
        expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: '/?error=cookie_conflict' });
      } else {
        expect({ status: hop.status, error: (hop.body as { error?: string }).error }).toEqual({ status: 401, error: 'cookie_conflict' });
      }
      expect(authCookiesSet({ ...hop, headers: {}, text: '' })).toEqual([]);
      expect(await app().rows()).toEqual(before);
      await check();

      // The browser held the app's copy and the planted one; neither survives the answer.
      const planted = { ...copy, path: copy.path === '<specific>' ? path : copy.path };
      expect(survivors(name, [{ who: 'app', path: '/' }, planted], hop.setCookies)).toEqual([]);
      // Every expiry is a plain Max-Age=0 of this name, HttpOnly, never Secure over http.
      for (const line of hop.setCookies.filter((l) => l.startsWith(`${name}=`))) expect(line).toMatch(new RegExp(`^${name}=; Max-Age=0(; Domain=(app\\.)?example\\.test)?; Path=/[^;]*; Expires=[^;]+; HttpOnly; SameSite=Lax$`));

      const logged = logs.text.slice(logStart);
      expect(logged).toContain(`cookie ${name} sent 2 times: a planted or duplicate copy`);
      expect(logged).toMatch(/WARN/);
      for (const value of [appValue, attackerValue]) expect(logged).not.toContain(value);
    });
  });

  it('logout with the refresh cookie sent twice: cookie_conflict, no session revoked, every copy expired', async () => {
    const victim = await signIn(app().t);
    const attacker = await signIn(app().t);
    const name = names().refresh;
    const res = await app().t.http.post('/auth/logout').set('Origin', origin()).set('Cookie', `${name}=${attacker.tokens.refreshToken}; ${name}=${victim.tokens.refreshToken}`);
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'cookie_conflict' });
    expect(survivors(name, [{ who: 'app', path: '/' }, { who: 'attacker', domain: 'example.test', path: '/auth/logout' }], setCookies(res))).toEqual([]);
    for (const token of [victim.tokens.refreshToken, attacker.tokens.refreshToken]) {
      await app().t.http.post('/auth/refresh').set('Content-Type', 'application/json').send({ refreshToken: token }).expect(200);
    }
  });

  it('a new sign-in start expires every copy of a transaction cookie sent twice before setting its own', async () => {
    const name = names().transaction;
    const browser = app().browser();
    const start = await browser.get('/auth/google', { Cookie: `${name}=planted; ${name}=old` });
    expect(start.status).toBe(302);
    const copies: StoredCopy[] = [{ who: 'app', path: '/' }, { who: 'attacker', domain: 'example.test', path: '/auth/google' }];
    // Everything but the new transaction cookie itself (the last line) expires the old copies.
    const lines = start.setCookies.filter((l) => l.startsWith(`${name}=`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${name}=v1\\.[^;]+; Max-Age=600; Path=/;`));
    expect(survivors(name, copies, lines.slice(0, -1))).toEqual([]);
  });
});

describe('cookie tossing over https: what a sibling can plant is never read (threat model F2)', () => {
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const port = await reservePort();
    Object.assign(env, { PORT: String(port), APP_URL: `https://app.example.test:${port}` });
  });
  const app = useSignInApp({ env });
  const names = () => app().t.app.get(AuthCookies).names;

  it('every cookie that decides who the user is has a __Host- name', () => {
    expect(names()).toEqual({ access: '__Host-sa_at', refresh: '__Host-sa_rt', transaction: '__Host-sa_tx', loginBinding: '__Host-sa_lb' });
  });

  /** Names a sibling subdomain can set with `Domain=example.test` for the module's cookie `name`. */
  const plantable = (name: string) => [name.replace('__Host-', '__Secure-'), name.replace('__Host-', '')];

  it('the transaction: the attacker plants its own pending transaction and sends the victim to its callback; no sign-in, nothing written', async () => {
    const attacker = app().browser();
    const attackerCallback = await attacker.authorize((await attacker.start('google')).location!);
    const value = attacker.jar.get(names().transaction)!;
    expect(value).toMatch(/^v1\./);
    for (const name of plantable(names().transaction)) {
      const before = await app().rows();
      const hop = await app().browser().callback(local(app(), attackerCallback), { Cookie: `${name}=${value}` });
      expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: '/?error=invalid_state' });
      expect(authCookiesSet(hop)).toEqual([]);
      expect(await app().rows()).toEqual(before);
    }
    expect(app().google.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('the refresh token: the attacker plants its own; the refresh is refused and the attacker\'s token is not used', async () => {
    const attacker = await signIn(app().t);
    for (const name of plantable(names().refresh)) {
      const res = await app().t.http.post('/auth/refresh').set('Origin', env.APP_URL).set('Cookie', `${name}=${attacker.tokens.refreshToken}`);
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'refresh_token_invalid' });
    }
    // Not rotated by those requests: it still refreshes once, through the body.
    await app().t.http.post('/auth/refresh').set('Content-Type', 'application/json').send({ refreshToken: attacker.tokens.refreshToken }).expect(200);
  });

  it('the access token: the attacker plants its own; the request is not signed in', async () => {
    const attacker = await signIn(app().t);
    for (const name of plantable(names().access)) {
      const res = await app().t.http.get('/me').set('Cookie', `${name}=${attacker.tokens.accessToken}`);
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'unauthorized' });
    }
  });

  it('a __Host- name sent twice (only a crafted request can): cookie_conflict and one host-only Path=/ expiry, the only scope a __Host- cookie can have', async () => {
    const victim = await signIn(app().t);
    const name = names().refresh;
    const res = await app().t.http.post('/auth/refresh').set('Origin', env.APP_URL).set('Cookie', `${name}=x; ${name}=${victim.tokens.refreshToken}`);
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'cookie_conflict' });
    expect(setCookies(res).filter((l) => l.startsWith(`${name}=`))).toEqual([expect.stringMatching(new RegExp(`^${name}=; Max-Age=0; Path=/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$`))]);
  });
});
