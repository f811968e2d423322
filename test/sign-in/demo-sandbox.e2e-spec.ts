import { OAuthDriver } from '../support/oauth-driver';
import { createTestApp, TestApp } from '../support/test-app';
import { expectRefused, expectSignedIn } from './support/refusals';

/**
 * The demo as `npm start` runs it on a fresh machine: no provider credentials, so the sandbox
 * serves the testing kit's fake Google and GitHub with consent pages, and a person can click a
 * button and land signed in.
 */
describe('demo: home page and sandbox providers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_SANDBOX: 'true', AUTH_RATE_LIMIT_START: '100000', AUTH_RATE_LIMIT_CALLBACK: '100000' });
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Start → consent page → Allow/Deny → back at the callback. */
  async function throughConsent(browser: OAuthDriver, provider: 'google' | 'github', decision: 'allow' | 'deny') {
    const start = await browser.start(provider);
    expect(start.status).toBe(302);
    const consent = await browser.get(start.location!);
    expect(consent.status).toBe(200);
    expect(consent.text).toMatch(/<h1>Sign in to Social sign-in demo with Fake (Google|GitHub)<\/h1>/);
    // Issue 14 finding 4: a consent page is never framed, sniffed or referred from.
    expect(consent.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(consent.headers['x-frame-options']).toBe('DENY');
    expect(consent.headers['x-content-type-options']).toBe('nosniff');
    expect(consent.headers['referrer-policy']).toBe('no-referrer');
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(consent.text)![1], start.location!);
    const transaction = /name="transaction" value="([^"]+)"/.exec(consent.text)![1];
    const decided = await fetch(action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction, decision }),
      redirect: 'manual',
    });
    expect(decided.status).toBe(303);
    return browser.callback(decided.headers.get('location')!);
  }

  it('the page offers "Sign in with Google" and "Sign in with GitHub" and notes the sandbox', async () => {
    const res = await t.http.get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<a class="button" href="/auth/google">Sign in with Google</a>');
    expect(res.text).toContain('<a class="button" href="/auth/github">Sign in with GitHub</a>');
    expect(res.text).toContain('Sandbox');
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers['content-security-policy'])![1];
    expect(res.text).toContain(`<script nonce="${nonce}">`);
  });

  it.each(['google', 'github'] as const)('a person allows on the %s consent page and lands signed in', async (provider) => {
    const browser = new OAuthDriver(t.url);
    const callback = await throughConsent(browser, provider, 'allow');
    expectSignedIn(callback, '/');
    const me = await browser.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ displayName: provider === 'google' ? 'Alice Example' : 'Octo Cat', identities: [{ provider }] });
  });

  it('a person denies: back on the page with the error in words', async () => {
    const browser = new OAuthDriver(t.url);
    const callback = await throughConsent(browser, 'google', 'deny');
    expectRefused(callback, 'access_denied');
    const page = await browser.get(callback.location!);
    expect(page.text).toMatch(/<div class="alert" role="alert"><p>Sign-in was cancelled at the provider\./);
  });

  it('the sandbox only accepts this app\'s callback URL (registered redirect URI)', async () => {
    const browser = new OAuthDriver(t.url);
    const start = await browser.start('google');
    const tampered = new URL(start.location!);
    tampered.searchParams.set('redirect_uri', 'https://evil.test/auth/google/callback');
    const answer = await browser.get(tampered.href);
    expect(answer.status).toBe(400);
    expect(answer.location).toBeUndefined();
  });

  it('stops the fake providers when the app shuts down', async () => {
    const { origin } = new URL((await new OAuthDriver(t.url).start('google')).location!);
    await fetch(`${origin}/.well-known/openid-configuration`).then((r) => expect(r.status).toBe(200));
    await t.close();
    await expect(fetch(`${origin}/.well-known/openid-configuration`)).rejects.toThrow();
    t = undefined as unknown as TestApp;
  });
});
