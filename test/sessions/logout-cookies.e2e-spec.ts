import { AuthSession } from '@nest-social-auth/core';
import { createTestApp, TestApp } from '../support/test-app';
import { createSessionsApp, SessionsApp } from './sessions-app';
import { AppUnderTest, accessCookie, cookieNames, cookieValue, refreshCookie, setCookies, signIn } from './session-fixtures';

const bearer = (token: string) => `Bearer ${token}`;

async function revokedReason(t: AppUnderTest, sessionId: string): Promise<string | null> {
  return (await t.dataSource.getRepository(AuthSession).findOneByOrFail({ id: sessionId })).revokedReason;
}

function expectCleared(t: AppUnderTest, res: { headers: Record<string, unknown> }): void {
  const names = cookieNames(t);
  const lines = setCookies(res);
  const access = lines.find((l) => l.startsWith(`${names.access}=;`));
  const refresh = lines.find((l) => l.startsWith(`${names.refresh}=;`));
  expect(access).toMatch(/Max-Age=0/);
  expect(access).toMatch(/Path=\/(;|$)/);
  expect(refresh).toMatch(/Max-Age=0/);
  expect(refresh).toMatch(/Path=\/(;|$)/);
}

describe('logout, sessions and cookies on the demo app (threat model E5, E6, F1–F4)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('E5: logout', () => {
    it('with the cookies: 204, cookies cleared with the same path, family revoked, old tokens refused', async () => {
      const { tokens } = await signIn(t);
      const cookies = `${accessCookie(t, tokens.accessToken)}; ${refreshCookie(t, tokens.refreshToken)}`;
      const res = await t.http.post('/auth/logout').set('Origin', t.url).set('Cookie', cookies).expect(204);
      expectCleared(t, res);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(await revokedReason(t, tokens.sessionId)).toBe('logout');
      await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(401);
      await t.http.get('/me').set('Authorization', bearer(tokens.accessToken)).expect(401);
    });

    it('with only the refresh cookie (access token expired or gone)', async () => {
      const { tokens } = await signIn(t);
      await t.http.post('/auth/logout').set('Origin', t.url).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(204);
      expect(await revokedReason(t, tokens.sessionId)).toBe('logout');
    });

    it('with a bearer token, no Origin needed', async () => {
      const { tokens } = await signIn(t);
      await t.http.post('/auth/logout').set('Authorization', bearer(tokens.accessToken)).expect(204);
      expect(await revokedReason(t, tokens.sessionId)).toBe('logout');
    });

    it('with the refresh token in a JSON body (native apps)', async () => {
      const { tokens } = await signIn(t);
      await t.http.post('/auth/logout').send({ refreshToken: tokens.refreshToken }).expect(204);
      expect(await revokedReason(t, tokens.sessionId)).toBe('logout');
    });

    it('without any credential: 401', async () => {
      const res = await t.http.post('/auth/logout').set('Origin', t.url).expect(401);
      expect(res.body.error).toBe('unauthorized');
    });

    it('there is no GET logout', async () => {
      const { tokens } = await signIn(t);
      const res = await t.http.get('/auth/logout').set('Authorization', bearer(tokens.accessToken));
      expect(res.status).toBe(404);
      expect(await revokedReason(t, tokens.sessionId)).toBeNull();
    });

    it('logout-all revokes every session of the user and no one else\'s', async () => {
      const a1 = await signIn(t);
      const a2 = await signIn(t, { userId: a1.userId });
      const b = await signIn(t);
      const res = await t.http.post('/auth/logout-all').set('Authorization', bearer(a1.tokens.accessToken)).expect(204);
      expectCleared(t, res);
      expect(await revokedReason(t, a1.tokens.sessionId)).toBe('logout_all');
      expect(await revokedReason(t, a2.tokens.sessionId)).toBe('logout_all');
      expect(await revokedReason(t, b.tokens.sessionId)).toBeNull();
      await t.http.get('/me').set('Authorization', bearer(a2.tokens.accessToken)).expect(401);
      await t.http.post('/auth/refresh').send({ refreshToken: a2.tokens.refreshToken }).expect(401);
      await t.http.get('/me').set('Authorization', bearer(b.tokens.accessToken)).expect(200);
    });
  });

  describe('sessions (devices)', () => {
    it('lists the live sessions with the current one marked, and nothing secret', async () => {
      const first = await signIn(t);
      const second = await signIn(t, { userId: first.userId });
      const res = await t.http.get('/auth/sessions').set('Authorization', bearer(second.tokens.accessToken)).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toHaveLength(2);
      expect(res.body.find((s: { id: string }) => s.id === second.tokens.sessionId)).toMatchObject({ current: true, provider: 'google', userAgent: 'jest' });
      expect(res.body.find((s: { id: string }) => s.id === first.tokens.sessionId)).toMatchObject({ current: false });
      expect(Object.keys(res.body[0]).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'provider', 'userAgent']);
      const text = JSON.stringify(res.body);
      for (const secret of [first.tokens.refreshToken, second.tokens.refreshToken, first.tokens.accessToken]) expect(text).not.toContain(secret);
    });

    it('DELETE revokes one of my sessions; another user\'s, an unknown or a revoked id is 404; a non-UUID is 400', async () => {
      const mine = await signIn(t);
      const other = await signIn(t, { userId: mine.userId });
      const stranger = await signIn(t);
      const auth = bearer(mine.tokens.accessToken);
      await t.http.delete(`/auth/sessions/${other.tokens.sessionId}`).set('Authorization', auth).expect(204);
      expect(await revokedReason(t, other.tokens.sessionId)).toBe('session_revoked');
      await t.http.get('/me').set('Authorization', bearer(other.tokens.accessToken)).expect(401);
      expect((await t.http.delete(`/auth/sessions/${other.tokens.sessionId}`).set('Authorization', auth).expect(404)).body.error).toBe('not_found');
      await t.http.delete(`/auth/sessions/${stranger.tokens.sessionId}`).set('Authorization', auth).expect(404);
      expect(await revokedReason(t, stranger.tokens.sessionId)).toBeNull();
      await t.http.delete('/auth/sessions/6c1f4f4e-8d7e-4f59-9a43-0d2b8f3f6a11').set('Authorization', auth).expect(404);
      expect((await t.http.delete('/auth/sessions/not-a-uuid').set('Authorization', auth).expect(400)).body.error).toBe('invalid_request');
      const current = await t.http.delete(`/auth/sessions/${mine.tokens.sessionId}`).set('Authorization', auth).expect(204);
      expectCleared(t, current);
    });
  });

  describe('F3: CSRF on the cookie-authenticated auth routes', () => {
    it.each([
      ['a cross-site Origin', { Origin: 'https://evil.test' }],
      ['Origin null', { Origin: 'null' }],
      ['no Origin and no Referer', {}],
      ['a cross-site Referer', { Referer: 'https://evil.test/page' }],
      ['a look-alike origin', { Origin: 'http://127.0.0.1.evil.test' }],
    ])('refresh with the cookie and %s: 403 csrf_rejected, token not rotated', async (_name, headers) => {
      const { tokens } = await signIn(t);
      const res = await t.http.post('/auth/refresh').set(headers).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(403);
      expect(res.body.error).toBe('csrf_rejected');
      expect(res.headers['set-cookie']).toBeUndefined();
      // Still the unused current token: no rotation and no reuse happened.
      await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(200);
    });

    it('a text/plain "simple" cross-site POST is refused as well', async () => {
      const { tokens } = await signIn(t);
      await t.http.post('/auth/refresh').set('Origin', 'https://evil.test').set('Cookie', refreshCookie(t, tokens.refreshToken)).set('Content-Type', 'text/plain').send('x').expect(403);
    });

    it('the app\'s own Referer is enough when a browser sends no Origin', async () => {
      const { tokens } = await signIn(t);
      await t.http.post('/auth/refresh').set('Referer', `${t.url}/settings`).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(200);
    });

    it('logout, logout-all and DELETE /auth/sessions/:id with cookies from another origin: 403, nothing revoked, no cookie cleared', async () => {
      const { tokens } = await signIn(t);
      const cookies = `${accessCookie(t, tokens.accessToken)}; ${refreshCookie(t, tokens.refreshToken)}`;
      for (const [method, path] of [['post', '/auth/logout'], ['post', '/auth/logout-all'], ['delete', `/auth/sessions/${tokens.sessionId}`]] as const) {
        const res = await t.http[method](path).set('Origin', 'https://evil.test').set('Cookie', cookies).expect(403);
        expect(res.body.error).toBe('csrf_rejected');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      await t.http.post('/auth/logout').set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(403);
      expect(await revokedReason(t, tokens.sessionId)).toBeNull();
    });

    it('no CORS on the auth routes: a preflight from another origin gets no Access-Control-Allow-Origin', async () => {
      const res = await t.http.options('/auth/refresh').set('Origin', 'https://evil.test').set('Access-Control-Request-Method', 'POST');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('F2: cookie tossing', () => {
    it('two refresh cookies (attacker + victim) are ambiguous: 401, not first-wins, and the valid one is not rotated', async () => {
      const victim = await signIn(t);
      const attacker = await signIn(t);
      for (const order of [
        [attacker.tokens.refreshToken, victim.tokens.refreshToken],
        [victim.tokens.refreshToken, attacker.tokens.refreshToken],
        [victim.tokens.refreshToken, victim.tokens.refreshToken],
      ]) {
        const res = await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', order.map((v) => refreshCookie(t, v)).join('; ')).expect(401);
        expect(res.body.error).toBe('cookie_conflict');
      }
      await t.http.post('/auth/refresh').send({ refreshToken: victim.tokens.refreshToken }).expect(200);
      await t.http.post('/auth/refresh').send({ refreshToken: attacker.tokens.refreshToken }).expect(200);
    });
  });

  describe('E6: planted pre-login cookies', () => {
    it('planted access and refresh values are never honoured, and are cleared', async () => {
      const planted = `${accessCookie(t, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.planted')}; ${refreshCookie(t, 'P'.repeat(43))}`;
      await t.http.get('/me').set('Cookie', planted).expect(401);
      const res = await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', planted).expect(401);
      expectCleared(t, res);
      // A sign-in then issues brand-new tokens, unrelated to anything the browser carried.
      const { tokens } = await signIn(t);
      expect(tokens.refreshToken).not.toBe('P'.repeat(43));
      const refreshed = await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(200);
      expect(cookieValue(refreshed, cookieNames(t).refresh)).not.toBe('P'.repeat(43));
    });
  });

  describe('F1 on http (development): unprefixed names, HttpOnly, SameSite=Lax, host-only', () => {
    it('sets both cookies with the documented attributes', async () => {
      const { tokens } = await signIn(t);
      const res = await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', refreshCookie(t, tokens.refreshToken)).expect(200);
      const [access, refresh] = [cookieNames(t).access, cookieNames(t).refresh].map((n) => setCookies(res).find((l) => l.startsWith(`${n}=`))!);
      expect(cookieNames(t)).toEqual({ access: 'sa_at', refresh: 'sa_rt', transaction: 'sa_tx', loginBinding: 'sa_lb' });
      for (const line of [access, refresh]) {
        expect(line).toMatch(/; HttpOnly/);
        expect(line).toMatch(/; SameSite=Lax/);
        expect(line).not.toMatch(/Domain=/i);
        expect(line).not.toMatch(/; Secure/);
        expect(line.length).toBeLessThan(4096);
      }
      expect(access).toMatch(/; Path=\/;/);
      expect(access).toMatch(/Max-Age=600/);
      expect(refresh).toMatch(/; Path=\/;/);
    });
  });
});

describe('F1/F2 with secure cookies: __Host- names', () => {
  let s: SessionsApp;

  beforeAll(async () => {
    s = await createSessionsApp({ cookies: { secure: true } });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('the access and refresh cookies are __Host- (Path=/, Secure, no Domain): no sibling subdomain can set them', async () => {
    const { tokens } = await signIn(s);
    const res = await s.http.post('/auth/refresh').set('Origin', s.url).set('Cookie', refreshCookie(s, tokens.refreshToken)).expect(200);
    const access = setCookies(res).find((l) => l.startsWith('__Host-sa_at='))!;
    const refresh = setCookies(res).find((l) => l.startsWith('__Host-sa_rt='))!;
    expect(access).toMatch(/; Path=\/;.*; HttpOnly; Secure; SameSite=Lax$/);
    expect(refresh).toMatch(/; Path=\/;.*; HttpOnly; Secure; SameSite=Lax$/);
    expect(`${access}${refresh}`).not.toMatch(/Domain=/i);
  });

  it('an unprefixed or __Secure- twin (planted by a sibling subdomain) is never read', async () => {
    const { tokens } = await signIn(s);
    await s.http.get('/probe').set('Cookie', `sa_at=${tokens.accessToken}`).expect(401);
    await s.http.post('/auth/refresh').set('Origin', s.url).set('Cookie', `sa_rt=${tokens.refreshToken}`).expect(401);
    await s.http.post('/auth/refresh').set('Origin', s.url).set('Cookie', `__Secure-sa_rt=${tokens.refreshToken}`).expect(401);
    const both = await s.http.get('/probe').set('Cookie', `sa_at=planted; __Host-sa_at=${tokens.accessToken}`).expect(200);
    expect(both.body.id).toBeDefined();
  });
});

describe('a custom routePrefix moves the routes; the refresh cookie stays at Path=/', () => {
  let s: SessionsApp;

  beforeAll(async () => {
    s = await createSessionsApp({ routePrefix: 'account/auth' });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('serves /account/auth/refresh, the refresh cookie at Path=/', async () => {
    const { tokens } = await signIn(s);
    const res = await s.http.post('/account/auth/refresh').set('Origin', s.url).set('Cookie', refreshCookie(s, tokens.refreshToken)).expect(200);
    expect(setCookies(res).find((l) => l.startsWith('sa_rt='))).toMatch(/; Path=\/;/);
    await s.http.post('/auth/refresh').set('Origin', s.url).expect(404);
  });
});
