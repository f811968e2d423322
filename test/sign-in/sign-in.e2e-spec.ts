import { Clock } from '@nest-social-auth/core';
import { githubUsers, googleUsers, verifyS256 } from '@nest-social-auth/testing';
import { DEMO_COOKIES } from '../support/oauth-driver';
import { LogCapture } from './support/log-capture';
import { authCookiesSet, expectRefused, expectSignedIn } from './support/refusals';
import { useSignInApp } from './support/sign-in-app';

/**
 * Sign in with Google and GitHub end to end against the fake providers: happy paths, identity
 * keying, PKCE (A5), headers and final location (F4), returnTo swapping (G2), redirect_uri
 * steering (G3), and the connect-provider flow.
 */
describe('sign-in: Google and GitHub end to end', () => {
  const logs = new LogCapture();

  const app = useSignInApp({ logs });

  it('GET /auth/providers lists the enabled providers with their login URLs', async () => {
    const res = await app().t.http.get('/auth/providers').expect(200);
    expect(res.body).toEqual([
      { id: 'google', name: 'Google', loginUrl: '/auth/google' },
      { id: 'github', name: 'GitHub', loginUrl: '/auth/github' },
    ]);
  });

  it.each(['unknown', 'facebook', 'GOOGLE', '%3Cscript%3E'])('GET /auth/%s answers 404 unknown_provider without a transaction', async (provider) => {
    const hop = await app().browser().get(`/auth/${provider}`);
    expect(hop.status).toBe(404);
    expect(hop.body).toEqual({ statusCode: 404, error: 'unknown_provider', message: expect.any(String) });
    expect(hop.setCookies).toEqual([]);
  });

  describe.each(['google', 'github'] as const)('%s', (provider) => {
    it('lands on returnTo with access and refresh cookies; /me works with the cookie and with the bearer token', async () => {
      const before = await app().rows();
      const browser = app().browser();
      const { callback } = await browser.signIn(provider, { returnTo: '/me?tab=1' });
      expectSignedIn(callback, '/me?tab=1');
      const me = await browser.get('/me');
      expect(me.status).toBe(200);
      const viaBearer = await app().t.http.get('/me').set('Authorization', `Bearer ${browser.accessToken}`).expect(200);
      expect(viaBearer.body).toEqual(me.body);
      expect(await app().rows()).toEqual({ users: before.users + 1, identities: before.identities + 1, sessions: before.sessions + 1 });
    });

    it('the same identity twice is the same user (two sessions)', async () => {
      const first = app().browser();
      await first.signIn(provider);
      const second = app().browser();
      await second.signIn(provider);
      const a = await first.get('/me');
      const b = await second.get('/me');
      expect(a.body).toMatchObject({ id: (b.body as { id: string }).id });
      expect((a.body as { sessionId: string }).sessionId).not.toBe((b.body as { sessionId: string }).sessionId);
    });

    it('sets the cookies with the documented attributes (transaction cookie HttpOnly, Lax, host-only, Path=/, 10 minutes)', async () => {
      const browser = app().browser();
      const start = await browser.start(provider);
      const tx = start.setCookies.find((c) => c.startsWith(`${DEMO_COOKIES.transaction}=`))!;
      expect(tx).toMatch(/; Max-Age=600;/);
      expect(tx).toMatch(/; Path=\/;/);
      expect(tx).not.toMatch(/Domain=/i);
      expect(tx).toMatch(/; HttpOnly/);
      expect(tx).toMatch(/; SameSite=Lax/);
      expect(Buffer.byteLength(tx)).toBeLessThan(4096);
    });

    it('a start request carrying code/state/error parameters still starts a fresh flow', async () => {
      const browser = app().browser();
      const start = await browser.get(`/auth/${provider}?code=injected&state=x&error=access_denied&returnTo=%2Fa`);
      expect(start.status).toBe(302);
      const authorize = new URL(start.location!);
      expect(authorize.searchParams.get('state')).not.toBe('x');
      const callback = await browser.callback(await browser.authorize(start.location!));
      expectSignedIn(callback, '/a');
    });

    // Threat model F4.
    it('start and callback answers are no-store, no-referrer; the final Location carries no code, state or token', async () => {
      const browser = app().browser();
      const { start, callbackUrl, callback } = await browser.signIn(provider, { returnTo: '/settings' });
      for (const hop of [start, callback]) {
        expect(hop.headers['cache-control']).toBe('no-store');
        expect(hop.headers['referrer-policy']).toBe('no-referrer');
      }
      const { searchParams } = new URL(callbackUrl);
      expect(callback.location).toBe('/settings');
      for (const secret of [searchParams.get('code')!, searchParams.get('state')!, browser.accessToken!, browser.jar.get(DEMO_COOKIES.refresh)!]) {
        expect(callback.location).not.toContain(secret);
      }
      // No body either: nothing for a cache or a referrer to keep.
      expect(callback.text).toBe('');
    });

    // Threat model G2: the destination comes only from the transaction.
    it('ignores a returnTo appended to the callback', async () => {
      const browser = app().browser();
      const start = await browser.start(provider, { returnTo: '/settings' });
      const callbackUrl = await browser.authorize(start.location!);
      const callback = await browser.callback(`${callbackUrl}&returnTo=${encodeURIComponent('https://evil.test')}`);
      expectSignedIn(callback, '/settings');
    });

    // Threat model G3.
    it('redirect_uri is the configured absolute URL whatever Host / X-Forwarded-* say', async () => {
      const expected = `${app().t.url}/auth/${provider}/callback`;
      const fake = provider === 'google' ? app().google : app().github;
      fake.scenario.allowedRedirectUris = [expected];
      const browser = app().browser();
      const spoofed = { Host: 'evil.test', 'X-Forwarded-Host': 'evil.test', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Port': '443', Forwarded: 'host=evil.test;proto=https' };
      const { start, callback } = await browser.signIn(provider, { headers: spoofed });
      expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(expected);
      expect(fake.authorizations.map((a) => a.redirectUri)).toEqual([expected]);
      const tokenRequest = fake.requests.find((r) => r.method === 'POST')!;
      expect((tokenRequest.body as Record<string, string>).redirect_uri).toBe(expected);
      expectSignedIn(callback);
    });

    // Threat model A5.
    it('PKCE: S256 with a 43-character challenge; the token request proves it; verifiers differ per flow and never travel in a URL or in clear', async () => {
      const browser = app().browser();
      const one = await browser.signIn(provider);
      const two = await app().browser().signIn(provider);
      const fake = provider === 'google' ? app().google : app().github;
      expect(fake.authorizations).toHaveLength(2);
      const tokenRequests = fake.requests.filter((r) => r.method === 'POST');
      expect(tokenRequests).toHaveLength(2);
      const verifiers = tokenRequests.map((r) => (r.body as Record<string, string>).code_verifier);
      fake.authorizations.forEach((a, i) => {
        expect(a.codeChallengeMethod).toBe('S256');
        expect(a.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(verifyS256(verifiers[i], a.codeChallenge!)).toBe(true);
      });
      expect(verifiers[0]).not.toBe(verifiers[1]);
      for (const { start, authorizeUrl, callbackUrl, callback } of [one, two]) {
        const visible = [authorizeUrl, callbackUrl, callback.location ?? '', ...start.setCookies, ...callback.setCookies].join('\n');
        for (const verifier of verifiers) expect(visible).not.toContain(verifier);
      }
    });
  });

  it('scopes are minimal: Google "openid email profile" with a nonce; GitHub "read:user user:email" without', async () => {
    await app().browser().signIn('google');
    await app().browser().signIn('github');
    const [google] = app().google.authorizations;
    const [github] = app().github.authorizations;
    expect(google.scope).toBe('openid email profile');
    expect(google.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(github.scope).toBe('read:user user:email');
    expect(github.nonce).toBeUndefined();
  });

  it('Google sub "123" and GitHub id 123 are two different users', async () => {
    app().google.signInAs(googleUsers.sub123());
    app().github.signInAs(githubUsers.id123());
    const google = app().browser();
    const github = app().browser();
    await google.signIn('google');
    await github.signIn('github');
    const a = (await google.get('/me')).body as { id: string };
    const b = (await github.get('/me')).body as { id: string };
    expect(a.id).not.toBe(b.id);
    const rows = await app().t.dataSource.query("SELECT provider, subject, user_id FROM auth_identities WHERE subject = '123' ORDER BY provider");
    expect(rows.map((r: { provider: string; subject: string }) => [r.provider, r.subject])).toEqual([
      ['github', '123'],
      ['google', '123'],
    ]);
  });

  it('a GitHub rename keeps the user; a recycled login with another id is another user (threat model C4)', async () => {
    app().github.signInAs(githubUsers.octo({ id: 4242, login: 'before' }));
    const first = app().browser();
    await first.signIn('github');
    app().github.signInAs(githubUsers.octo({ id: 4242, login: 'after' }));
    const renamed = app().browser();
    await renamed.signIn('github');
    app().github.signInAs(githubUsers.octo({ id: 4343, login: 'before', emails: [] }));
    const recycled = app().browser();
    await recycled.signIn('github');
    const [a, b, c] = await Promise.all([first, renamed, recycled].map(async (br) => ((await br.get('/me')).body as { id: string }).id));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('GitHub: only the primary and verified address counts; the public /user email never does (threat model C3)', async () => {
    app().github.signInAs(githubUsers.unverifiedPrimary());
    await app().browser().signIn('github');
    app().github.signInAs(githubUsers.octo({ id: 5151, email: 'public@example.com', emails: [{ email: 'private@example.com', primary: true, verified: true }] }));
    await app().browser().signIn('github');
    const rows = await app().t.dataSource.query("SELECT subject, email, email_verified FROM auth_identities WHERE provider = 'github' AND subject IN ('1002', '5151') ORDER BY subject");
    expect(rows.map((r: { subject: string; email: string | null; email_verified: unknown }) => [r.subject, r.email, Boolean(Number(r.email_verified)) || r.email_verified === true])).toEqual([
      ['1002', null, false],
      ['5151', 'private@example.com', true],
    ]);
  });

  it('Google: email_verified "false" (a string) is not verified', async () => {
    app().google.signInAs(googleUsers.carol());
    await app().browser().signIn('google');
    const [row] = await app().t.dataSource.query("SELECT email_verified FROM auth_identities WHERE provider = 'google' AND subject = '100000000000000000003'");
    expect(row.email_verified === true || Number(row.email_verified) === 1).toBe(false);
  });

  describe('connect another provider (link)', () => {
    it('GET /auth/:provider/link needs a signed-in user', async () => {
      const hop = await app().browser().get('/auth/github/link');
      expect(hop.status).toBe(401);
      expect(hop.setCookies.filter((c) => c.startsWith(DEMO_COOKIES.transaction))).toEqual([]);
    });

    it('links the identity to the signed-in user and keeps the session', async () => {
      app().google.signInAs(googleUsers.dana());
      app().github.signInAs(githubUsers.octo({ id: 6161, login: 'dana-gh', emails: [] }));
      const browser = app().browser();
      await browser.signIn('google');
      const me = (await browser.get('/me')).body as { id: string; sessionId: string };
      const before = await app().rows();
      const { callback } = await browser.signIn('github', { link: true, returnTo: '/account' });
      expect({ status: callback.status, location: callback.location }).toEqual({ status: 302, location: '/account' });
      expect(authCookiesSet(callback)).toEqual([]);
      expect(await app().rows()).toEqual({ ...before, identities: before.identities + 1 });
      const [row] = await app().t.dataSource.query("SELECT user_id FROM auth_identities WHERE provider = 'github' AND subject = '6161'");
      expect(row.user_id).toBe(me.id);
      expect((await browser.get('/me')).body).toEqual(me);
    });

    it('needs a recent sign-in (linking.maxAuthAgeForLink, 1 hour): an older session is sent to sign in again', async () => {
      app().google.signInAs(googleUsers.noEmail({ sub: '100000000000000000097' }));
      const browser = app().browser();
      await browser.signIn('google');
      jest.spyOn(app().t.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + 3601_000));
      // A fresh access token for the old session (its sign-in time does not move).
      expect((await browser.send('POST', '/auth/refresh', { Origin: app().t.url })).status).toBe(200);
      const hop = await browser.start('github', { link: true });
      expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: '/?error=unauthorized' });
      expect(browser.jar.get(DEMO_COOKIES.transaction)).toBeUndefined();
      expect(app().github.authorizations).toHaveLength(0);
    });

    it('refuses a link finished while another user is signed in on the browser', async () => {
      app().google.signInAs(googleUsers.alice());
      const victim = app().browser();
      await victim.signIn('google');
      app().github.signInAs(githubUsers.octo({ id: 7171, emails: [] }));
      const start = await victim.start('github', { link: true });
      const callbackUrl = await victim.authorize(start.location!);
      // Someone else signs in on the same browser before the callback arrives.
      app().google.signInAs(googleUsers.bob());
      const other = app().browser();
      await other.signIn('google');
      victim.jar.set(DEMO_COOKIES.access, other.jar.get(DEMO_COOKIES.access)!);
      const before = await app().rows();
      const callback = await victim.callback(callbackUrl);
      expectRefused(callback, 'invalid_state');
      expect(await app().rows()).toEqual(before);
    });

    it('refuses a link whose session was signed out in the meantime', async () => {
      app().google.signInAs(googleUsers.noEmail({ sub: '100000000000000000099' }));
      const browser = app().browser();
      await browser.signIn('google');
      app().github.signInAs(githubUsers.octo({ id: 8181, emails: [] }));
      const start = await browser.start('github', { link: true });
      const callbackUrl = await browser.authorize(start.location!);
      const logout = await browser.send('POST', '/auth/logout', { Origin: app().t.url });
      expect(logout.status).toBe(204);
      const before = await app().rows();
      const callback = await browser.callback(callbackUrl);
      expectRefused(callback, 'unauthorized');
      expect(await app().rows()).toEqual(before);
    });

    it('never moves an identity owned by another user (identity_in_use)', async () => {
      app().github.signInAs(githubUsers.octo({ id: 9191, emails: [] }));
      await app().browser().signIn('github');
      app().google.signInAs(googleUsers.noEmail({ sub: '100000000000000000098' }));
      const other = app().browser();
      await other.signIn('google');
      const before = await app().rows();
      const { callback } = await other.signIn('github', { link: true });
      expectRefused(callback, 'identity_in_use');
      expect(await app().rows()).toEqual(before);
    });
  });

  // Threat model I4 for this file: nothing secret in any log line.
  it('logged no code, state, verifier, nonce, token, cookie or client secret', () => {
    const text = logs.text;
    // The capture works: the refusals above were logged (with their code only).
    expect(text).toContain('refused: identity_in_use');
    for (const secret of app().secrets()) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
