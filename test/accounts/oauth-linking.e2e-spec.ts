import { AuthEvent, AuthSession, ExternalIdentity, SignInFailedEvent, UserAccount } from '@nest-social-auth/core';
import { FakeGitHubUser, FakeGoogleUser, githubUsers, googleUsers } from '@nest-social-auth/testing';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntitySubscriberInterface } from 'typeorm';
import { DEMO_COOKIES, Hop, OAuthDriver } from '../support/oauth-driver';
import { installIdentityInsertFault } from './support/database-fault';
import { AccountsApp, counts, identitiesOf, localAccount, setPolicy, startAccountsApp } from './support/accounts-fixture';

/** Throws from ExternalIdentity's `beforeInsert` while armed (threat model I3). */
class IdentityInsertFault implements EntitySubscriberInterface<ExternalIdentity> {
  remaining = 0;

  listenTo(): typeof ExternalIdentity {
    return ExternalIdentity;
  }

  beforeInsert(): void {
    if (this.remaining <= 0) return;
    this.remaining -= 1;
    throw new Error('injected fault while inserting flow-fault@example.com');
  }
}

let sequence = 0;
/** A Google account nobody has used yet in this file. */
function newGoogleUser(over: Partial<FakeGoogleUser> = {}): FakeGoogleUser {
  sequence += 1;
  return googleUsers.alice({ sub: `2000000000000${sequence}`, email: `g${sequence}@example.com`, ...over });
}
/** A GitHub account nobody has used yet in this file (primary address verified unless overridden). */
function newGithubUser(over: Partial<FakeGitHubUser> = {}): FakeGitHubUser {
  sequence += 1;
  const email = `gh${sequence}@example.com`;
  return githubUsers.octo({ id: 500000 + sequence, login: `user${sequence}`, email, emails: [{ email, primary: true, verified: true, visibility: 'public' }], ...over });
}

/**
 * Threat model group C (and I3) end to end: the browser leg driven through the real OAuth flow against
 * the testing kit's fake Google and GitHub, with the provider scripted per case.
 */
describe('accounts through the OAuth flow (threat model C1–C9, I3)', () => {
  let t: AccountsApp;
  const fault = new IdentityInsertFault();

  beforeAll(async () => {
    t = await startAccountsApp();
    t.dataSource.subscribers.push(fault);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(() => {
    setPolicy(t);
    t.google.reset();
    t.github.reset();
    fault.remaining = 0;
  });

  /** Signs in through the flow in a fresh browser; returns the browser and the callback answer. */
  async function signIn(provider: 'google' | 'github', as: FakeGoogleUser | FakeGitHubUser): Promise<{ browser: OAuthDriver; callback: Hop }> {
    if (provider === 'google') t.google.signInAs(as as FakeGoogleUser);
    else t.github.signInAs(as as FakeGitHubUser);
    const browser = new OAuthDriver(t.url);
    const { callback } = await browser.signIn(provider);
    return { browser, callback };
  }

  /** GET /auth/me as that browser (cookie-authenticated GET needs no Origin). */
  async function me(browser: OAuthDriver): Promise<{ id: string; emailVerified: boolean; identities: Array<{ provider: string }> }> {
    const hop = await browser.get('/auth/me');
    expect(hop.status).toBe(200);
    return hop.body as never;
  }

  function expectSignedIn(callback: Hop, browser: OAuthDriver): void {
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/');
    expect(browser.accessToken).toEqual(expect.any(String));
  }

  function expectRefused(callback: Hop, browser: OAuthDriver, code: string): void {
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`/?error=${code}`);
    expect(browser.jar.get(DEMO_COOKIES.access)).toBeUndefined();
    expect(browser.jar.get(DEMO_COOKIES.refresh)).toBeUndefined();
  }

  it('a first Google sign-in creates the account; signing in again finds it by sub', async () => {
    const alice = newGoogleUser();
    const first = await signIn('google', alice);
    expectSignedIn(first.callback, first.browser);
    const second = await signIn('google', alice);
    expect((await me(second.browser)).id).toBe((await me(first.browser)).id);
  });

  describe('C1/C3: unverified provider emails never link', () => {
    it.each([
      ['Google email_verified: false', { email_verified: false }],
      ['Google email_verified: "false" (a string)', { email_verified: 'false' }],
    ])('%s with the victim\'s address, Google trusted → a separate account; the victim is untouched', async (_name, claims) => {
      setPolicy(t, { trustGoogleEmail: true });
      const victim = await localAccount(t, `victim-${sequence + 1}@example.com`, { emailVerified: true });
      const { browser, callback } = await signIn('google', newGoogleUser({ email: `victim-${sequence + 1}@example.com`, ...claims } as Partial<FakeGoogleUser>));
      expectSignedIn(callback, browser);
      const account = await me(browser);
      expect(account.id).not.toBe(victim);
      expect(account.emailVerified).toBe(false);
      expect(await identitiesOf(t, victim)).toHaveLength(0);
    });

    it('GitHub: the victim\'s address as unverified primary and as public /user email, GitHub trusted → no link', async () => {
      setPolicy(t, { trustGithubEmail: true });
      const victim = await localAccount(t, 'victim-c3@example.com', { emailVerified: true });
      const attacker = newGithubUser({ email: 'victim-c3@example.com', emails: [{ email: 'victim-c3@example.com', primary: true, verified: false, visibility: 'public' }] });
      const { browser, callback } = await signIn('github', attacker);
      expectSignedIn(callback, browser);
      expect((await me(browser)).id).not.toBe(victim);
      expect(await identitiesOf(t, victim)).toHaveLength(0);
    });

    it('with verified emails required, the unverified sign-in ends in ?error=email_not_verified and writes nothing', async () => {
      setPolicy(t, { requireVerifiedEmail: true });
      const before = await counts(t);
      const { browser, callback } = await signIn('google', newGoogleUser({ email_verified: false }));
      expectRefused(callback, browser, 'email_not_verified');
      expect(await counts(t)).toEqual(before);
    });
  });

  it('C2: a squatter\'s unverified local account does not receive the victim\'s verified Google sign-in', async () => {
    setPolicy(t, { trustGoogleEmail: true });
    const squatter = await localAccount(t, 'victim-c2@example.com', { emailVerified: false });
    const { browser, callback } = await signIn('google', newGoogleUser({ email: 'victim-c2@example.com' }));
    expectSignedIn(callback, browser);
    expect((await me(browser)).id).not.toBe(squatter);
    expect(await identitiesOf(t, squatter)).toHaveLength(0);
  });

  describe('C4: the key is (provider, subject)', () => {
    it('Google sub "123" and GitHub id 123 are two users', async () => {
      const g = await signIn('google', googleUsers.sub123());
      const h = await signIn('github', githubUsers.id123());
      expect((await me(g.browser)).id).not.toBe((await me(h.browser)).id);
    });

    it('same Google sub with a changed email → same user, no new account', async () => {
      const user = newGoogleUser();
      const first = await signIn('google', user);
      const before = await counts(t);
      const second = await signIn('google', { ...user, email: 'changed@example.com', email_verified: false });
      expect((await me(second.browser)).id).toBe((await me(first.browser)).id);
      expect(await counts(t)).toEqual(before);
    });

    it('a renamed GitHub login is the same user; another account taking the old login is another user', async () => {
      const original = newGithubUser({ login: 'famous-name' });
      const first = await signIn('github', original);
      const renamed = await signIn('github', { ...original, login: 'new-name' });
      expect((await me(renamed.browser)).id).toBe((await me(first.browser)).id);
      const recycler = await signIn('github', newGithubUser({ login: 'famous-name' }));
      expect((await me(recycler.browser)).id).not.toBe((await me(first.browser)).id);
    });
  });

  it('C5: a verified email from a provider not trusted for email ends in ?error=account_exists, no session, nothing written', async () => {
    setPolicy(t, { trustGoogleEmail: true, trustGithubEmail: false });
    const victim = await localAccount(t, 'victim-c5@example.com', { emailVerified: true });
    const before = await counts(t);
    const sessionsBefore = await t.dataSource.getRepository(AuthSession).count();
    const { browser, callback } = await signIn('github', newGithubUser({ email: 'victim-c5@example.com', emails: [{ email: 'victim-c5@example.com', primary: true, verified: true, visibility: 'public' }] }));
    expectRefused(callback, browser, 'account_exists');
    expect(await counts(t)).toEqual(before);
    expect(await t.dataSource.getRepository(AuthSession).count()).toBe(sessionsBefore);
    expect(await identitiesOf(t, victim)).toHaveLength(0);
  });

  describe('C8: canonical email and homoglyphs', () => {
    it('an upper-case spelling of the victim\'s verified address links (trusted); look-alikes never do', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      const victim = await localAccount(t, 'victim-c8@example.com', { emailVerified: true });
      const same = await signIn('google', newGoogleUser({ email: 'Victim-C8@EXAMPLE.com' }));
      expect((await me(same.browser)).id).toBe(victim);
      for (const lookalike of ['v\u0456ctim-c8@example.com', '\uff56ictim-c8@example.com', 'victim-c8@ex\u0430mple.com']) {
        const other = await signIn('google', newGoogleUser({ email: lookalike }));
        expectSignedIn(other.callback, other.browser);
        expect((await me(other.browser)).id).not.toBe(victim);
      }
    });

    // Issue 14 finding 5: the Kelvin sign (U+212A) NFC-normalises to K, so before the fix both
    // spellings shared the canonical form kate-c8@example.com.
    it('a Kelvin-sign spelling (\\u212Aate) never links to kate, in either order; it still signs up and connects', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      const kate = await localAccount(t, 'kate-c8@example.com', { emailVerified: true });
      const kelvin = await signIn('google', newGoogleUser({ email: '\u212Aate-c8@example.com', email_verified: true }));
      expectSignedIn(kelvin.callback, kelvin.browser);
      const kelvinMe = await me(kelvin.browser);
      expect(kelvinMe.id).not.toBe(kate);
      expect(kelvinMe.emailVerified).toBe(false);
      const [row] = await t.dataSource.getRepository(UserAccount).findBy({ id: kelvinMe.id });
      expect(row.emailCanonical).toBeNull();
      // The other order: the Kelvin account exists first, and the real kate's verified address
      // does not land in it either.
      const kelvinFirst = await signIn('google', newGoogleUser({ email: '\u212Aate-k3@example.com', email_verified: true }));
      const plainAfter = await signIn('google', newGoogleUser({ email: 'kate-k3@example.com', email_verified: true }));
      expect((await me(plainAfter.browser)).id).not.toBe((await me(kelvinFirst.browser)).id);
      // Connecting another provider to the Kelvin account works as for anyone.
      t.github.signInAs(newGithubUser());
      const linked = await kelvin.browser.signIn('github', { link: true });
      expect(linked.callback.status).toBe(302);
      expect((await me(kelvin.browser)).identities.map((i) => i.provider).sort()).toEqual(['github', 'google']);
    });
  });

  it('C9: a disabled user\'s sign-in ends in ?error=account_disabled with no session', async () => {
    const user = newGoogleUser();
    const first = await signIn('google', user);
    const { id } = await me(first.browser);
    await t.dataSource.getRepository(UserAccount).update({ id }, { disabled: true });
    const sessionsBefore = await t.dataSource.getRepository(AuthSession).countBy({ userId: id });
    const { browser, callback } = await signIn('google', user);
    expectRefused(callback, browser, 'account_disabled');
    expect(await t.dataSource.getRepository(AuthSession).countBy({ userId: id })).toBe(sessionsBefore);
  });

  it('C7: 10 parallel first sign-ins of one new Google account (10 transactions, 10 codes) → one user, one identity, 10 sessions of it', async () => {
    const user = newGoogleUser();
    t.google.signInAs(user);
    const before = await counts(t);
    const browsers = Array.from({ length: 10 }, () => new OAuthDriver(t.url));
    const results = await Promise.all(browsers.map((b) => b.signIn('google')));
    results.forEach((r, i) => expectSignedIn(r.callback, browsers[i]));
    const ids = new Set(await Promise.all(browsers.map(async (b) => (await me(b)).id)));
    expect(ids.size).toBe(1);
    expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
    const [id] = [...ids];
    expect(await t.dataSource.getRepository(AuthSession).countBy({ userId: id })).toBe(10);
  });

  describe('C6: connecting a provider while signed in', () => {
    it('the signed-in user connects GitHub; GET /auth/me lists both; GitHub then signs in to the same account', async () => {
      const owner = await signIn('google', newGoogleUser());
      const gh = newGithubUser();
      t.github.signInAs(gh);
      const linked = await owner.browser.signIn('github', { link: true, returnTo: '/settings' });
      expect(linked.callback.status).toBe(302);
      expect(linked.callback.location).toBe('/settings');
      const account = await me(owner.browser);
      expect(account.identities.map((i) => i.provider)).toEqual(['google', 'github']);
      const viaGithub = await signIn('github', gh);
      expect((await me(viaGithub.browser)).id).toBe(account.id);
    });

    it('an identity owned by another user → ?error=identity_in_use; it stays with its owner', async () => {
      const gh = newGithubUser();
      const owner = await signIn('github', gh);
      const ownerId = (await me(owner.browser)).id;
      const other = await signIn('google', newGoogleUser());
      t.github.signInAs(gh);
      const attempt = await other.browser.signIn('github', { link: true });
      expect(attempt.callback.location).toBe('/?error=identity_in_use');
      expect((await me(other.browser)).identities.map((i) => i.provider)).toEqual(['google']);
      const row = await t.dataSource.getRepository(ExternalIdentity).findOneByOrFail({ provider: 'github', subject: String(gh.id) });
      expect(row.userId).toBe(ownerId);
    });

    it('the attacker\'s link callback URL loaded in the victim\'s browser does not link the attacker\'s GitHub to the victim', async () => {
      const attacker = await signIn('google', newGoogleUser());
      const attackerGithub = newGithubUser();
      t.github.signInAs(attackerGithub);
      const start = await attacker.browser.start('github', { link: true });
      const callbackUrl = await attacker.browser.authorize(start.location!);
      const victim = await signIn('google', newGoogleUser());
      const victimId = (await me(victim.browser)).id;
      const hop = await victim.browser.callback(callbackUrl);
      expect(hop.status).toBe(302);
      expect(hop.location).toMatch(/^\/\?error=/);
      expect(await identitiesOf(t, victimId)).toHaveLength(1);
      expect(await t.dataSource.getRepository(ExternalIdentity).countBy({ provider: 'github', subject: String(attackerGithub.id) })).toBe(0);
    });
  });

  it('each refused sign-in is reported exactly once as a sign-in failed event', async () => {
    const events: SignInFailedEvent[] = [];
    const emitter = t.app.get(EventEmitter2);
    const listener = (_name: string | string[], event: unknown) => {
      if (event instanceof AuthEvent && event instanceof SignInFailedEvent) events.push(event);
    };
    emitter.onAny(listener);
    try {
      const taken = newGoogleUser();
      await signIn('google', taken);
      const { callback } = await signIn('google', newGoogleUser({ email: taken.email }));
      expect(callback.location).toBe('/?error=account_exists');
      expect(events.map((e) => [e.provider, e.code])).toEqual([['google', 'account_exists']]);
    } finally {
      emitter.offAny(listener);
    }
  });

  it('I3: the identity insert fails mid-sign-in → ?error=internal_error, no user, identity or session; signing in again works', async () => {
    const logged: string[] = [];
    const spies = [process.stdout, process.stderr].map((s) => jest.spyOn(s, 'write').mockImplementation((chunk: unknown) => logged.push(String(chunk)) > 0));
    try {
      const user = newGoogleUser({ email: 'flow-fault@example.com' });
      const before = await counts(t);
      const sessionsBefore = await t.dataSource.getRepository(AuthSession).count();
      // PostgreSQL writes the user and its identity in one statement, which no subscriber sees: the fault is a trigger there.
      const faultsFired = t.dataSource.options.type === 'postgres' ? await installIdentityInsertFault(t.dataSource, 'flow-fault@example.com') : undefined;
      if (!faultsFired) fault.remaining = 1;
      const failed = await signIn('google', user);
      expectRefused(failed.callback, failed.browser, 'internal_error');
      if (faultsFired) expect(await faultsFired()).toBe(1);
      else expect(fault.remaining).toBe(0);
      expect(await counts(t)).toEqual(before);
      expect(await t.dataSource.getRepository(AuthSession).count()).toBe(sessionsBefore);

      const retry = await signIn('google', user);
      expectSignedIn(retry.callback, retry.browser);
      expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
      expect(logged.join('')).not.toContain('flow-fault');
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});
