import { RequestMethod } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { DEMO_COOKIES, OAuthDriver, type Hop } from '../support/oauth-driver';
import { createTestApp, reservePort } from '../support/test-app';
import { expectSignedIn } from '../sign-in/support/refusals';
import { fakeProviderEnv, startSignInApp, useSignInApp, type SignInApp } from '../sign-in/support/sign-in-app';
import { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { startOidcWorld, type OidcWorld } from '../oidc/support/oidc-fixture';
import { cookieValue, signIn } from '../sessions/session-fixtures';

/** The `Path` attribute of the cookie `name` set (not cleared) by `hop`. */
function cookiePath(hop: Hop, name: string): string | undefined {
  const line = hop.setCookies.find((c) => c.startsWith(`${name}=`) && !/;\s*max-age=0/i.test(c));
  return line?.match(/;\s*Path=([^;]*)/i)?.[1];
}

/** The `Path` attributes of the cookies `hop` clears. */
function clearedPaths(hop: Hop): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of hop.setCookies.filter((line) => /;\s*max-age=0/i.test(line))) out[c.slice(0, c.indexOf('='))] = c.match(/;\s*Path=([^;]*)/i)![1];
  return out;
}

/**
 * A full sign-in with `provider` through the fake, where the auth routes are served at `auth`
 * (`/api/auth`, `/auth`) and the callback at `callbackBase`: the redirect_uri sent to the provider
 * (authorize and token request) is the served callback, every cookie is `Path=/` (host-only, so
 * that `__Host-` names are possible: threat model F2) wherever the routes are, and refresh and
 * logout work with those cookies.
 */
async function signInRefreshLogout(s: SignInApp, provider: 'google' | 'github', paths: { auth: string; callbackBase: string; me: string }) {
  const expected = `${s.t.url}${paths.callbackBase}/${provider}/callback`;
  const fake = provider === 'google' ? s.google : s.github;
  fake.scenario.allowedRedirectUris = [expected];
  const browser: OAuthDriver = s.browser({ prefix: paths.auth });

  const { start, callback } = await browser.signIn(provider, { returnTo: '/landing' });
  expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(expected);
  expect(fake.authorizations.map((a) => a.redirectUri)).toEqual([expected]);
  const tokenRequest = fake.requests.find((r) => r.method === 'POST')!;
  expect((tokenRequest.body as Record<string, string>).redirect_uri).toBe(expected);
  expect(cookiePath(start, DEMO_COOKIES.transaction)).toBe('/');
  expectSignedIn(callback, '/landing');
  expect(cookiePath(callback, DEMO_COOKIES.access)).toBe('/');
  expect(cookiePath(callback, DEMO_COOKIES.refresh)).toBe('/');
  expect(clearedPaths(callback)).toEqual({ [DEMO_COOKIES.transaction]: '/' });

  const me = await browser.get(`${paths.auth}/me`);
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ identities: [{ provider }] });
  expect((await browser.get(paths.me)).status).toBe(200);

  // The browser sends the refresh cookie to the served refresh route (its Path holds it).
  const refreshed = await browser.send('POST', `${paths.auth}/refresh`, { Origin: s.t.url });
  expect(refreshed.status).toBe(200);
  expect(cookiePath(refreshed, DEMO_COOKIES.refresh)).toBe('/');

  const logout = await browser.send('POST', `${paths.auth}/logout`, { Origin: s.t.url });
  expect(logout.status).toBe(204);
  expect(clearedPaths(logout)).toEqual({ [DEMO_COOKIES.access]: '/', [DEMO_COOKIES.refresh]: '/' });
  expect(browser.jar.names()).toEqual([]);
  expect((await browser.get(`${paths.auth}/me`)).status).toBe(401);
}

describe("app.setGlobalPrefix('api'): the module's addresses follow its routes", () => {
  const app = useSignInApp({ setup: { beforeListen: (a) => a.setGlobalPrefix('api') } });

  it('GET /api/auth/providers lists prefixed login URLs; nothing is left at /auth', async () => {
    const res = await app().t.http.get('/api/auth/providers').expect(200);
    expect(res.body).toEqual([
      { id: 'google', name: 'Google', loginUrl: '/api/auth/google' },
      { id: 'github', name: 'GitHub', loginUrl: '/api/auth/github' },
    ]);
    await app().t.http.get('/auth/providers').expect(404);
  });

  it.each(['google', 'github'] as const)('%s: sign-in with redirect_uri under /api, cookies at /, refresh and logout', async (provider) => {
    await signInRefreshLogout(app(), provider, { auth: '/api/auth', callbackBase: '/api/auth', me: '/api/me' });
  });
});

describe("app.setGlobalPrefix('api', { exclude }) with the auth routes excluded: they stay unprefixed, the host's routes move", () => {
  const app = useSignInApp({ setup: { beforeListen: (a) => a.setGlobalPrefix('api', { exclude: ['auth/{*path}'] }) } });

  it('lists unprefixed login URLs', async () => {
    const res = await app().t.http.get('/auth/providers').expect(200);
    expect(res.body).toEqual([
      { id: 'google', name: 'Google', loginUrl: '/auth/google' },
      { id: 'github', name: 'GitHub', loginUrl: '/auth/github' },
    ]);
    await app().t.http.get('/api/auth/providers').expect(404);
  });

  it.each(['google', 'github'] as const)('%s: sign-in, refresh and logout at /auth while the app is under /api', async (provider) => {
    await signInRefreshLogout(app(), provider, { auth: '/auth', callbackBase: '/auth', me: '/api/me' });
  });
});

describe('exclude matched the way Nest matches it: by route path and method', () => {
  // Only the callback route (any method) is excluded: the flow starts under /api and comes back
  // unprefixed; the transaction cookie (Path=/) reaches the callback wherever it is served.
  const app = useSignInApp({
    setup: { beforeListen: (a) => a.setGlobalPrefix('api', { exclude: [{ path: 'auth/:provider/callback', method: RequestMethod.ALL }] }) },
  });

  it('github: starts at /api/auth/github, comes back to /auth/github/callback; the transaction cookie (Path=/) follows', async () => {
    const s = app();
    const expected = `${s.t.url}/auth/github/callback`;
    s.github.scenario.allowedRedirectUris = [expected];
    const browser = s.browser({ prefix: '/api/auth' });
    const { start, callbackUrl, callback } = await browser.signIn('github');
    expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(expected);
    expect(callbackUrl.startsWith(`${expected}?`)).toBe(true);
    expect(cookiePath(start, DEMO_COOKIES.transaction)).toBe('/');
    expectSignedIn(callback);
    expect(cookiePath(callback, DEMO_COOKIES.refresh)).toBe('/');
    expect((await browser.send('POST', '/api/auth/refresh', { Origin: s.t.url })).status).toBe(200);
  });

  it('a GET-only exclusion does not move the callback, which is routed for every method', async () => {
    const s = await startSignInApp({}, { beforeListen: (a) => a.setGlobalPrefix('api', { exclude: [{ path: 'auth/{*path}', method: RequestMethod.GET }] }) });
    try {
      const start = await s.browser({ prefix: '/auth' }).start('github');
      expect(start.status).toBe(302);
      expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(`${s.t.url}/api/auth/github/callback`);
      expect(cookiePath(start, DEMO_COOKIES.transaction)).toBe('/');
      await s.t.http.get('/auth/github/callback').expect(404);
    } finally {
      await s.close();
    }
  });

  it('refresh and logout under different prefixes: the refresh cookie (Path=/) reaches both', async () => {
    const google = await FakeGoogle.start();
    const github = await FakeGitHub.start();
    try {
      const exclude = (a: INestApplication) => a.setGlobalPrefix('api', { exclude: [{ path: 'auth/refresh', method: RequestMethod.POST }] });
      const t = await createTestApp(fakeProviderEnv(google, github), { beforeListen: exclude });
      try {
        const { tokens } = await signIn(t);
        const refreshed = await t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', `${DEMO_COOKIES.refresh}=${tokens.refreshToken}`).expect(200);
        const rotated = cookieValue(refreshed, DEMO_COOKIES.refresh)!;
        await t.http.post('/api/auth/logout').set('Origin', t.url).set('Cookie', `${DEMO_COOKIES.refresh}=${rotated}`).expect(204);
      } finally {
        await t.close();
      }
    } finally {
      await Promise.all([google.stop(), github.stop()]);
    }
  });
});

describe("a generic OpenID provider under app.setGlobalPrefix('api')", () => {
  let w: OidcWorld;
  beforeAll(async () => {
    w = await startOidcWorld({}, { authPath: '/api/auth', setup: { beforeListen: (a) => a.setGlobalPrefix('api') } });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('signs in with the callback the OP registered under /api/auth (oidc-provider refuses any other redirect_uri)', async () => {
    w.keycloak.account = { sub: 'kc-prefixed', email: 'prefixed@example.test', email_verified: true, name: 'Prefixed' };
    const browser = new OAuthDriver(w.t.url, { prefix: '/api/auth' });
    const start = await browser.start('keycloak');
    expect(start.status).toBe(302);
    expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(`${w.t.url}/api/auth/keycloak/callback`);
    expect(cookiePath(start, DEMO_COOKIES.transaction)).toBe('/');
    const callback = await browser.callback(await w.keycloak.authorize(start.location!));
    expect({ status: callback.status, location: callback.location }).toEqual({ status: 302, location: '/' });
    expect(cookiePath(callback, DEMO_COOKIES.refresh)).toBe('/');
    const me = await browser.get('/api/auth/me');
    expect(me.body).toMatchObject({ displayName: 'Prefixed', identities: [{ provider: 'keycloak' }] });
  });
});

describe("appUrl with a path (a proxy serves the app under /app) and a global prefix: both go into the module's addresses", () => {
  let s: SignInApp;
  beforeAll(async () => {
    const port = String(await reservePort());
    s = await startSignInApp({ PORT: port, APP_URL: `http://127.0.0.1:${port}/app` }, { beforeListen: (a) => a.setGlobalPrefix('api') });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('login URLs and redirect_uri start with /app/api/auth (the proxy strips /app); cookies are at /', async () => {
    const providers = await s.t.http.get('/api/auth/providers').expect(200);
    expect(providers.body).toContainEqual({ id: 'github', name: 'GitHub', loginUrl: '/app/api/auth/github' });
    // No proxy in this test: the app is asked directly, as the proxy would after stripping /app.
    const start = await s.browser({ prefix: '/api/auth' }).start('github');
    expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${new URL(s.t.url).port}/app/api/auth/github/callback`);
    expect(cookiePath(start, DEMO_COOKIES.transaction)).toBe('/');
  });
});
