import { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { INestApplication } from '@nestjs/common';
import { createServer } from 'node:net';
import request, { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from './create-app';

/**
 * The app end to end, the way its README tells a new team to test it: the testing kit's fake
 * Google and GitHub on free ports, the app listening on 127.0.0.1 with the global prefix `api`,
 * and a browser played by a supertest agent (cookie jar) for the app plus fetch for the fake.
 */
describe('sign in with Google and GitHub (e2e)', () => {
  let google: FakeGoogle;
  let github: FakeGitHub;
  let app: INestApplication;
  let appUrl: string;

  beforeAll(async () => {
    [google, github] = await Promise.all([FakeGoogle.start({ port: 0 }), FakeGitHub.start({ port: 0 })]);
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    // The app reads its options through ConfigService: point them at the fakes. DATABASE_URL comes
    // from the environment (a fresh PostgreSQL database).
    const g = google.providerOptions();
    const h = github.providerOptions();
    Object.assign(process.env, {
      APP_URL: appUrl,
      AUTH_JWT_SECRET: 'consumer-app-e2e-secret-0123456789-abcdefghij',
      GOOGLE_CLIENT_ID: g.clientId,
      GOOGLE_CLIENT_SECRET: g.clientSecret,
      GOOGLE_ISSUER: g.issuer,
      GOOGLE_AUTHORIZATION_URL: g.authorizationURL,
      GOOGLE_TOKEN_URL: g.tokenURL,
      GOOGLE_USERINFO_URL: g.userInfoURL,
      GOOGLE_JWKS_URL: g.jwksURL,
      GOOGLE_DISCOVERY_URL: g.discoveryURL,
      GITHUB_CLIENT_ID: h.clientId,
      GITHUB_CLIENT_SECRET: h.clientSecret,
      GITHUB_AUTHORIZATION_URL: h.authorizationURL,
      GITHUB_TOKEN_URL: h.tokenURL,
      GITHUB_API_URL: h.apiURL,
      GITHUB_ISSUER: h.issuer,
    });
    app = await createApp(port);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all([google?.stop(), github?.stop()]);
  });

  it('GET /api is public (@Public)', async () => {
    await request(appUrl).get('/api').expect(200).expect('Hello World!');
  });

  it('GET /api/auth/providers lists both providers with login URLs under the prefix', async () => {
    const res = await request(appUrl).get('/api/auth/providers').expect(200);
    expect(res.body).toEqual([
      { id: 'google', name: 'Google', loginUrl: '/api/auth/google' },
      { id: 'github', name: 'GitHub', loginUrl: '/api/auth/github' },
    ]);
  });

  it('GET /api/me without credentials answers 401', async () => {
    const res = await request(appUrl).get('/api/me').expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'unauthorized' });
  });

  const cases = [
    { provider: 'google', email: 'alice@example.com' },
    { provider: 'github', email: 'octo@example.com' },
  ] as const;

  describe.each(cases)('$provider', ({ provider, email }) => {
    const browser = () => state.agent;
    const state = {} as {
      agent: ReturnType<typeof request.agent>;
      memberId: string;
      accessToken: string;
      refreshToken: string;
    };

    it('signs in: app → fake authorize → app callback, landing signed in', async () => {
      state.agent = request.agent(appUrl);
      const callbackUrl = `${appUrl}/api/auth/${provider}/callback`;
      const fake = provider === 'google' ? google : github;

      const start = await browser().get(`/api/auth/${provider}`).redirects(0);
      expect(start.status).toBe(302);
      const authorize = new URL(start.headers.location);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(fake.endpoints.authorization);
      expect(authorize.searchParams.get('redirect_uri')).toBe(callbackUrl);

      const atFake = await fetch(authorize, { redirect: 'manual' }); // auto-approved
      expect(atFake.status).toBe(302);
      const back = new URL(atFake.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(callbackUrl);
      expect(back.searchParams.get('code')).toBeTruthy();

      const landed = await browser().get(`${back.pathname}${back.search}`).redirects(0);
      expect(landed.status).toBe(302);
      expect(landed.headers.location).not.toMatch(/error=/);
      state.accessToken = cookie(landed, 'sa_at')!;
      state.refreshToken = cookie(landed, 'sa_rt')!;
      expect(state.accessToken).toBeTruthy();
      expect(state.refreshToken).toBeTruthy();
      // Every module cookie is host-only at Path=/ (a __Host- name on https), so it reaches /api/auth/refresh.
      expect(setCookie(landed, 'sa_rt')).toMatch(/; Path=\/(;|$)/);
    });

    it('GET /api/me answers 200 with the member (access cookie, and Authorization: Bearer)', async () => {
      const viaCookie = await browser().get('/api/me').expect(200);
      expect(viaCookie.body).toMatchObject({ email, emailVerified: true });
      state.memberId = viaCookie.body.id;
      const viaBearer = await request(appUrl).get('/api/me').set('Authorization', `Bearer ${state.accessToken}`).expect(200);
      expect(viaBearer.body).toEqual(viaCookie.body);
    });

    it("the member is a row of the app's own members table", async () => {
      const rows = await app.get(DataSource).query('SELECT id, email, email_verified FROM members WHERE id = $1', [state.memberId]);
      expect(rows).toEqual([{ id: state.memberId, email, email_verified: true }]);
    });

    it('POST /api/auth/refresh rotates: a new access token that works', async () => {
      const res = await browser().post('/api/auth/refresh').set('Origin', appUrl).expect(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
      expect(res.body.accessToken).not.toBe(state.accessToken);
      const rotated = cookie(res, 'sa_rt');
      expect(rotated).toBeTruthy();
      expect(rotated).not.toBe(state.refreshToken);
      state.accessToken = res.body.accessToken;
      state.refreshToken = rotated!;
      const me = await request(appUrl).get('/api/me').set('Authorization', `Bearer ${state.accessToken}`).expect(200);
      expect(me.body.id).toBe(state.memberId);
    });

    it('POST /api/auth/logout ends the session: refresh fails afterwards, the access token is refused', async () => {
      await browser().post('/api/auth/logout').set('Origin', appUrl).expect(204);
      // The browser's cookies are cleared...
      await browser().post('/api/auth/refresh').set('Origin', appUrl).expect(401);
      // ...and the last refresh token itself is dead, as is the access token.
      await request(appUrl).post('/api/auth/refresh').send({ refreshToken: state.refreshToken }).expect(401);
      await request(appUrl).get('/api/me').set('Authorization', `Bearer ${state.accessToken}`).expect(401);
    });
  });

  it('one member per provider account in the members table, none in the module\'s auth_users', async () => {
    const db = app.get(DataSource);
    expect(await db.query('SELECT email FROM members ORDER BY email')).toEqual([{ email: 'alice@example.com' }, { email: 'octo@example.com' }]);
    expect(await db.query('SELECT count(*)::int AS n FROM auth_users')).toEqual([{ n: 0 }]);
  });

  it('the sign-in start route is rate limited (authThrottler + AuthThrottlerGuard): 429 past its budget', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await request(appUrl).get('/api/auth/github').redirects(0);
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(302);
    }
    expect(limited?.body).toMatchObject({ statusCode: 429, error: 'rate_limited' });
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
  });
});

/** The Set-Cookie line of this answer for a cookie (the module's names are unprefixed on plain http). */
function setCookie(res: Response, name: string): string | undefined {
  return res.get('Set-Cookie')?.find((l) => l.startsWith(`${name}=`));
}

/** The value of a cookie this answer sets. */
function cookie(res: Response, name: string): string | undefined {
  return setCookie(res, name)?.slice(name.length + 1).split(';')[0] || undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
