import { FakeApple, appleUsers, googleUsers } from '@nest-social-auth/testing';
import request from 'supertest';
import { OAuthDriver, type Hop } from '../support/oauth-driver';
import { authCookiesSet, expectRefused, expectSignedIn } from '../sign-in/support/refusals';
import { LogCapture } from '../sign-in/support/log-capture';
import { startSignInApp, type SignInApp } from '../sign-in/support/sign-in-app';

/** The demo's APPLE_* variables for a fake Apple. */
export function fakeAppleEnv(apple: FakeApple, extra: Record<string, string> = {}): Record<string, string> {
  const o = apple.providerOptions();
  return {
    APPLE_CLIENT_ID: o.clientId,
    APPLE_TEAM_ID: o.teamId,
    APPLE_KEY_ID: o.keyId,
    APPLE_PRIVATE_KEY: o.privateKey,
    APPLE_ISSUER: o.issuer,
    APPLE_AUTHORIZATION_URL: o.authorizationURL,
    APPLE_TOKEN_URL: o.tokenURL,
    APPLE_JWKS_URL: o.jwksURL,
    ...extra,
  };
}

/** The action and hidden fields of the (only) form of an HTML page. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const unescape = (v: string) => v.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))).replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in: ${html.slice(0, 200)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescape(m[1])] = unescape(m[2]);
  return { action: unescape(action), fields };
}

/**
 * A form POST as a browser sends it: with the jar's cookies only when `sameSite` (the relay page's
 * re-post); Apple's own POST is cross-site, so a `SameSite=Lax` cookie does not go with it.
 */
export async function postForm(browser: OAuthDriver, url: string, fields: Record<string, string>, sameSite: boolean): Promise<Hop> {
  const target = new URL(url, browser.appUrl);
  let req = request(target.origin).post(`${target.pathname}${target.search}`).redirects(0).type('form').send(fields);
  const cookie = sameSite ? browser.jar.header(target.pathname) : '';
  if (cookie) req = req.set('Cookie', cookie);
  const res = await req.ok(() => true);
  const raw = res.headers['set-cookie'] as unknown;
  const setCookies = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  if (sameSite) browser.jar.store(setCookies);
  return { status: res.status, location: res.headers.location, setCookies, headers: res.headers, body: res.body, text: res.text };
}

/**
 * Sign in with Apple against the kit's fake Apple (form_post, ES256 client secret, string booleans,
 * the name posted once), through the demo: the relay of the cross-site form post (J1, J2, J3), the attack
 * cases of groups A and B that apply, and the private-relay linking rule (C11).
 */
describe('Sign in with Apple (threat model J1–J4, C11)', () => {
  let app: SignInApp;
  let apple: FakeApple;
  const logs = new LogCapture();
  /** Every client secret, code, verifier, state and nonce this file's flows used (for J4). */
  const secrets = new Set<string>();

  beforeAll(async () => {
    logs.start();
    apple = await FakeApple.start();
    app = await startSignInApp(fakeAppleEnv(apple, { APPLE_TRUST_EMAIL: 'true', AUTH_HTTP_TIMEOUT_MS: '800' }));
    logs.verboseNestLogger();
  });
  afterEach(() => {
    for (const r of apple.requests) {
      for (const key of ['client_secret', 'code', 'code_verifier']) {
        const value = (r.body as Record<string, unknown> | undefined)?.[key];
        if (typeof value === 'string') secrets.add(value);
      }
    }
    for (const a of apple.authorizations) for (const v of [a.state, a.nonce]) if (v) secrets.add(v);
    app.reset();
    apple.reset();
  });
  afterAll(async () => {
    await app?.close();
    await apple?.stop();
    logs.stop();
  });

  const tokenCalls = () => apple.requests.filter((r) => r.path === '/auth/token').length;
  const identity = async (subject: string, provider = 'apple') =>
    (await app.t.dataSource.query(`SELECT user_id, display_name, email, email_verified FROM auth_identities WHERE provider = '${provider}' AND subject = '${subject}'`))[0] as
      | { user_id: string; display_name: string | null; email: string | null; email_verified: boolean | number }
      | undefined;

  /** start → Apple's form page → Apple's cross-site POST (answered by the relay page). */
  async function toRelay(browser = app.browser(), tamper: (fields: Record<string, string>) => void = () => {}) {
    const start = await browser.start('apple');
    expect(start.status).toBe(302);
    const applePage = await browser.get(start.location!);
    expect(applePage.status).toBe(200);
    const posted = formOf(applePage.text);
    tamper(posted.fields);
    const relay = await postForm(browser, posted.action, posted.fields, false);
    return { browser, start, posted, relay };
  }

  /** The whole sign-in, the relay page's re-post included. */
  async function signIn(browser = app.browser(), tamper?: (fields: Record<string, string>) => void) {
    const flow = await toRelay(browser, tamper);
    expect(flow.relay.status).toBe(200);
    const form = formOf(flow.relay.text);
    const callback = await postForm(browser, form.action, form.fields, true);
    return { ...flow, form, callback };
  }

  describe('happy path', () => {
    it('signs in through the relay: Apple’s POST gets a same-origin page, its re-post finishes the flow', async () => {
      const { start, posted, relay, form, callback } = await signIn();
      const authorize = new URL(start.location!);
      expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ response_mode: 'form_post', code_challenge_method: 'S256', scope: 'name email' });
      expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(posted.action).toBe(`${app.t.url}/auth/apple/callback`);
      // The cross-site POST: a page, no cookie touched, nothing sent to Apple.
      expect(relay.setCookies).toEqual([]);
      expect(relay.headers['content-type']).toMatch(/^text\/html/);
      expect(relay.headers['cache-control']).toBe('no-store');
      expect(relay.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(relay.headers['x-frame-options']).toBe('DENY');
      expect(form).toEqual({ action: `${app.t.url}/auth/apple/callback`, fields: { ...posted.fields, sa_relay: '1' } });
      expectSignedIn(callback);
      // The client secret was the module's ES256 JWT, and the fake accepted it.
      const token = apple.requests.find((r) => r.path === '/auth/token')!;
      expect(token.rejected).toBeUndefined();
      expect((token.body as Record<string, string>).client_secret.split('.')).toHaveLength(3);
    });

    it('keeps the name posted on the first authorization; a later sign-in without it keeps it too', async () => {
      const jane = appleUsers.jane({ sub: '001234.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0001', email: 'jane.first@example.com' });
      apple.signInAs(jane);
      const first = await signIn();
      expect(JSON.parse(first.posted.fields.user)).toEqual({ name: { firstName: 'Jane', lastName: 'Appleseed' }, email: 'jane.first@example.com' });
      expectSignedIn(first.callback);
      expect((await identity(jane.sub))?.display_name).toBe('Jane Appleseed');
      const second = await signIn();
      expect(second.posted.fields.user).toBeUndefined();
      expectSignedIn(second.callback);
      expect((await identity(jane.sub))?.display_name).toBe('Jane Appleseed');
    });

    it('connects Apple to a signed-in account through the relay (link flow)', async () => {
      const browser = app.browser();
      app.google.signInAs(googleUsers.alice({ sub: '100000000000000000902', email: 'linker@example.com' }));
      expectSignedIn((await browser.signIn('google')).callback);
      const jane = appleUsers.jane({ sub: '001234.44444444444444444444444444444444.0004', email: 'other-address@example.com' });
      apple.signInAs(jane);
      const start = await browser.start('apple', { link: true });
      expect(start.status).toBe(302);
      const posted = formOf((await browser.get(start.location!)).text);
      const relay = formOf((await postForm(browser, posted.action, posted.fields, false)).text);
      const callback = await postForm(browser, relay.action, relay.fields, true);
      expect({ status: callback.status, location: callback.location }).toEqual({ status: 302, location: '/' });
      expect((await identity(jane.sub))?.user_id).toBe((await identity('100000000000000000902', 'google'))?.user_id);
    });

    it('reads email_verified "false" as not verified', async () => {
      const user = appleUsers.unverified();
      apple.signInAs(user);
      expectSignedIn((await signIn()).callback);
      expect(Boolean((await identity(user.sub))?.email_verified)).toBe(false);
    });

    it('maps Apple’s user_cancelled_authorize to access_denied', async () => {
      apple.scenario.authorizeError = 'user_cancelled_authorize';
      expectRefused((await signIn()).callback, 'access_denied');
      expect(tokenCalls()).toBe(0);
    });
  });

  describe('the form_post callback (J1) and group A', () => {
    it('J1: refuses Apple’s POST with the relay marker but no cookie (a cross-site POST cannot skip the relay)', async () => {
      const { posted } = await toRelay();
      const hop = await postForm(app.browser(), posted.action, { ...posted.fields, sa_relay: '1' }, false);
      expectRefused(hop, 'invalid_state');
      expect(tokenCalls()).toBe(0);
    });

    it('J1/A1: refuses login CSRF: the attacker’s code and state relayed into the victim’s browser', async () => {
      const attacker = await toRelay();
      const victim = app.browser();
      await victim.start('apple');
      const form = formOf(attacker.relay.text);
      expectRefused(await postForm(victim, form.action, form.fields, true), 'invalid_state');
      expect(tokenCalls()).toBe(0);
    });

    it('refuses a replayed relay post (the transaction is single-use)', async () => {
      const browser = app.browser();
      const { relay } = await toRelay(browser);
      const copy = new OAuthDriver(app.t.url, { jar: browser.jar.clone() });
      const form = formOf(relay.text);
      expectSignedIn(await postForm(browser, form.action, form.fields, true));
      expectRefused(await postForm(copy, form.action, form.fields, true), 'invalid_state');
      expect(tokenCalls()).toBe(1);
    });

    it('refuses a tampered state', async () => {
      const { callback } = await signIn(undefined, (f) => void (f.state = 'x'.repeat(43)));
      expectRefused(callback, 'invalid_state');
      expect(tokenCalls()).toBe(0);
    });

    it('refuses an id_token injected into the post (no implicit flow) before any page is served', async () => {
      const { relay } = await toRelay(undefined, (f) => void (f.id_token = 'a.b.c'));
      expect({ status: relay.status, location: relay.location, setCookies: relay.setCookies }).toEqual({ status: 302, location: '/?error=invalid_request', setCookies: [] });
    });

    it('J2: escapes posted values on the relay page', async () => {
      const { relay } = await toRelay(undefined, (f) => void (f.user = '{"name":{"firstName":"\\"><script>alert(1)</script>"}}'));
      expect(relay.status).toBe(200);
      expect(relay.text).not.toContain('<script>alert(1)');
      expect(relay.text.match(/<script>/g)).toHaveLength(1);
    });

    it('refuses a transaction started for Google at Apple’s callback (mix-up)', async () => {
      const browser = app.browser();
      await browser.start('google');
      const { relay } = await toRelay();
      const form = formOf(relay.text);
      expectRefused(await postForm(browser, form.action, form.fields, true), 'invalid_state');
    });

    it('answers 405 with Allow: GET, POST to another method at Apple’s callback', async () => {
      const hop = await app.browser().send('PUT', '/auth/apple/callback');
      expect(hop.status).toBe(405);
      expect(hop.headers.allow).toBe('GET, POST');
    });

    it.each(['google', 'github'])('J3: still refuses a POST to %s’s callback (405)', async (provider) => {
      const hop = await postForm(app.browser(), `/auth/${provider}/callback`, { state: 's', code: 'c', sa_relay: '1' }, true);
      expect(hop.status).toBe(405);
      expect(hop.headers.allow).toBe('GET');
      expect(authCookiesSet(hop)).toEqual([]);
    });
  });

  describe('ID token and token endpoint (group B)', () => {
    it.each([
      ['a bad signature', () => void (apple.scenario.idToken.signing = 'attacker-key')],
      ['a wrong aud', () => void (apple.scenario.idToken.claims = { aud: 'com.example.other' })],
      ['another issuer', () => void (apple.scenario.idToken.claims = { iss: 'https://appleid.apple.com.evil' })],
      ['an expired token', () => void (apple.scenario.clockSkewSec = -7200)],
      ['a wrong nonce', () => void (apple.scenario.idToken.claims = { nonce: 'another-flow' })],
      ['no id_token', () => void (apple.scenario.idToken.omit = true)],
    ])('refuses %s', async (_name, arrange) => {
      arrange();
      expectRefused((await signIn()).callback, 'invalid_id_token');
    });

    it.each([
      ['fails with 500', () => void (apple.scenario.token.status = 500)],
      ['hangs', () => void (apple.scenario.token.delayMs = 5000)],
    ])('answers provider_unavailable when the token endpoint %s', async (_name, arrange) => {
      arrange();
      expectRefused((await signIn()).callback, 'provider_unavailable');
    });
  });

  describe('private-relay emails (C11)', () => {
    it('never links a private-relay address to an existing account by default, even with trustEmail', async () => {
      const first = appleUsers.relay({ sub: '001234.11111111111111111111111111111111.0001' });
      apple.signInAs(first);
      expectSignedIn((await signIn()).callback);
      apple.signInAs(appleUsers.relay({ sub: '001234.22222222222222222222222222222222.0002' }));
      expectRefused((await signIn()).callback, 'account_exists');
    });

    it('links the same way for a real address (control: trustEmail is on)', async () => {
      const email = 'jane.linked@example.com';
      app.google.signInAs(googleUsers.alice({ sub: '100000000000000000901', email }));
      expectSignedIn((await app.browser().signIn('google')).callback);
      const jane = appleUsers.jane({ sub: '001234.33333333333333333333333333333333.0003', email });
      apple.signInAs(jane);
      expectSignedIn((await signIn()).callback);
      expect((await identity(jane.sub))?.user_id).toBe((await identity('100000000000000000901', 'google'))?.user_id);
    });
  });

  it('J4: logged no client secret, private key, code, state, nonce or token', () => {
    const text = logs.text;
    expect(text).toContain('sign-in callback via apple refused');
    expect([...secrets].filter((v) => v.length >= 8).length).toBeGreaterThan(20);
    for (const secret of secrets) if (secret.length >= 8) expect(text).not.toContain(secret);
    const keyBody = apple.providerOptions().privateKey.split('\n')[1];
    expect(text).not.toContain(keyBody);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
