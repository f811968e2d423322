import { Clock } from '@nest-social-auth/core';
import type { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { DEMO_COOKIES, OAuthDriver } from '../support/oauth-driver';
import { configureTestApp, createPlatformApp } from '../support/test-app';
import { LogCapture } from './support/log-capture';
import { authCookiesSet, expectRefused, expectSignedIn } from './support/refusals';
import { useSignInApp } from './support/sign-in-app';

/**
 * Threat model group A: the callback, the transaction, PKCE and mix-up. Every refusal is checked the
 * same way: the error code in the redirect, no auth cookie, the transaction cookie cleared, no
 * user/identity/session row written, and (where the case says so) the token endpoint never called.
 */
describe('sign-in callback attacks (threat model A1–A8)', () => {
  const logs = new LogCapture();

  const app = useSignInApp({ logs });

  const fakeOf = (provider: 'google' | 'github'): FakeGoogle | FakeGitHub => (provider === 'google' ? app().google : app().github);
  const tokenCalls = (provider: 'google' | 'github') => fakeOf(provider).requests.filter((r) => r.method === 'POST' && /token$/.test(r.path)).length;
  const profileCalls = (provider: 'google' | 'github') => fakeOf(provider).requests.filter((r) => /userinfo|\/user/.test(r.path)).length;

  /** Starts a flow and follows it to the provider; returns the browser and the (unused) callback URL. */
  async function pendingCallback(provider: 'google' | 'github', browser = app().browser()): Promise<{ browser: OAuthDriver; callbackUrl: string; txCookie: string }> {
    const start = await browser.start(provider);
    const callbackUrl = await browser.authorize(start.location!);
    return { browser, callbackUrl, txCookie: browser.jar.get(DEMO_COOKIES.transaction)! };
  }

  function withQuery(callbackUrl: string, edit: (q: URLSearchParams) => void): string {
    const url = new URL(callbackUrl);
    edit(url.searchParams);
    return url.href;
  }

  describe.each(['google', 'github'] as const)('%s', (provider) => {
    // A1: login CSRF.
    it('A1: a callback URL replayed in another browser (no transaction) is refused before the token endpoint', async () => {
      const { callbackUrl } = await pendingCallback(provider);
      const before = await app().rows();
      const victim = app().browser();
      const hop = await victim.callback(callbackUrl);
      expectRefused(hop, 'invalid_state');
      expect(tokenCalls(provider)).toBe(0);
      expect(victim.jar.names()).toEqual([]);
      expect(await app().rows()).toEqual(before);
    });

    it("A1: the attacker's callback URL in a browser with its own pending flow is refused", async () => {
      const { callbackUrl } = await pendingCallback(provider);
      const { browser: victim } = await pendingCallback(provider);
      const before = await app().rows();
      expectRefused(await victim.callback(callbackUrl), 'invalid_state');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it.each([
      ['removed', (q: URLSearchParams) => q.delete('state')],
      ['empty', (q: URLSearchParams) => q.set('state', '')],
      ['of another value', (q: URLSearchParams) => q.set('state', 'A'.repeat(43))],
    ])('A1: own callback with state %s is refused', async (_name, edit) => {
      const { browser, callbackUrl } = await pendingCallback(provider);
      const before = await app().rows();
      expectRefused(await browser.callback(withQuery(callbackUrl, edit)), 'invalid_state');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    // A2 (a): replay after a completed login, on this instance and on another one.
    it('A2: a completed callback replayed with the same cookie is refused, also on a second instance', async () => {
      const { browser, callbackUrl, txCookie } = await pendingCallback(provider);
      expectSignedIn(await browser.callback(callbackUrl));
      expect(tokenCalls(provider)).toBe(1);
      const before = await app().rows();

      const replay = app().browser();
      replay.jar.set(DEMO_COOKIES.transaction, txCookie);
      expectRefused(await replay.callback(callbackUrl), 'invalid_state');

      const second = await startSecondInstance(app().t.app);
      logs.verboseNestLogger();
      try {
        const other = new OAuthDriver(second.url);
        other.jar.set(DEMO_COOKIES.transaction, txCookie);
        const url = new URL(callbackUrl);
        expectRefused(await other.get(`${second.url}${url.pathname}${url.search}`), 'invalid_state');
      } finally {
        await second.close();
      }
      expect(tokenCalls(provider)).toBe(1);
      expect(await app().rows()).toEqual(before);
    });

    // A2 (b): expiry.
    it('A2: a callback after the transaction TTL is refused with state_expired', async () => {
      const { browser, callbackUrl } = await pendingCallback(provider);
      const clock = app().t.app.get(Clock);
      const later = Date.now() + 601_000;
      jest.spyOn(clock, 'now').mockImplementation(() => new Date(later));
      const before = await app().rows();
      expectRefused(await browser.callback(callbackUrl), 'state_expired');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    // A3: malformed, duplicated, smuggled parameters.
    it.each([
      ['state twice', (u: string) => `${u}&state=b`, 'invalid_request'],
      ['state[]', (u: string) => `${u}&state[]=x`, 'invalid_request'],
      ['code[]', (u: string) => `${u}&code[]=x`, 'invalid_request'],
      ['code twice', (u: string) => `${u}&code=x`, 'invalid_request'],
      ['a 10 kB code', (u: string) => withQuery(u, (q) => q.set('code', 'c'.repeat(10_240))), 'invalid_request'],
      ['CRLF in the code', (u: string) => withQuery(u, (q) => q.set('code', 'abc\r\nSet-Cookie: x=1')), 'invalid_request'],
      ['NUL in the state', (u: string) => `${u}%00`, 'invalid_request'],
      ['access_token (implicit)', (u: string) => `${u}&access_token=injected`, 'invalid_request'],
      ['id_token (hybrid)', (u: string) => `${u}&id_token=eyJhbGciOiJub25lIn0.e30.`, 'invalid_request'],
      ['token', (u: string) => `${u}&token=injected`, 'invalid_request'],
    ])('A3: %s is refused without calling the token endpoint', async (_name, mutate, code) => {
      const { browser, callbackUrl } = await pendingCallback(provider);
      const before = await app().rows();
      expectRefused(await browser.callback(mutate(callbackUrl)), code);
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it.each(['POST', 'PUT', 'DELETE'] as const)('A3: %s to the callback answers 405, never 500, and calls no provider', async (method) => {
      const { browser, callbackUrl } = await pendingCallback(provider);
      const url = new URL(callbackUrl);
      const hop = await browser.send(method, `${url.pathname}${url.search}`, { Origin: app().t.url });
      expect(hop.status).toBe(405);
      expect(hop.headers.allow).toBe('GET');
      expect(hop.body).toMatchObject({ statusCode: 405, error: 'invalid_request' });
      expect(tokenCalls(provider)).toBe(0);
      expect(authCookiesSet(hop)).toEqual([]);
    });

    // A4: tampering and cross-provider replay.
    it('A4: a transaction cookie with one byte flipped is refused', async () => {
      const { browser, callbackUrl, txCookie } = await pendingCallback(provider);
      const raw = Buffer.from(txCookie.slice(3), 'base64url');
      raw[Math.floor(raw.length / 2)] ^= 0x01;
      browser.jar.set(DEMO_COOKIES.transaction, `v1.${raw.toString('base64url')}`);
      const before = await app().rows();
      expectRefused(await browser.callback(callbackUrl), 'invalid_state');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it('A4: a transaction cookie sent twice (cookie tossing) is refused', async () => {
      const { browser, callbackUrl, txCookie } = await pendingCallback(provider);
      const hop = await browser.callback(callbackUrl, { Cookie: `${DEMO_COOKIES.transaction}=${txCookie}; ${DEMO_COOKIES.transaction}=${txCookie}` });
      expectRefused(hop, 'cookie_conflict');
      expect(tokenCalls(provider)).toBe(0);
    });

    // A7: provider error answers.
    it('A7: error=access_denied with a script in error_description: fixed code, nothing reflected, transaction consumed', async () => {
      fakeOf(provider).scenario.authorizeError = { error: 'access_denied', error_description: '<script>alert(1)</script>' };
      const { browser, callbackUrl, txCookie } = await pendingCallback(provider);
      expect(callbackUrl).toContain('error=access_denied');
      const before = await app().rows();
      const hop = await browser.callback(callbackUrl);
      expectRefused(hop, 'access_denied');
      expect(`${hop.location}${hop.text}`).not.toMatch(/script|alert/i);
      // Consumed: the same transaction cannot be used again, even with a fresh code.
      fakeOf(provider).scenario.authorizeError = undefined;
      const retry = app().browser();
      retry.jar.set(DEMO_COOKIES.transaction, txCookie);
      expectRefused(await retry.callback(withQuery(callbackUrl, (q) => {
        q.delete('error');
        q.delete('error_description');
        q.delete('error_uri');
        q.set('code', 'fresh-code');
      })), 'invalid_state');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it('A7: error=server_error answers provider_error', async () => {
      fakeOf(provider).scenario.authorizeError = 'server_error';
      const { browser, callbackUrl } = await pendingCallback(provider);
      const before = await app().rows();
      expectRefused(await browser.callback(callbackUrl), 'provider_error');
      expect(tokenCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it('A7: an error callback without a valid transaction is invalid_state (not reflected)', async () => {
      const hop = await app().browser().callback(`${app().t.url}/auth/${provider}/callback?error=access_denied&state=x&error_description=%3Cb%3Ehi`);
      expectRefused(hop, 'invalid_state');
    });

    it('A7: a code the provider refuses (reused or expired) answers provider_error', async () => {
      const { browser, callbackUrl } = await pendingCallback(provider);
      // The code is redeemed by someone else first (the fake then revokes what it issued).
      const code = new URL(callbackUrl).searchParams.get('code')!;
      await redeemDirectly(provider, code);
      const before = await app().rows();
      expectRefused(await browser.callback(callbackUrl), 'provider_error');
      expect(profileCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    // A6: authorization-code injection.
    it("A6: the attacker's code injected with the victim's state fails PKCE at the provider; nothing is fetched", async () => {
      const attacker = await pendingCallback(provider);
      const victim = await pendingCallback(provider);
      const injected = withQuery(victim.callbackUrl, (q) => q.set('code', new URL(attacker.callbackUrl).searchParams.get('code')!));
      const before = await app().rows();
      expectRefused(await victim.browser.callback(injected), 'provider_error');
      const token = fakeOf(provider).requests.filter((r) => r.method === 'POST');
      expect(token.map((r) => r.rejected)).toEqual(['pkce_mismatch']);
      expect(profileCalls(provider)).toBe(0);
      expect(await app().rows()).toEqual(before);
    });
  });

  // A4: cross-provider.
  it.each([
    ['google', 'github'],
    ['github', 'google'],
  ] as const)('A4/A8: a transaction started for %s is refused at the %s callback', async (from, to) => {
    // The browser holds the `from` transaction; code and state come from a `to` flow (swapped cookie).
    const { browser } = await pendingCallback(from);
    const other = await pendingCallback(to, app().browser());
    const before = await app().rows();
    expectRefused(await browser.callback(other.callbackUrl), 'invalid_state');
    // The `from` callback, unchanged but sent to the `to` route.
    const again = await pendingCallback(from);
    expectRefused(await again.browser.callback(again.callbackUrl.replace(`/auth/${from}/callback`, `/auth/${to}/callback`)), 'invalid_state');
    expect(tokenCalls('google') + tokenCalls('github')).toBe(0);
    expect(await app().rows()).toEqual(before);
  });

  // A8: RFC 9207 (Google announces it through discovery in these cases).
  describe('A8: RFC 9207 issuer identification', () => {
    it('(c) the correct iss is accepted', async () => {
      app().google.scenario.issParameter = true;
      const browser = app().browser();
      const { callbackUrl, callback } = await browser.signIn('google');
      expect(new URL(callbackUrl).searchParams.get('iss')).toBe(app().google.issuer);
      expectSignedIn(callback);
    });

    it('(a) a missing iss is refused when the provider announces the parameter', async () => {
      app().google.scenario.issParameter = true;
      app().google.scenario.issOverride = null;
      const { browser, callbackUrl } = await pendingCallback('google');
      expect(new URL(callbackUrl).searchParams.has('iss')).toBe(false);
      const before = await app().rows();
      expectRefused(await browser.callback(callbackUrl), 'invalid_state');
      expect(tokenCalls('google')).toBe(0);
      expect(await app().rows()).toEqual(before);
    });

    it.each([
      ['of another configured provider', () => new URL(app().github.endpoints.authorization).origin],
      ['of an unknown issuer', () => 'https://evil.test'],
      ['with a trailing slash', () => `${app().google.issuer}/`],
    ])('(b) an iss %s is refused, announced or not', async (_name, iss) => {
      for (const announced of [true, false]) {
        app().google.scenario.issParameter = announced;
        app().google.scenario.issOverride = iss();
        const { browser, callbackUrl } = await pendingCallback('google');
        expectRefused(await browser.callback(callbackUrl), 'invalid_state');
      }
      expect(tokenCalls('google')).toBe(0);
    });

    it("(b) GitHub's callback refuses Google's issuer", async () => {
      const { browser, callbackUrl } = await pendingCallback('github');
      expectRefused(await browser.callback(`${callbackUrl}&iss=${encodeURIComponent(app().google.issuer)}`), 'invalid_state');
      expect(tokenCalls('github')).toBe(0);
    });
  });

  // Threat model I4 for this file.
  it('logged no code, state, verifier, nonce, token, cookie or client secret', () => {
    const text = logs.text;
    expect(text).toContain('refused: invalid_state');
    for (const secret of app().secrets()) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(text).not.toContain('<script>');
  });

  /** Redeems a code at the fake's token endpoint as an attacker would (wrong verifier). */
  async function redeemDirectly(provider: 'google' | 'github', code: string): Promise<void> {
    const fake = fakeOf(provider);
    const tokenUrl = provider === 'google' ? app().google.endpoints.token : app().github.endpoints.token;
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${app().t.url}/auth/${provider}/callback`, client_id: fake.clientId, client_secret: fake.clientSecret, code_verifier: 'x'.repeat(43) });
    await fetch(tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body });
    fake.requests.length = 0;
  }
});

/** A second instance of the same app (same config, database and keys) on another port. */
async function startSecondInstance(first: INestApplication): Promise<{ url: string; close(): Promise<void> }> {
  const { DEMO_CONFIG } = await import('../../src/config/demo-config.token');
  const config = first.get(DEMO_CONFIG);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = createPlatformApp(moduleRef, { logger: ['error', 'warn'], trustProxy: config.trustProxy });
  configureTestApp(app, config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
