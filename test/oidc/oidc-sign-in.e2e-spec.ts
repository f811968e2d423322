import { ExternalIdentity } from '@nest-social-auth/core';
import { OAuthDriver } from '../support/oauth-driver';
import { startOidcWorld, type OidcWorld } from './support/oidc-fixture';

describe('generic OpenID providers against oidc-provider (in-process)', () => {
  let w: OidcWorld;
  beforeAll(async () => {
    w = await startOidcWorld();
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  async function signIn(provider: 'keycloak' | 'gitlab', browser = new OAuthDriver(w.t.url)) {
    const op = provider === 'keycloak' ? w.keycloak : w.gitlab;
    const start = await browser.start(provider);
    expect(start.status).toBe(302);
    const callbackUrl = await op.authorize(start.location!);
    const callback = await browser.callback(callbackUrl);
    return { browser, start, callbackUrl, callback };
  }

  it('lists both providers next to the built-ins', async () => {
    const res = await w.t.http.get('/auth/providers');
    expect(res.body).toEqual(
      expect.arrayContaining([
        { id: 'keycloak', name: 'Keycloak', loginUrl: '/auth/keycloak' },
        { id: 'gitlab', name: 'GitLab', loginUrl: '/auth/gitlab' },
      ]),
    );
  });

  it('signs in through the discovered endpoints with PKCE S256, nonce and RFC 9207 iss', async () => {
    w.keycloak.account = { sub: 'kc-alice', email: 'alice@example.test', email_verified: true, name: 'Alice' };
    const { start, callbackUrl, callback, browser } = await signIn('keycloak');
    const authorize = new URL(start.location!);
    const discovered = await fetch(`${w.keycloak.issuer}/.well-known/openid-configuration`).then((r) => r.json() as Promise<Record<string, string>>);
    expect(discovered.issuer).toBe(w.keycloak.issuer);
    expect(authorize.origin + authorize.pathname).toBe(discovered.authorization_endpoint);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('scope')).toBe('openid email profile');
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(w.keycloak.issuer);
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/');
    const me = await w.t.http.get('/auth/me').set('Authorization', `Bearer ${browser.accessToken}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ displayName: 'Alice', identities: [{ provider: 'keycloak' }] });
    const row = await w.t.dataSource.getRepository(ExternalIdentity).findOneByOrFail({ provider: 'keycloak', subject: 'kc-alice' });
    expect(row.issuer).toBe(w.keycloak.issuer);
  });

  it('keys identities by (provider, subject): the same sub at two issuers is two accounts, a second sign-in is the same one', async () => {
    w.keycloak.account = { sub: 'shared-sub', name: 'At Keycloak' };
    w.gitlab.account = { sub: 'shared-sub', name: 'At GitLab' };
    const first = await signIn('keycloak');
    const second = await signIn('gitlab');
    const again = await signIn('keycloak');
    const ids = await Promise.all(
      [first, second, again].map(async ({ browser }) => (await w.t.http.get('/auth/me').set('Authorization', `Bearer ${browser.accessToken}`)).body.id as string),
    );
    expect(ids[0]).toBeDefined();
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[2]).toBe(ids[0]);
    const rows = await w.t.dataSource.getRepository(ExternalIdentity).findBy({ subject: 'shared-sub' });
    expect(rows.map((r) => [r.provider, r.issuer]).sort()).toEqual([
      ['gitlab', w.gitlab.issuer],
      ['keycloak', w.keycloak.issuer],
    ]);
  });

  // Issue 14 test gap: readEmailVerified of generic providers must not read the string "false"
  // (or any other non-true value) as verified; Google's copy of the rule is covered elsewhere.
  it.each([
    ['the string "false"', 'false'],
    ['the string "no"', 'no'],
    ['the number 1', 1],
  ])('email_verified as %s is unverified through the whole sign-in: stored unverified, never linked (C1)', async (_name, value) => {
    const tag = `${String(value)}-${Date.now()}`;
    w.keycloak.account = { sub: `kc-owner-${tag}`, email: `owner-${tag}@example.test`, email_verified: true };
    const owner = await signIn('keycloak');
    const ownerId = (await w.t.http.get('/auth/me').set('Authorization', `Bearer ${owner.browser.accessToken}`)).body.id as string;
    w.gitlab.account = { sub: `gl-claimer-${tag}`, email: `owner-${tag}@example.test`, email_verified: value as never };
    const { callback, browser } = await signIn('gitlab');
    const row = await w.t.dataSource.getRepository(ExternalIdentity).findOneBy({ provider: 'gitlab', subject: `gl-claimer-${tag}` });
    // An unverified email plays no part in linking: a new account of its own, with the email unverified.
    expect(callback.location).toBe('/');
    expect(row).toMatchObject({ email: `owner-${tag}@example.test`, emailVerified: false });
    const me = await w.t.http.get('/auth/me').set('Authorization', `Bearer ${browser.accessToken}`);
    expect(me.body.id).not.toBe(ownerId);
    expect(me.body.emailVerified).toBe(false);
  });

  it('never links by an unverified email (C1 through a generic provider)', async () => {
    w.keycloak.account = { sub: 'kc-victim', email: 'victim@example.test', email_verified: true };
    await signIn('keycloak');
    w.gitlab.account = { sub: 'gl-attacker', email: 'victim@example.test', email_verified: false };
    const { callback, browser } = await signIn('gitlab');
    if (callback.location === '/') {
      const me = await w.t.http.get('/auth/me').set('Authorization', `Bearer ${browser.accessToken}`);
      expect(me.body.identities).toEqual([expect.objectContaining({ provider: 'gitlab' })]);
    } else {
      expect(callback.location).toBe('/?error=account_exists');
    }
  });
});
