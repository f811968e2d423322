import { Clock } from '@nest-social-auth/core';
import { googleUsers } from '@nest-social-auth/testing';
import { DEMO_COOKIES } from '../support/oauth-driver';
import { LogCapture } from './support/log-capture';
import { expectRefused, expectSignedIn } from './support/refusals';
import { SignInApp, startSignInApp, useSignInApp } from './support/sign-in-app';

/**
 * Threat model group B: Google's ID token, the token response and userinfo. Each refusal is checked
 * for its code, for no auth cookie and no user/identity/session row, and for userinfo (resp.
 * GitHub's /user) never being called with a token that did not pass.
 */
describe('sign-in: ID token, token response and userinfo (threat model B1–B9)', () => {
  const logs = new LogCapture();
  const now = () => Math.floor(Date.now() / 1000);
  const otherSecrets = new Set<string>();

  const app = useSignInApp({ logs });

  const userinfoCalls = () => app().google.requestsTo('/userinfo').length;

  /** A Google sign-in expected to be refused with `code`, before userinfo, writing nothing. */
  async function expectGoogleRefused(code: string, options: { userinfoCalled?: boolean } = {}): Promise<void> {
    const before = await app().rows();
    const { callback } = await app().browser().signIn('google');
    expectRefused(callback, code);
    if (!options.userinfoCalled) expect(userinfoCalls()).toBe(0);
    expect(await app().rows()).toEqual(before);
  }

  async function expectGoogleSignedIn(): Promise<void> {
    const { callback } = await app().browser().signIn('google');
    expectSignedIn(callback);
  }

  it('B1: an ID token signed with an unpublished key (real kid) is refused; userinfo is never called', async () => {
    app().google.scenario.idToken.signing = 'attacker-key';
    await expectGoogleRefused('invalid_id_token');
  });

  it.each([
    ['jku', () => ({ jku: `${app().google.url}/evil-jwks` })],
    ['x5u', () => ({ x5u: 'https://evil.test/cert.pem' })],
    ['jwk (the attacker key itself)', () => ({ jwk: app().google.attackerJwk })],
  ])('B7/B1: a %s header naming the attacker key is ignored (still the attacker signature → refused)', async (_name, header) => {
    app().google.scenario.idToken.signing = 'attacker-key';
    app().google.scenario.idToken.header = header();
    await expectGoogleRefused('invalid_id_token');
    expect(app().google.requests.filter((r) => r.path === '/evil-jwks')).toHaveLength(0);
  });

  it.each([
    ['alg none with an empty signature', 'none'],
    ['HS256 keyed with the RSA public key', 'hs256-with-public-key'],
    ['ES256 (not in the allowlist)', 'es256'],
    ['alg missing', 'null-alg'],
  ] as const)('B2: %s is refused', async (_name, signing) => {
    app().google.scenario.idToken.signing = signing;
    await expectGoogleRefused('invalid_id_token');
  });

  it('B2: ES256 is refused even when its key is published in the JWKS', async () => {
    app().google.scenario.idToken.signing = 'es256';
    app().google.scenario.jwks.publishEcKey = true;
    await expectGoogleRefused('invalid_id_token');
  });

  it.each([
    ['iss of another issuer', () => ({ iss: 'https://other-issuer.test' })],
    ['iss with a trailing slash', () => ({ iss: `${app().google.issuer}/` })],
    ['aud of another client', () => ({ aud: 'other-client' })],
    ['aud missing', () => ({ aud: undefined })],
    ['aud array with an extra untrusted audience', () => ({ aud: [app().google.clientId, 'evil-client'] })],
    ['azp of another client', () => ({ azp: 'evil-client' })],
  ])('B3: %s is refused', async (_name, claims) => {
    app().google.scenario.idToken.claims = claims();
    await expectGoogleRefused('invalid_id_token');
  });

  it('B3: aud as a one-element array is accepted', async () => {
    app().google.scenario.idToken.claims = { aud: [app().google.clientId] };
    await expectGoogleSignedIn();
  });

  it.each([
    ['exp two minutes ago (beyond the 60 s leeway)', () => ({ exp: now() - 120 })],
    ['exp missing', () => ({ exp: undefined })],
    ['iat missing', () => ({ iat: undefined })],
    ['iat a week old', () => ({ iat: now() - 7 * 86_400, exp: now() + 3600 })],
    ['iat five minutes in the future', () => ({ iat: now() + 300 })],
    ['nbf five minutes in the future', () => ({ nbf: now() + 300 })],
    ['exp as a string', () => ({ exp: String(now() + 3600) })],
  ])('B4: %s is refused', async (_name, claims) => {
    app().google.scenario.idToken.claims = claims();
    await expectGoogleRefused('invalid_id_token');
  });

  it.each([
    ['exp 30 s ago (within the leeway)', () => ({ exp: now() - 30 })],
    ['nbf 30 s ahead (within the leeway)', () => ({ nbf: now() + 30 })],
  ])('B4: %s is accepted', async (_name, claims) => {
    app().google.scenario.idToken.claims = claims();
    await expectGoogleSignedIn();
  });

  it.each([
    [30, true],
    [-30, true],
    [-300, true],
    [300, false],
  ])('B4: provider clock skewed by %i s: accepted = %p', async (skew, accepted) => {
    app().google.scenario.clockSkewSec = skew;
    if (accepted) await expectGoogleSignedIn();
    else await expectGoogleRefused('invalid_id_token');
  });

  it.each([
    ['a nonce of another value', () => ({ nonce: 'not-the-nonce-we-sent' })],
    ['no nonce although one was sent', () => ({ nonce: undefined })],
  ])('B5: %s is refused', async (_name, claims) => {
    app().google.scenario.idToken.claims = claims();
    await expectGoogleRefused('invalid_id_token');
  });

  it('B5: the nonce of a previous login is refused', async () => {
    await expectGoogleSignedIn();
    const [{ nonce: previous }] = app().google.authorizations;
    app().google.requests.length = 0;
    app().google.scenario.idToken.claims = { nonce: previous };
    await expectGoogleRefused('invalid_id_token');
  });

  it.each([
    ['sub missing', { sub: undefined }],
    ['sub a number', { sub: 123 }],
    ['sub of 256 characters', { sub: 'x'.repeat(256) }],
  ])('B6: %s is refused', async (_name, claims) => {
    app().google.scenario.idToken.claims = claims;
    await expectGoogleRefused('invalid_id_token');
  });

  it("B6: userinfo for another subject is refused and its values are discarded", async () => {
    app().google.scenario.userinfo.claims = { sub: 'someone-else', email: 'victim@example.com', email_verified: true };
    await expectGoogleRefused('invalid_id_token', { userinfoCalled: true });
    const rows = await app().t.dataSource.query("SELECT COUNT(*) AS n FROM auth_identities WHERE email = 'victim@example.com'");
    expect(Number(rows[0].n)).toBe(0);
  });

  it('B6: userinfo is fetched with the access token in the Authorization header only', async () => {
    await expectGoogleSignedIn();
    const [request] = app().google.requestsTo('/userinfo');
    expect(request.headers.authorization).toMatch(/^Bearer ya29\./);
    expect(request.query).toEqual({});
    expect(request.rejected).toBeUndefined();
  });

  it('B8: a discovery document whose issuer differs from the configuration refuses the provider before any redirect', async () => {
    app().google.scenario.discovery.fields = { issuer: 'https://other-issuer.test' };
    const browser = app().browser();
    const hop = await browser.start('google');
    expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: '/?error=provider_error' });
    expect(browser.jar.get(DEMO_COOKIES.transaction)).toBeUndefined();
    expect(app().google.authorizations).toHaveLength(0);
  });

  it('B8: discovery unreachable → provider_unavailable at the start', async () => {
    app().google.scenario.discovery.status = 503;
    const hop = await app().browser().start('google');
    expect(hop.location).toBe('/?error=provider_unavailable');
    expect(app().google.authorizations).toHaveLength(0);
    // The operator sees which document failed, not only the redirect's error code.
    expect(logs.text).toMatch(/discovery document http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration could not be read \(\w+/);
  });

  describe('B9: malformed token responses', () => {
    it.each([
      ['200 without access_token', () => (app().google.scenario.token.fields = { access_token: undefined }), 'provider_error'],
      ['200 {"error":"invalid_grant"}', () => (app().google.scenario.token.body = { error: 'invalid_grant' }), 'provider_error'],
      ['an HTML body', () => Object.assign(app().google.scenario.token, { body: '<html><body>Sign in</body></html>', contentType: 'text/html' }), 'provider_error'],
      ['token_type mac', () => (app().google.scenario.token.fields = { token_type: 'mac' }), 'provider_error'],
      ['expires_in as a string', () => (app().google.scenario.token.fields = { expires_in: '3599' }), 'provider_error'],
      ['no id_token although openid was requested', () => (app().google.scenario.idToken.omit = true), 'invalid_id_token'],
    ])('Google: %s is refused', async (_name, arrange, code) => {
      arrange();
      await expectGoogleRefused(code);
    });

    it.each([
      ['200 error=bad_verification_code (GitHub answers errors with 200)', () => (app().github.scenario.token.body = { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' })],
      ['200 without access_token', () => (app().github.scenario.token.fields = { access_token: undefined })],
      ['token_type mac', () => (app().github.scenario.token.fields = { token_type: 'mac' })],
      ['a form body instead of JSON', () => Object.assign(app().github.scenario.token, { body: 'access_token=gho_x&token_type=bearer', contentType: 'application/x-www-form-urlencoded' })],
    ])('GitHub: %s is refused before /user is called', async (_name, arrange) => {
      arrange();
      const before = await app().rows();
      const { callback } = await app().browser().signIn('github');
      expectRefused(callback, 'provider_error');
      expect(app().github.requestsTo('/user')).toHaveLength(0);
      expect(await app().rows()).toEqual(before);
    });
  });

  // B7 last: these rotate the fake's keys for the rest of the file.
  describe('B7: JWKS and key handling', () => {
    it('a token without kid is accepted when the JWKS holds a single key', async () => {
      app().google.scenario.idToken.header = { kid: undefined };
      await expectGoogleSignedIn();
    });

    it('a flood of unknown kids costs at most one JWKS fetch', async () => {
      for (let i = 0; i < 5; i++) {
        app().google.scenario.idToken.header = { kid: `random-${i}-${Math.random()}` };
        const { callback } = await app().browser().signIn('google');
        expectRefused(callback, 'invalid_id_token');
      }
      expect(app().google.requestsTo('/jwks').length).toBeLessThanOrEqual(1);
      expect(userinfoCalls()).toBe(0);
    });

    it('after a key rotation (unknown kid), one JWKS refetch and the sign-in succeeds', async () => {
      // Past the refetch cooldown (30 s) since the last fetch.
      const clock = app().t.app.get(Clock);
      jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + 31_000));
      await app().google.rotateKeys();
      await expectGoogleSignedIn();
      expect(app().google.requestsTo('/jwks')).toHaveLength(1);
    });

    it('a token without kid when the JWKS holds several keys: accepted or refused, never a crash', async () => {
      // Past the cache lifetime (10 min) of the set fetched at "now + 31 s" by the previous test,
      // so the two-key set is fetched, yet within the ID token's 10 min + 60 s age limit.
      const clock = app().t.app.get(Clock);
      jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + 645_000));
      await app().google.rotateKeys({ keepOld: true });
      app().google.scenario.idToken.header = { kid: undefined };
      const { callback } = await app().browser().signIn('google');
      expect(app().google.requestsTo('/jwks')).toHaveLength(1);
      expect(['/', '/?error=invalid_id_token']).toContain(callback.location);
    });
  });

  describe('hostedDomain', () => {
    let hd: SignInApp;
    beforeAll(async () => {
      hd = await startSignInApp({ GOOGLE_HOSTED_DOMAIN: 'example.org' });
      logs.verboseNestLogger();
    });
    afterEach(() => hd.reset());
    afterAll(async () => {
      for (const secret of hd.secrets()) otherSecrets.add(secret);
      await hd?.close();
    });

    it('asks Google for the domain and accepts a matching hd claim', async () => {
      hd.google.signInAs(googleUsers.dana());
      const { authorizeUrl, callback } = await hd.browser().signIn('google');
      expect(new URL(authorizeUrl).searchParams.get('hd')).toBe('example.org');
      expectSignedIn(callback);
    });

    it.each([
      ['no hd claim (a consumer account), even with an example.org email', googleUsers.alice({ email: 'alice@example.org' })],
      ['another hd', googleUsers.dana({ hd: 'evil.org' })],
    ])('refuses %s', async (_name, user) => {
      hd.google.signInAs(user);
      const before = await hd.rows();
      const { callback } = await hd.browser().signIn('google');
      expectRefused(callback, 'invalid_id_token');
      expect(hd.google.requestsTo('/userinfo')).toHaveLength(0);
      expect(await hd.rows()).toEqual(before);
    });
  });

  // Threat model I4 for this file.
  it('logged no code, state, verifier, nonce, token, ID token, cookie or client secret', () => {
    const text = logs.text;
    expect(text).toContain('refused: invalid_id_token');
    for (const secret of [...app().secrets(), ...otherSecrets]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
