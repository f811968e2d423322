import { AccountLinkingService, AuthCookies, AuthSession, ExternalIdentity, SessionService } from '@nest-social-auth/core';
import { IsNull } from 'typeorm';
import { AccountsApp, bearer, githubIdentity, googleIdentity, identitiesOf, setPolicy, startAccountsApp } from './support/accounts-fixture';

/** GET /auth/me and DELETE /auth/identities/:provider over HTTP, signed in with real sessions. */
describe('accounts: GET /auth/me and DELETE /auth/identities/:provider', () => {
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

  /** A user signed up with Google, optionally with more identities connected. */
  async function userWith(...extra: Array<'google' | 'github'>): Promise<{ id: string; auth: string }> {
    const user = await linking.signIn(googleIdentity(t, { displayName: 'Ada Lovelace' }));
    for (const provider of extra) await linking.link(user.id, provider === 'google' ? googleIdentity(t) : githubIdentity(t));
    return { id: user.id, auth: await bearer(t, user.id) };
  }

  describe('GET /auth/me', () => {
    it('answers the signed-in user with their identities, oldest first, and nothing more', async () => {
      const google = googleIdentity(t, { email: 'Ada@Example.com', displayName: 'Ada Lovelace' });
      const user = await linking.signIn(google);
      await linking.link(user.id, githubIdentity(t, { email: null, emailVerified: false }));
      const res = await t.http.get('/auth/me').set('Authorization', await bearer(t, user.id)).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        id: user.id,
        email: 'Ada@Example.com',
        emailVerified: true,
        displayName: 'Ada Lovelace',
        identities: [
          { provider: 'google', email: 'Ada@Example.com', linkedAt: expect.any(String) },
          { provider: 'github', email: null, linkedAt: expect.any(String) },
        ],
      });
      for (const identity of res.body.identities) expect(new Date(identity.linkedAt).toISOString()).toBe(identity.linkedAt);
    });

    it('works with the access cookie too', async () => {
      const user = await linking.signIn(googleIdentity(t));
      const tokens = await t.app.get(SessionService).open(user.id);
      const res = await t.http.get('/auth/me').set('Cookie', `${t.app.get(AuthCookies).names.access}=${tokens.accessToken}`).expect(200);
      expect(res.body.id).toBe(user.id);
    });

    it('401 unauthorized without a token, with a garbage token, and after logout-all', async () => {
      expect((await t.http.get('/auth/me').expect(401)).body).toEqual({ statusCode: 401, error: 'unauthorized', message: expect.any(String) });
      await t.http.get('/auth/me').set('Authorization', 'Bearer not.a.jwt').expect(401);
      const { id, auth } = await userWith();
      await t.app.get(SessionService).revokeAllForUser(id, 'logout_all');
      await t.http.get('/auth/me').set('Authorization', auth).expect(401);
    });
  });

  describe('DELETE /auth/identities/:provider', () => {
    // Issue 14 finding 6 (threat model E5): a provider disconnected because that account was taken
    // over must not leave the sessions opened through it alive.
    it('204: disconnects the provider and revokes the sessions opened through it; the others stay valid', async () => {
      const { id, auth } = await userWith('github');
      const sessions = t.app.get(SessionService);
      const viaGithub = await sessions.open(id, { provider: 'github' });
      const viaGithubToo = await sessions.open(id, { provider: 'github' });
      const unattributed = await sessions.open(id);
      const res = await t.http.delete('/auth/identities/github').set('Authorization', auth).expect(204);
      expect(res.headers['cache-control']).toBe('no-store');
      expect((await identitiesOf(t, id)).map((i) => i.provider)).toEqual(['google']);
      // The caller's own Google session and the one without a provider are untouched.
      const me = await t.http.get('/auth/me').set('Authorization', auth).expect(200);
      expect(me.body.identities.map((i: { provider: string }) => i.provider)).toEqual(['google']);
      await t.http.get('/auth/me').set('Authorization', `Bearer ${unattributed.accessToken}`).expect(200);
      const rows = await t.dataSource.getRepository(AuthSession).findBy({ userId: id });
      const revoked = rows.filter((s) => s.revokedAt !== null);
      expect(revoked.map((s) => s.id).sort()).toEqual([viaGithub.sessionId, viaGithubToo.sessionId].sort());
      expect(revoked.every((s) => s.revokedReason === 'identity_unlinked' && s.provider === 'github')).toBe(true);
      expect(rows.filter((s) => s.revokedAt === null).every((s) => s.provider !== 'github')).toBe(true);
      // Revoked on this instance: its access tokens stop at once, its refresh tokens too.
      for (const gone of [viaGithub, viaGithubToo]) {
        expect((await t.http.get('/auth/me').set('Authorization', `Bearer ${gone.accessToken}`).expect(401)).body.error).toBe('unauthorized');
        await expect(sessions.refresh(gone.refreshToken)).rejects.toMatchObject({ code: 'refresh_token_invalid' });
      }
    });

    it("disconnecting the provider of the caller's own session revokes that session too", async () => {
      const user = await linking.signIn(googleIdentity(t));
      await linking.link(user.id, githubIdentity(t));
      const viaGithub = await t.app.get(SessionService).open(user.id, { provider: 'github' });
      await t.http.delete('/auth/identities/github').set('Authorization', `Bearer ${viaGithub.accessToken}`).expect(204);
      await t.http.get('/auth/me').set('Authorization', `Bearer ${viaGithub.accessToken}`).expect(401);
      await t.http.get('/auth/me').set('Authorization', await bearer(t, user.id)).expect(200);
    });

    it('a refused disconnect (409 last_login_method) revokes nothing', async () => {
      const user = await linking.signIn(githubIdentity(t));
      const viaGithub = await t.app.get(SessionService).open(user.id, { provider: 'github' });
      await t.http.delete('/auth/identities/github').set('Authorization', `Bearer ${viaGithub.accessToken}`).expect(409);
      await t.http.get('/auth/me').set('Authorization', `Bearer ${viaGithub.accessToken}`).expect(200);
      expect(await t.dataSource.getRepository(AuthSession).countBy({ userId: user.id, revokedAt: IsNull() })).toBe(1);
    });

    it('the disconnected identity no longer signs in to the account (a new account would be created)', async () => {
      const user = await linking.signIn(googleIdentity(t));
      const gh = githubIdentity(t, { email: null, emailVerified: false });
      await linking.link(user.id, gh);
      await t.http.delete('/auth/identities/github').set('Authorization', await bearer(t, user.id)).expect(204);
      expect((await linking.signIn(gh)).id).not.toBe(user.id);
    });

    it('409 last_login_method for the only identity; it stays linked', async () => {
      const { id, auth } = await userWith();
      const res = await t.http.delete('/auth/identities/google').set('Authorization', auth).expect(409);
      expect(res.body).toEqual({ statusCode: 409, error: 'last_login_method', message: expect.any(String) });
      expect(await identitiesOf(t, id)).toHaveLength(1);
    });

    it('409 when the provider holds every identity (two GitHub accounts and nothing else)', async () => {
      const user = await linking.signIn(githubIdentity(t));
      await linking.link(user.id, githubIdentity(t));
      await t.http.delete('/auth/identities/github').set('Authorization', await bearer(t, user.id)).expect(409);
      expect(await identitiesOf(t, user.id)).toHaveLength(2);
    });

    it('disconnecting a provider removes every identity of it (two GitHub accounts + Google)', async () => {
      const { id, auth } = await userWith('github', 'github');
      await t.http.delete('/auth/identities/github').set('Authorization', auth).expect(204);
      expect((await identitiesOf(t, id)).map((i) => i.provider)).toEqual(['google']);
    });

    it.each([
      ['a provider the user has not linked', 'github'],
      ['a provider that does not exist', 'myspace'],
      ['a malformed provider id', 'git%2Fhub'],
    ])('404 not_found for %s', async (_name, provider) => {
      const { id, auth } = await userWith();
      const res = await t.http.delete(`/auth/identities/${provider}`).set('Authorization', auth).expect(404);
      expect(res.body.error).toBe('not_found');
      expect(await identitiesOf(t, id)).toHaveLength(1);
    });

    it('only ever touches the caller\'s identities: another user\'s GitHub stays', async () => {
      const other = await userWith('github');
      const caller = await userWith();
      await t.http.delete('/auth/identities/github').set('Authorization', caller.auth).expect(404);
      expect((await identitiesOf(t, other.id)).map((i) => i.provider)).toEqual(['google', 'github']);
    });

    it('401 without a token', async () => {
      const before = await t.dataSource.getRepository(ExternalIdentity).count();
      await t.http.delete('/auth/identities/github').expect(401);
      expect(await t.dataSource.getRepository(ExternalIdentity).count()).toBe(before);
    });

    it('cookie-authenticated: 403 csrf_rejected without an allowed Origin, 204 with the app\'s own', async () => {
      const user = await linking.signIn(googleIdentity(t));
      await linking.link(user.id, githubIdentity(t));
      const tokens = await t.app.get(SessionService).open(user.id);
      const cookie = `${t.app.get(AuthCookies).names.access}=${tokens.accessToken}`;
      expect((await t.http.delete('/auth/identities/github').set('Cookie', cookie).expect(403)).body.error).toBe('csrf_rejected');
      await t.http.delete('/auth/identities/github').set('Cookie', cookie).set('Origin', 'https://evil.example').expect(403);
      expect(await identitiesOf(t, user.id)).toHaveLength(2);
      await t.http.delete('/auth/identities/github').set('Cookie', cookie).set('Origin', t.config.appUrl).expect(204);
      expect(await identitiesOf(t, user.id)).toHaveLength(1);
    });

    it('concurrent disconnects of the last two providers: one succeeds, one is refused, the account keeps a way in', async () => {
      for (let round = 0; round < 3; round++) {
        const { id } = await userWith('github');
        // A session opened through neither provider, so neither disconnect revokes the caller.
        const auth = `Bearer ${(await t.app.get(SessionService).open(id)).accessToken}`;
        const answers = await Promise.all([
          t.http.delete('/auth/identities/google').set('Authorization', auth),
          t.http.delete('/auth/identities/github').set('Authorization', auth),
        ]);
        expect(answers.map((r) => r.status).sort()).toEqual([204, 409]);
        expect(await identitiesOf(t, id)).toHaveLength(1);
      }
    });
  });
});
