import { AccountLinkingService, AccountService, AuthError, ExternalIdentity, SessionService, UserAccount } from '@nest-social-auth/core';
import { AccountsApp, counts, githubIdentity, googleIdentity, identitiesOf, localAccount, setPolicy, startAccountsApp } from './support/accounts-fixture';

/**
 * Threat model group C against the real database, through AccountLinkingService with identities built
 * the way the provider strategies build them (the OAuth-flow variants live in oauth-linking).
 */
describe('accounts: linking policy on the database (threat model C1–C6, C8, C9)', () => {
  let t: AccountsApp;
  let linking: AccountLinkingService;

  beforeAll(async () => {
    t = await startAccountsApp();
    linking = t.app.get(AccountLinkingService);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(() => setPolicy(t));

  async function refused(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    return (error as AuthError).code;
  }

  const users = () => t.dataSource.getRepository(UserAccount);
  const identities = () => t.dataSource.getRepository(ExternalIdentity);

  describe('first sign-in and the identity key', () => {
    it('creates one user and one identity; the next sign-in finds them by (provider, subject)', async () => {
      const identity = googleIdentity(t, { email: 'first@example.com' });
      const before = await counts(t);
      const user = await linking.signIn(identity);
      expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
      expect(user).toMatchObject({ email: 'first@example.com', emailVerified: true, disabled: false });
      const again = await linking.signIn(identity);
      expect(again.id).toBe(user.id);
      expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
    });

    it('stores email_canonical only for a verified email', async () => {
      const verified = await linking.signIn(googleIdentity(t, { email: ' Mixed.Case@Example.COM ' }));
      const unverified = await linking.signIn(googleIdentity(t, { email: 'not-verified@example.com', emailVerified: false }));
      expect(await users().findOneByOrFail({ id: verified.id })).toMatchObject({ email: 'Mixed.Case@Example.COM', emailCanonical: 'mixed.case@example.com', emailVerified: true });
      expect(await users().findOneByOrFail({ id: unverified.id })).toMatchObject({ email: 'not-verified@example.com', emailCanonical: null, emailVerified: false });
    });

    it('C4b: same subject with a changed email is the same user; the identity\'s attributes are refreshed, never re-keyed', async () => {
      const identity = googleIdentity(t, { email: 'old@example.com', displayName: 'Old Name' });
      const user = await linking.signIn(identity);
      const [row] = await identitiesOf(t, user.id);
      const again = await linking.signIn({ ...identity, email: 'new@example.com', emailVerified: false, displayName: 'New Name' });
      expect(again.id).toBe(user.id);
      const rows = await identitiesOf(t, user.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: row.id, provider: 'google', subject: identity.subject, issuer: identity.issuer, email: 'new@example.com', emailVerified: false, displayName: 'New Name' });
      expect(rows[0].lastLoginAt).not.toBeNull();
    });

    it('C4a: same verified email, different subject → a different identity, never a sign-in to the first (untrusted: account_exists)', async () => {
      const first = await linking.signIn(googleIdentity(t, { email: 'shared@example.com' }));
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t, { email: 'shared@example.com' })))).toBe('account_exists');
      expect(await counts(t)).toEqual(before);
      expect(await identitiesOf(t, first.id)).toHaveLength(1);
    });

    it('C4a: same unverified email, different subject → two separate users', async () => {
      const a = await linking.signIn(googleIdentity(t, { email: 'loose@example.com', emailVerified: false }));
      const b = await linking.signIn(googleIdentity(t, { email: 'loose@example.com', emailVerified: false }));
      expect(b.id).not.toBe(a.id);
    });

    it('C4c: Google sub "123" and GitHub id 123 are two distinct users', async () => {
      const g = await linking.signIn(googleIdentity(t, { subject: '123', email: 'sub123@example.com' }));
      const h = await linking.signIn(githubIdentity(t, { subject: '123', email: 'id123@example.com' }));
      expect(h.id).not.toBe(g.id);
      expect((await linking.signIn(googleIdentity(t, { subject: '123', email: 'sub123@example.com' }))).id).toBe(g.id);
      expect((await linking.signIn(githubIdentity(t, { subject: '123', email: 'id123@example.com' }))).id).toBe(h.id);
    });

    it('C4d: a renamed GitHub login (same id) is the same user; the recycled login under another id is another user', async () => {
      const original = githubIdentity(t, { displayName: 'old-login', email: null, emailVerified: false });
      const user = await linking.signIn(original);
      const renamed = await linking.signIn({ ...original, displayName: 'new-login' });
      expect(renamed.id).toBe(user.id);
      const squatter = await linking.signIn(githubIdentity(t, { displayName: 'old-login', email: null, emailVerified: false }));
      expect(squatter.id).not.toBe(user.id);
    });

    it('C4/C5: the same subject asserted by another issuer is refused (identity_in_use), not signed in', async () => {
      const identity = googleIdentity(t);
      const user = await linking.signIn(identity);
      expect(await refused(linking.signIn({ ...identity, issuer: 'https://tenant-b.example.com' }))).toBe('identity_in_use');
      const rows = await identitiesOf(t, user.id);
      expect(rows).toHaveLength(1);
      expect(rows[0].issuer).toBe(identity.issuer);
    });
  });

  describe('C1/C3/C5: an unverified provider email never links', () => {
    it.each([
      ['Google email_verified false', 'google'],
      ['GitHub primary address unverified', 'github'],
    ])('%s, victim account verified, provider trusted → a separate account, nothing attached to the victim', async (_name, provider) => {
      setPolicy(t, { trustGoogleEmail: true, trustGithubEmail: true });
      const victim = await localAccount(t, `victim-c1-${provider}@example.com`, { emailVerified: true });
      const build = provider === 'google' ? googleIdentity : githubIdentity;
      const attacker = await linking.signIn(build(t, { email: `victim-c1-${provider}@example.com`, emailVerified: false }));
      expect(attacker.id).not.toBe(victim);
      expect(attacker.emailVerified).toBe(false);
      expect(await identitiesOf(t, victim)).toHaveLength(0);
    });

    it('with a verified email required, the unverified sign-in is refused (email_not_verified) and writes nothing', async () => {
      setPolicy(t, { requireVerifiedEmail: true, trustGoogleEmail: true });
      await localAccount(t, 'victim-c1-strict@example.com', { emailVerified: true });
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t, { email: 'victim-c1-strict@example.com', emailVerified: false })))).toBe('email_not_verified');
      expect(await refused(linking.signIn(githubIdentity(t, { email: null, emailVerified: false })))).toBe('email_not_verified');
      expect(await counts(t)).toEqual(before);
    });

    it('C5 nOAuth: a verified email from a provider not trusted for email is account_exists, never a sign-in to the victim', async () => {
      setPolicy(t, { trustGoogleEmail: true, trustGithubEmail: false });
      const victim = await localAccount(t, 'victim-c5@example.com', { emailVerified: true });
      expect(await refused(linking.signIn(githubIdentity(t, { email: 'victim-c5@example.com', emailVerified: true })))).toBe('account_exists');
      expect(await identitiesOf(t, victim)).toHaveLength(0);
    });
  });

  describe('C2: pre-account takeover', () => {
    it('a squatter\'s unverified local account never receives the victim\'s verified Google identity', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      const squatter = await localAccount(t, 'victim-c2@example.com', { emailVerified: false });
      const victim = await linking.signIn(googleIdentity(t, { email: 'victim-c2@example.com', emailVerified: true }));
      expect(victim.id).not.toBe(squatter);
      expect(await identitiesOf(t, squatter)).toHaveLength(0);
      expect(await identitiesOf(t, victim.id)).toHaveLength(1);
      // The squatter's row cannot even be found by email later.
      expect(await users().findOneByOrFail({ id: squatter })).toMatchObject({ emailCanonical: null, emailVerified: false });
    });
  });

  describe('trusted verified email links to the existing verified account', () => {
    it('Google verified + local verified + trustEmail → the identity joins that account, no new user', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      const local = await localAccount(t, 'linkme@example.com', { emailVerified: true });
      const before = await counts(t);
      const user = await linking.signIn(googleIdentity(t, { email: 'linkme@example.com' }));
      expect(user.id).toBe(local);
      expect(await counts(t)).toEqual({ users: before.users, identities: before.identities + 1 });
    });

    it('the same setup without trustEmail → account_exists and nothing written', async () => {
      const local = await localAccount(t, 'dont-link@example.com', { emailVerified: true });
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t, { email: 'dont-link@example.com' })))).toBe('account_exists');
      expect(await counts(t)).toEqual(before);
      expect(await identitiesOf(t, local)).toHaveLength(0);
    });

    it('a trusted link to a disabled account → account_disabled, and no fresh account either', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      await localAccount(t, 'disabled-match@example.com', { emailVerified: true, disabled: true });
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t, { email: 'disabled-match@example.com' })))).toBe('account_disabled');
      expect(await counts(t)).toEqual(before);
    });
  });

  describe('C8: email canonical form and homoglyphs', () => {
    const VICTIM = 'victim-c8@example.com';
    let victim: string;

    beforeAll(async () => {
      victim = await localAccount(t, VICTIM, { emailVerified: true });
    });

    it.each([
      ['upper case', 'Victim-C8@Example.COM'],
      ['surrounding spaces', '  victim-c8@example.com '],
    ])('%s matches the victim (one canonical form): untrusted → account_exists', async (_name, email) => {
      expect(await refused(linking.signIn(googleIdentity(t, { email })))).toBe('account_exists');
    });

    it('upper case, trusted → links to the victim', async () => {
      setPolicy(t, { trustGoogleEmail: true });
      expect((await linking.signIn(googleIdentity(t, { email: 'VICTIM-C8@EXAMPLE.COM' }))).id).toBe(victim);
    });

    it.each([
      ['Cyrillic а', 'victim-c8@ex\u0430mple.com'],
      ['Cyrillic і', 'v\u0456ctim-c8@example.com'],
      ['fullwidth ｖ', '\uff56ictim-c8@example.com'],
      ['fullwidth ＠', 'victim-c8\uff20example.com'],
      ['trailing dot', 'victim-c8@example.com.'],
      ['zero-width space', 'victim-c8@exa\u200bmple.com'],
    ])('homoglyph / malformed (%s), verified and trusted → never the victim', async (_name, email) => {
      setPolicy(t, { trustGoogleEmail: true });
      const user = await linking.signIn(googleIdentity(t, { email }));
      expect(user.id).not.toBe(victim);
    });

    it('NFD and NFC spellings of one address are one account (Google NFC sign-up, GitHub NFD, trusted)', async () => {
      setPolicy(t, { trustGithubEmail: true });
      const nfc = await linking.signIn(googleIdentity(t, { email: 'jos\u00e9-c8@example.com' }));
      const nfd = await linking.signIn(githubIdentity(t, { email: 'jose\u0301-c8@example.com' }));
      expect(nfd.id).toBe(nfc.id);
    });
  });

  describe('sign-up switched off', () => {
    it('an unknown identity is refused (sign_up_disabled); known identities still sign in', async () => {
      const known = googleIdentity(t);
      const user = await linking.signIn(known);
      setPolicy(t, { allowSignUp: false });
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t)))).toBe('sign_up_disabled');
      expect(await counts(t)).toEqual(before);
      expect((await linking.signIn(known)).id).toBe(user.id);
    });
  });

  describe('C9: disabled or deleted local user', () => {
    it('a disabled user\'s identity is refused (account_disabled); no session can be opened; their refresh tokens die', async () => {
      const identity = googleIdentity(t);
      const user = await linking.signIn(identity);
      const sessions = t.app.get(SessionService);
      const tokens = await sessions.open(user.id);
      await t.app.get(AccountService).disable(user.id);
      expect(await refused(linking.signIn(identity))).toBe('account_disabled');
      expect(await refused(sessions.open(user.id))).toBe('account_disabled');
      // disable() revoked every session, so the refresh token is dead, not merely refused.
      expect(await refused(sessions.refresh(tokens.refreshToken))).toBe('refresh_token_invalid');
      await t.http.get('/auth/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(401);
      // Enabling again lets the identity back in (sessions stay revoked).
      await t.app.get(AccountService).enable(user.id);
      expect((await linking.signIn(identity)).id).toBe(user.id);
      expect(await refused(sessions.refresh(tokens.refreshToken))).toBe('refresh_token_invalid');
    });

    it('an identity whose user was deleted is refused (account_disabled) and no replacement user is created', async () => {
      const identity = githubIdentity(t);
      const user = await linking.signIn(identity);
      await users().delete({ id: user.id });
      const before = await counts(t);
      expect(await refused(linking.signIn(identity))).toBe('account_disabled');
      expect(await counts(t)).toEqual(before);
    });
  });

  describe('C6 (the linking service\'s part): connect while signed in', () => {
    it('links a new identity to the signed-in user; linking it again is a no-op success', async () => {
      const user = await linking.signIn(googleIdentity(t));
      const gh = githubIdentity(t, { email: 'someone-else@example.com' });
      await linking.link(user.id, gh);
      await linking.link(user.id, gh);
      expect((await identitiesOf(t, user.id)).map((i) => i.provider)).toEqual(['google', 'github']);
      expect((await linking.signIn(gh)).id).toBe(user.id);
    });

    it('an identity owned by another user → identity_in_use, and it stays with its owner', async () => {
      const victim = await linking.signIn(googleIdentity(t));
      const victimGithub = githubIdentity(t);
      await linking.link(victim.id, victimGithub);
      const attacker = await linking.signIn(googleIdentity(t, { email: 'attacker@example.com' }));
      expect(await refused(linking.link(attacker.id, victimGithub))).toBe('identity_in_use');
      expect((await identities().findOneByOrFail({ provider: 'github', subject: victimGithub.subject })).userId).toBe(victim.id);
      expect((await linking.signIn(victimGithub)).id).toBe(victim.id);
    });

    it('linking never consults emails: an identity carrying the victim\'s verified email links only to the user that asked', async () => {
      setPolicy(t, { trustGithubEmail: true });
      const victim = await localAccount(t, 'victim-c6@example.com', { emailVerified: true });
      const attacker = await linking.signIn(googleIdentity(t, { email: 'attacker-c6@example.com' }));
      const gh = githubIdentity(t, { email: 'victim-c6@example.com' });
      await linking.link(attacker.id, gh);
      expect(await identitiesOf(t, victim)).toHaveLength(0);
      expect((await linking.signIn(gh)).id).toBe(attacker.id);
    });

    it('a second GitHub account can be connected to the same user (identities are keyed by subject)', async () => {
      const user = await linking.signIn(githubIdentity(t));
      await linking.link(user.id, githubIdentity(t));
      expect((await identitiesOf(t, user.id)).map((i) => i.provider)).toEqual(['github', 'github']);
    });

    it('a disabled or unknown user cannot connect anything (account_disabled)', async () => {
      const user = await linking.signIn(googleIdentity(t));
      await t.app.get(AccountService).disable(user.id);
      const before = await counts(t);
      expect(await refused(linking.link(user.id, githubIdentity(t)))).toBe('account_disabled');
      expect(await refused(linking.link('00000000-0000-4000-8000-000000000000', githubIdentity(t)))).toBe('account_disabled');
      expect(await counts(t)).toEqual(before);
    });
  });

  describe('malformed identities (I2, defence in depth)', () => {
    it.each([
      ['empty subject', { subject: '' }],
      ['256-character subject', { subject: '1'.repeat(256) }],
      ['subject with a NUL', { subject: '12\u000034' }],
      ['subject not a string', { subject: 123 as unknown as string }],
      ['provider with a slash', { provider: 'goo/gle' }],
      ['empty issuer', { issuer: '' }],
    ])('%s → provider_error, nothing written', async (_name, over) => {
      const before = await counts(t);
      expect(await refused(linking.signIn(googleIdentity(t, over)))).toBe('provider_error');
      expect(await counts(t)).toEqual(before);
    });

    it('oversized or odd attributes are clipped or dropped, never a 500', async () => {
      const user = await linking.signIn(
        googleIdentity(t, { email: `${'a'.repeat(330)}@example.com`, displayName: `${'😀'.repeat(250)}\u0000`, avatarUrl: 'javascript:alert(1)' }),
      );
      expect(user.email).toBeNull();
      expect(user.emailVerified).toBe(false);
      expect(Array.from(user.displayName!)).toHaveLength(200);
      expect(user.avatarUrl).toBeNull();
    });
  });
});
