import { FAKE_MICROSOFT_TENANTS, FakeMicrosoft, googleUsers, microsoftUsers } from '@nest-social-auth/testing';
import { OAuthDriver } from '../support/oauth-driver';
import { expectRefused, expectSignedIn } from '../sign-in/support/refusals';
import { startSignInApp, type SignInApp } from '../sign-in/support/sign-in-app';

/** The demo's MICROSOFT_* variables for a fake Microsoft (tenant `common`). */
export function fakeMicrosoftEnv(microsoft: FakeMicrosoft, extra: Record<string, string> = {}): Record<string, string> {
  const o = microsoft.providerOptions('common');
  return {
    MICROSOFT_CLIENT_ID: o.clientId,
    MICROSOFT_CLIENT_SECRET: o.clientSecret,
    MICROSOFT_TENANT: o.tenant,
    MICROSOFT_ISSUER_TEMPLATE: o.issuerTemplate,
    MICROSOFT_AUTHORIZATION_URL: o.authorizationURL,
    MICROSOFT_TOKEN_URL: o.tokenURL,
    MICROSOFT_JWKS_URL: o.jwksURL,
    MICROSOFT_DISCOVERY_URL: o.discoveryURL,
    ...extra,
  };
}

/**
 * Sign in with Microsoft, multi-tenant (`common`, allowedTenants contoso + fabrikam), against the
 * kit's fake Microsoft that serves every tenant from one `{tenantid}` issuer template: the happy
 * path, the threat-model cases that apply (A1 state, A2 replay, A5 PKCE, B1–B6 ID token, B10
 * issuer template, B11 tenants) and the email rule (C10: `email` links only with `xms_edov`).
 */
describe('Sign in with Microsoft, multi-tenant (threat model B10, B11, C10)', () => {
  let app: SignInApp;
  let microsoft: FakeMicrosoft;
  const { contoso, fabrikam, consumers } = FAKE_MICROSOFT_TENANTS;

  beforeAll(async () => {
    microsoft = await FakeMicrosoft.start();
    app = await startSignInApp(
      fakeMicrosoftEnv(microsoft, { MICROSOFT_ALLOWED_TENANTS: `${contoso},${fabrikam}`, MICROSOFT_TRUST_EMAIL: 'true', AUTH_HTTP_TIMEOUT_MS: '800' }),
    );
  });
  afterEach(() => {
    app.reset();
    microsoft.reset();
  });
  afterAll(async () => {
    await app?.close();
    await microsoft?.stop();
  });

  const tokenCalls = () => microsoft.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/token')).length;
  // Subjects are test constants (GUIDs, digits): inlined, so one query runs on every dialect.
  const identity = async (subject: string, provider = 'microsoft') =>
    (await app.t.dataSource.query(`SELECT user_id, issuer FROM auth_identities WHERE provider = '${provider}' AND subject = '${subject}'`))[0] as { user_id: string; issuer: string } | undefined;

  it('signs a work account in through common; the identity is keyed on tid:oid with its tenant issuer', async () => {
    const user = microsoftUsers.adele();
    microsoft.signInAs(user);
    const { authorizeUrl, callback } = await app.browser().signIn('microsoft', { returnTo: '/profile' });
    expectSignedIn(callback, '/profile');
    const authorize = new URL(authorizeUrl);
    expect(authorize.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await identity(`${user.tid}:${user.oid}`);
    expect(row?.issuer).toBe(microsoft.issuerFor(contoso));
  });

  it('B11: refuses a tenant outside allowedTenants (a personal account) before anything is written', async () => {
    microsoft.signInAs(microsoftUsers.pat());
    const before = await app.rows();
    const { callback } = await app.browser().signIn('microsoft');
    expectRefused(callback, 'invalid_id_token');
    expect(await app.rows()).toEqual(before);
  });

  describe('the issuer is the template filled with the token’s own tid (B10)', () => {
    it.each([
      ['another allowed tenant’s issuer (tenant mix-up)', () => ({ iss: microsoft.issuerFor(fabrikam) })],
      ['the unfilled template', () => ({ iss: microsoft.issuerTemplate })],
      ['a tid of another tenant under the user’s issuer', () => ({ tid: fabrikam })],
      ['no tid', () => ({ tid: undefined })],
      ['the consumers issuer with a work tid', () => ({ iss: microsoft.issuerFor(consumers) })],
    ])('refuses %s', async (_name, patch) => {
      microsoft.scenario.idToken.claims = patch();
      const { callback } = await app.browser().signIn('microsoft');
      expectRefused(callback, 'invalid_id_token');
    });
  });

  it('B8: refuses to start when discovery names another issuer template', async () => {
    microsoft.scenario.discovery.fields = { issuer: 'https://login.evil.example/{tenantid}/v2.0' };
    const start = await app.browser().start('microsoft');
    expect({ status: start.status, location: start.location }).toEqual({ status: 302, location: '/?error=provider_error' });
    expect(microsoft.authorizations).toHaveLength(0);
  });

  describe('ID token (B1–B6)', () => {
    it.each([
      ['a bad signature', () => void (microsoft.scenario.idToken.signing = 'attacker-key')],
      ['alg none', () => void (microsoft.scenario.idToken.signing = 'none')],
      ['a wrong aud', () => void (microsoft.scenario.idToken.claims = { aud: 'another-app' })],
      ['an extra aud', () => void (microsoft.scenario.idToken.claims = { aud: [microsoft.clientId, 'another-app'] })],
      ['an expired token', () => void (microsoft.scenario.clockSkewSec = -7200)],
      ['a wrong nonce', () => void (microsoft.scenario.idToken.claims = { nonce: 'nonce-of-another-flow' })],
      ['no nonce', () => void (microsoft.scenario.idToken.claims = { nonce: undefined })],
      ['no oid', () => void (microsoft.scenario.idToken.claims = { oid: undefined })],
      ['no id_token', () => void (microsoft.scenario.idToken.omit = true)],
    ])('refuses %s', async (_name, arrange) => {
      arrange();
      const { callback } = await app.browser().signIn('microsoft');
      expectRefused(callback, 'invalid_id_token');
    });

    it('answers provider_unavailable when the token endpoint fails with 500', async () => {
      microsoft.scenario.token.status = 500;
      const { callback } = await app.browser().signIn('microsoft');
      expectRefused(callback, 'provider_unavailable');
    });

    it('answers provider_unavailable when the token endpoint hangs', async () => {
      microsoft.scenario.token.delayMs = 5000;
      const { callback } = await app.browser().signIn('microsoft');
      expectRefused(callback, 'provider_unavailable');
    });
  });

  describe('callback (A1, A2, A5)', () => {
    it('refuses a tampered state without calling the token endpoint', async () => {
      const browser = app.browser();
      const start = await browser.start('microsoft');
      const callbackUrl = new URL(await browser.authorize(start.location!));
      callbackUrl.searchParams.set('state', 'x'.repeat(43));
      expectRefused(await browser.callback(callbackUrl.href), 'invalid_state');
      expect(tokenCalls()).toBe(0);
    });

    it('refuses a replayed callback', async () => {
      const browser = app.browser();
      const start = await browser.start('microsoft');
      const transaction = browser.jar.clone();
      const callbackUrl = await browser.authorize(start.location!);
      expectSignedIn(await browser.callback(callbackUrl));
      const replay = new OAuthDriver(app.t.url, { jar: transaction });
      expectRefused(await replay.callback(callbackUrl), 'invalid_state');
      expect(tokenCalls()).toBe(1);
    });

    it('refuses a code injected from another flow (PKCE: the fake refuses the victim’s verifier)', async () => {
      const attacker = app.browser();
      const attackerCallback = new URL(await attacker.authorize((await attacker.start('microsoft')).location!));
      const victim = app.browser();
      const victimCallback = new URL(await victim.authorize((await victim.start('microsoft')).location!));
      victimCallback.searchParams.set('code', attackerCallback.searchParams.get('code')!);
      expectRefused(await victim.callback(victimCallback.href), 'provider_error');
      expect(microsoft.requests.find((r) => r.path.endsWith('/token'))?.rejected).toBe('pkce_mismatch');
    });

    it('refuses a transaction started for Google at Microsoft’s callback (provider mix-up)', async () => {
      const browser = app.browser();
      await browser.start('google');
      const msBrowser = app.browser();
      const callbackUrl = await msBrowser.authorize((await msBrowser.start('microsoft')).location!);
      expectRefused(await browser.callback(callbackUrl), 'invalid_state');
    });

    it('A8: refuses any RFC 9207 iss on a multi-tenant callback (no single issuer is bound)', async () => {
      const browser = app.browser();
      const callbackUrl = new URL(await browser.authorize((await browser.start('microsoft')).location!));
      callbackUrl.searchParams.set('iss', microsoft.issuerFor(contoso));
      expectRefused(await browser.callback(callbackUrl.href), 'invalid_state');
      expect(tokenCalls()).toBe(0);
    });

    it('refuses a POST to Microsoft’s callback (only Apple’s callback takes form_post)', async () => {
      const hop = await app.browser().send('POST', '/auth/microsoft/callback');
      expect(hop.status).toBe(405);
      expect(hop.headers.allow).toBe('GET');
    });
  });

  describe('email linking (C10: Microsoft’s email is not verified unless xms_edov)', () => {
    it('never links by an email the tenant set without xms_edov (nOAuth): a separate account', async () => {
      const google = app.browser();
      app.google.signInAs(googleUsers.alice());
      expectSignedIn((await google.signIn('google')).callback);
      const megan = microsoftUsers.megan();
      expect(megan.email).toBe('alice@example.com');
      microsoft.signInAs(megan);
      expectSignedIn((await app.browser().signIn('microsoft')).callback);
      const aliceRow = (await identity(googleUsers.alice().sub, 'google'))!;
      const meganRow = await identity(`${megan.tid}:${megan.oid}`);
      expect(meganRow?.user_id).toBeDefined();
      expect(meganRow?.user_id).not.toBe(aliceRow.user_id);
    });

    it('links by an email whose domain owner verified it (xms_edov) when trustEmail is on', async () => {
      app.google.signInAs(googleUsers.alice({ sub: '100000000000000000777', email: 'adele.linked@contoso.example', name: 'Adele at Google' }));
      expectSignedIn((await app.browser().signIn('google')).callback);
      const adele = microsoftUsers.adele({ oid: 'ade1e000-0000-4000-8000-0000000000ed', email: 'adele.linked@contoso.example' });
      microsoft.signInAs(adele);
      expectSignedIn((await app.browser().signIn('microsoft')).callback);
      const googleRow = (await identity('100000000000000000777', 'google'))!;
      expect((await identity(`${adele.tid}:${adele.oid}`))?.user_id).toBe(googleRow.user_id);
    });

    it('does not link the same address when xms_edov is the string "false"', async () => {
      app.google.signInAs(googleUsers.alice({ sub: '100000000000000000778', email: 'edov-false@contoso.example' }));
      expectSignedIn((await app.browser().signIn('google')).callback);
      const adele = microsoftUsers.adele({ oid: 'ade1e000-0000-4000-8000-0000000000ef', email: 'edov-false@contoso.example', xms_edov: 'false' });
      microsoft.signInAs(adele);
      expectSignedIn((await app.browser().signIn('microsoft')).callback);
      const googleRow = (await identity('100000000000000000778', 'google'))!;
      expect((await identity(`${adele.tid}:${adele.oid}`))?.user_id).not.toBe(googleRow.user_id);
    });
  });
});

describe('Sign in with Microsoft, one tenant (threat model B10, B11)', () => {
  let app: SignInApp;
  let microsoft: FakeMicrosoft;
  const { contoso, fabrikam } = FAKE_MICROSOFT_TENANTS;

  beforeAll(async () => {
    microsoft = await FakeMicrosoft.start();
    const o = microsoft.providerOptions(contoso);
    app = await startSignInApp({
      ...fakeMicrosoftEnv(microsoft),
      MICROSOFT_TENANT: contoso,
      MICROSOFT_AUTHORIZATION_URL: o.authorizationURL,
      MICROSOFT_TOKEN_URL: o.tokenURL,
      MICROSOFT_JWKS_URL: o.jwksURL,
      MICROSOFT_DISCOVERY_URL: o.discoveryURL,
    });
  });
  afterEach(() => {
    app.reset();
    microsoft.reset();
  });
  afterAll(async () => {
    await app?.close();
    await microsoft?.stop();
  });

  it('signs in a user of the tenant (discovery announces the filled issuer)', async () => {
    microsoft.signInAs(microsoftUsers.adele());
    const { authorizeUrl, callback } = await app.browser().signIn('microsoft');
    expect(new URL(authorizeUrl).pathname).toBe(`/${contoso}/oauth2/v2.0/authorize`);
    expectSignedIn(callback);
  });

  it('B11: refuses a user of another tenant, even with a consistent iss and tid', async () => {
    microsoft.signInAs(microsoftUsers.megan());
    expectRefused((await app.browser().signIn('microsoft')).callback, 'invalid_id_token');
  });

  it('A8: refuses an RFC 9207 iss of another tenant on the callback, before the token endpoint', async () => {
    const browser = app.browser();
    const callbackUrl = new URL(await browser.authorize((await browser.start('microsoft')).location!));
    callbackUrl.searchParams.set('iss', microsoft.issuerFor(fabrikam));
    expectRefused(await browser.callback(callbackUrl.href), 'invalid_state');
    expect(microsoft.requests.filter((r) => r.path.endsWith('/token'))).toHaveLength(0);
  });
});
