import { Clock, ExternalIdentity, UserAccount } from '@nest-social-auth/core';
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthDriver } from '../support/oauth-driver';
import { DEMO_COOKIES } from '../support/oauth-driver';
import { authCookiesSet, clearsTransaction, expectSignedIn } from '../sign-in/support/refusals';
import { useSignInApp } from '../sign-in/support/sign-in-app';

/**
 * Login-code hand-off for SPAs and native apps (docs/handoff.md): the callback lands on
 * `returnTo?login_code=<code>` without cookies, and `POST /auth/token` redeems the code once,
 * within 60 seconds, with the PKCE verifier of the challenge sent at the start.
 */
describe('hand-off: login code → POST /auth/token', () => {

  const NATIVE_REDIRECT = 'com.example.app:/oauth';
  const app = useSignInApp({ env: { AUTH_HANDOFF_REDIRECT_URIS: NATIVE_REDIRECT } });

  /** The `Cookie` header of the login-binding cookie a browser got when it started a hand-off. */
  const binding = (browser: OAuthDriver) => `${DEMO_COOKIES.loginBinding}=${browser.jar.get(DEMO_COOKIES.loginBinding)}`;

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  /** start (with hand-off parameters) → provider → callback; returns the callback hop and its login code. */
  async function handoffSignIn(client: 'native' | 'browser' | undefined, challenge: string, returnTo = client === 'native' ? NATIVE_REDIRECT : '/app', browser: OAuthDriver = app().browser()) {
    const query = new URLSearchParams({ returnTo, code_challenge: challenge, code_challenge_method: 'S256', ...(client ? { client } : {}) });
    const start = await browser.get(`/auth/google?${query}`);
    expect(start.status).toBe(302);
    const callback = await browser.callback(await browser.authorize(start.location!));
    expect(callback.status).toBe(302);
    const location = new URL(callback.location!.startsWith('/') ? `${app().t.url}${callback.location}` : callback.location!);
    return { browser, callback, location, code: location.searchParams.get('login_code') ?? '' };
  }

  /** POST /auth/token as JSON; `origin` for browser codes (the answer sets cookies). */
  const redeem = (body: unknown, headers: Record<string, string> = {}) =>
    app().t.http
      .post('/auth/token')
      .set({ 'Content-Type': 'application/json', ...headers })
      .send(JSON.stringify(body));

  const sessions = async () => (await app().rows()).sessions;

  async function expectRefused(res: { status: number; body: unknown; headers: Record<string, unknown> }, status: number, error: string, sessionsBefore: number) {
    expect({ status: res.status, body: res.body }).toEqual({ status, body: { statusCode: status, error, message: expect.any(String) } });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessions()).toBe(sessionsBefore);
  }

  it('native: the callback sets no session cookie and lands on returnTo with only login_code; the code gives a refresh token in the body and /me works with the bearer', async () => {
    const { verifier, challenge } = pkce();
    const before = await sessions();
    const { callback, location, code } = await handoffSignIn('native', challenge);
    expect(authCookiesSet(callback)).toEqual([]);
    expect(clearsTransaction(callback)).toBe(true);
    expect(callback.location).toBe(`${NATIVE_REDIRECT}?login_code=${code}`);
    expect([...location.searchParams.keys()]).toEqual(['login_code']);
    expect(code).toMatch(/^lc1\.[A-Za-z0-9_-]+$/);
    expect(await sessions()).toBe(before);

    const res = await redeem({ code, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(await sessions()).toBe(before + 1);
    const me = await app().t.http.get('/me').set('Authorization', `Bearer ${res.body.accessToken}`);
    expect(me.status).toBe(200);
    const refreshed = await app().t.http.post('/auth/refresh').set('Content-Type', 'application/json').send({ refreshToken: res.body.refreshToken });
    expect(refreshed.status).toBe(200);
  });

  it('browser (the default client): the code sets the session cookies and answers no refresh token', async () => {
    const { verifier, challenge } = pkce();
    const before = await sessions();
    const browser = app().browser();
    const start = await browser.get(`/auth/google?${new URLSearchParams({ returnTo: '/app', code_challenge: challenge })}`);
    // The start binds the flow to this browser: an HttpOnly host-only cookie at Path=/, 256 random bits.
    const bindingLine = start.setCookies.find((c) => c.startsWith(`${DEMO_COOKIES.loginBinding}=`))!;
    expect(bindingLine).toMatch(/^sa_lb=[A-Za-z0-9_-]{43}; Max-Age=660; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const { callback, code } = await handoffSignIn(undefined, challenge, '/app', browser);
    expect(authCookiesSet(callback)).toEqual([]);
    const res = await redeem({ code, code_verifier: verifier }, { Origin: app().t.url, Cookie: binding(browser) });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
    const lines = res.headers['set-cookie'] as unknown as string[];
    const set = lines.filter((c) => !/max-age=0/i.test(c)).map((c) => c.slice(0, c.indexOf('=')));
    expect(set.sort()).toEqual([DEMO_COOKIES.access, DEMO_COOKIES.refresh].sort());
    // The binding has served: it is expired with the answer.
    expect(lines.filter((c) => /max-age=0/i.test(c)).map((c) => c.slice(0, c.indexOf('=')))).toEqual([DEMO_COOKIES.loginBinding]);
    expect(await sessions()).toBe(before + 1);
  });

  it('browser: a cross-origin (or origin-less) redemption is refused before the code is consumed', async () => {
    const { verifier, challenge } = pkce();
    const { code, browser } = await handoffSignIn('browser', challenge);
    const before = await sessions();
    await expectRefused(await redeem({ code, code_verifier: verifier }, { Origin: 'https://evil.test', Cookie: binding(browser) }), 403, 'csrf_rejected', before);
    await expectRefused(await redeem({ code, code_verifier: verifier }, { Cookie: binding(browser) }), 403, 'csrf_rejected', before);
    expect((await redeem({ code, code_verifier: verifier }, { Origin: app().t.url, Cookie: binding(browser) })).status).toBe(200);
  });

  it('a replayed code is refused', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    expect((await redeem({ code, code_verifier: verifier })).status).toBe(200);
    const before = await sessions();
    await expectRefused(await redeem({ code, code_verifier: verifier }), 400, 'invalid_login_code', before);
  });

  it('an expired code (> 60 s) is refused', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    const clock = app().t.app.get(Clock);
    const now = clock.now().getTime();
    jest.spyOn(clock, 'now').mockReturnValue(new Date(now + 61_000));
    await expectRefused(await redeem({ code, code_verifier: verifier }), 400, 'invalid_login_code', before);
  });

  it('a wrong verifier is refused and burns the code (the right verifier afterwards is refused too)', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    await expectRefused(await redeem({ code, code_verifier: pkce().verifier }), 400, 'invalid_login_code', before);
    await expectRefused(await redeem({ code, code_verifier: verifier }), 400, 'invalid_login_code', before);
  });

  it('a user disabled between the callback and the redemption gets no session (account_disabled)', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    await app().t.dataSource.getRepository(UserAccount).update({ disabled: false }, { disabled: true });
    try {
      await expectRefused(await redeem({ code, code_verifier: verifier }), 403, 'account_disabled', before);
    } finally {
      await app().t.dataSource.getRepository(UserAccount).update({ disabled: true }, { disabled: false });
    }
  });

  it('a code minted before its provider was disconnected opens no session afterwards (invalid_login_code)', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    const identities = app().t.dataSource.getRepository(ExternalIdentity);
    const removed = await identities.find({ where: { provider: 'google' } });
    expect(removed.length).toBeGreaterThan(0);
    await identities.delete({ provider: 'google' });
    try {
      await expectRefused(await redeem({ code, code_verifier: verifier }), 400, 'invalid_login_code', before);
    } finally {
      await identities.save(removed);
    }
  });

  it('a tampered or forged code is refused', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    const i = 20;
    const tampered = `${code.slice(0, i)}${code[i] === 'A' ? 'B' : 'A'}${code.slice(i + 1)}`;
    await expectRefused(await redeem({ code: tampered, code_verifier: verifier }), 400, 'invalid_login_code', before);
    await expectRefused(await redeem({ code: `lc1.${randomBytes(80).toString('base64url')}`, code_verifier: verifier }), 400, 'invalid_login_code', before);
    // The genuine code was not consumed by the forgeries.
    expect((await redeem({ code, code_verifier: verifier })).status).toBe(200);
  });

  it('refuses anything but a JSON body { code, code_verifier } with invalid_request, without consuming the code', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await handoffSignIn('native', challenge);
    const before = await sessions();
    const form = await app().t.http.post('/auth/token').type('form').send({ code, code_verifier: verifier });
    await expectRefused(form, 400, 'invalid_request', before);
    const text = await app().t.http.post('/auth/token').set('Content-Type', 'text/plain').send(JSON.stringify({ code, code_verifier: verifier }));
    await expectRefused(text, 400, 'invalid_request', before);
    for (const body of [{}, { code }, { code, code_verifier: 'short' }, { code, code_verifier: verifier, extra: 1 }, { code: 42, code_verifier: verifier }, [code, verifier]]) {
      await expectRefused(await redeem(body), 400, 'invalid_request', before);
    }
    expect((await redeem({ code, code_verifier: verifier })).status).toBe(200);
  });

  it.each([
    ['a short challenge', { code_challenge: 'abc' }],
    ['the plain method', { code_challenge: pkce().challenge, code_challenge_method: 'plain' }],
    ['an unknown client', { code_challenge: pkce().challenge, client: 'desktop' }],
    ['a client without challenge', { client: 'native' }],
  ])('the start refuses %s with a JSON 400 invalid_request and no redirect or transaction', async (_name, params) => {
    const browser: OAuthDriver = app().browser();
    const hop = await browser.get(`/auth/google?${new URLSearchParams(params as Record<string, string>)}`);
    expect(hop.status).toBe(400);
    expect(hop.body).toEqual({ statusCode: 400, error: 'invalid_request', message: expect.any(String) });
    expect(hop.location).toBeUndefined();
    expect(hop.setCookies.filter((c) => !/max-age=0/i.test(c))).toEqual([]);
    expect(app().google.authorizations).toEqual([]);
  });

  it('handoff.redirectUris (AUTH_HANDOFF_REDIRECT_URIS): a hand-off may land on a listed native redirect URI (exact match); a cookie sign-in may not', async () => {
    const { verifier, challenge } = pkce();
    const { callback, code } = await handoffSignIn('native', challenge, NATIVE_REDIRECT);
    expect(callback.location).toBe(`${NATIVE_REDIRECT}?login_code=${code}`);
    expect((await redeem({ code, code_verifier: verifier })).status).toBe(200);
    // A browser hand-off to an unlisted URI lands on the default instead (the returnTo policy).
    const other = await handoffSignIn('browser', pkce().challenge, 'com.example.app:/oauth/other');
    expect(other.callback.location).toMatch(/^\/\?login_code=/);
    const { callback: cookieFlow } = await app().browser().signIn('google', { returnTo: 'com.example.app:/oauth' });
    expectSignedIn(cookieFlow, '/');
  });

  // Threat model F5: whoever starts a flow chooses the PKCE challenge, so the verifier alone cannot
  // protect a code the victim's browser approved for an attacker's link.
  it('F5: a leaked browser code of a flow the attacker started is useless without the binding cookie of the browser that started it', async () => {
    const attacker = pkce();
    const attackerBrowser = app().browser();
    // The attacker's own binding cookie (from a flow it started itself) is no better.
    await attackerBrowser.get(`/auth/google?${new URLSearchParams({ returnTo: '/app', code_challenge: pkce().challenge })}`);
    // The victim follows the attacker's link and approves; the code lands in the victim's URL.
    const victimBrowser = app().browser();
    const { code } = await handoffSignIn('browser', attacker.challenge, '/anything', victimBrowser);
    expect(code).not.toBe('');
    const before = await sessions();
    const leaked = await redeem({ code, code_verifier: attacker.verifier }, { Origin: app().t.url });
    await expectRefused(leaked, 400, 'invalid_login_code', before);
    const theirs = await redeem({ code, code_verifier: attacker.verifier }, { Origin: app().t.url, Cookie: binding(attackerBrowser) });
    expect({ status: theirs.status, error: theirs.body.error }).toEqual({ status: 400, error: 'invalid_login_code' });
    expect(await sessions()).toBe(before);
  });

  it('F5: a browser code redeemed with the login-binding cookie sent twice: 401 cookie_conflict, every copy expired, the code not consumed', async () => {
    const { verifier, challenge } = pkce();
    const { code, browser } = await handoffSignIn('browser', challenge);
    const before = await sessions();
    const res = await redeem({ code, code_verifier: verifier }, { Origin: app().t.url, Cookie: `${binding(browser)}; ${DEMO_COOKIES.loginBinding}=${'p'.repeat(43)}` });
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'cookie_conflict' });
    expect(res.headers['set-cookie']).toEqual(expect.arrayContaining([expect.stringMatching(/^sa_lb=; Max-Age=0; Path=\/;/)]));
    expect(await sessions()).toBe(before);
    expect((await redeem({ code, code_verifier: verifier }, { Origin: app().t.url, Cookie: binding(browser) })).status).toBe(200);
  });

  it.each([
    ['a web path', '/anything'],
    ['no returnTo', undefined],
    ['an absolute URL of the app', 'APP/anything'],
    ['an unlisted custom-scheme URI', 'com.example.app:/oauth/other'],
    ['a listed URI with a suffix', `${'com.example.app:/oauth'}?x=1`],
  ])('F5: client=native with %s (not a registered handoff.redirectUris entry) is refused at the start: JSON 400, no redirect, no cookie', async (_name, returnTo) => {
    const browser: OAuthDriver = app().browser();
    const params: Record<string, string> = { code_challenge: pkce().challenge, client: 'native' };
    if (returnTo !== undefined) params.returnTo = returnTo.replace('APP', app().t.url);
    const hop = await browser.get(`/auth/google?${new URLSearchParams(params)}`);
    expect({ status: hop.status, body: hop.body, location: hop.location }).toEqual({ status: 400, body: { statusCode: 400, error: 'invalid_request', message: expect.any(String) }, location: undefined });
    expect(hop.setCookies.filter((c) => !/max-age=0/i.test(c))).toEqual([]);
    expect(app().google.authorizations).toEqual([]);
  });

  it('without hand-off parameters the sign-in is unchanged (cookies, no login_code)', async () => {
    const before = await sessions();
    const { callback } = await app().browser().signIn('google', { returnTo: '/app' });
    expectSignedIn(callback, '/app');
    expect(await sessions()).toBe(before + 1);
  });
});
