import { FakeGitHub, FakeGoogle, githubUsers } from '@nest-social-auth/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/bootstrap';
import { databaseKind } from '../../src/config/database.config';
import { loadDemoConfig } from '../../src/config/demo.config';
import { fakeProviderEnv } from '../sign-in/support/sign-in-app';
import { DEMO_COOKIES, OAuthDriver } from '../support/oauth-driver';
import { testHttpPlatform } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { RedisInspector, TEST_REDIS_URL, redisAvailable, uniqueRedisPrefix } from '../throttling/support/redis-test';
import { DemoInstance, startDemoInstance } from './support/demo-instance';
import { CLIENT_IP, LoadBalancer, ROUTE_TO } from './support/load-balancer';

// Two demo processes (A and B) behind one load balancer (one public APP_URL, one trusted proxy hop),
// sharing one PostgreSQL database, one Redis and one JWT secret (docs/several-instances.md). Every assertion is about state that must
// be shared: consumed OAuth transactions, refresh-token families, revocations, rate-limit counters,
// plus a graceful shutdown that lets an in-flight sign-in finish.

jest.setTimeout(30_000);

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const onPostgres = DATABASE_URL !== '' && databaseKind(DATABASE_URL) === 'postgres';
// The instances are spawned demo processes (src/main.ts), which always run on Express: a Fastify
// pass (TEST_HTTP_PLATFORM=fastify) would run the very same Express processes again.
const onExpressPass = testHttpPlatform() === 'express';
if (!onPostgres) {
  console.warn('two-instances e2e SKIPPED: it needs DATABASE_URL=postgres://… (CI runs it in the PostgreSQL pass)');
} else if (!onExpressPass) {
  console.warn('two-instances e2e SKIPPED under TEST_HTTP_PLATFORM=fastify: it spawns the demo, an Express app (the Express pass runs it)');
}

/** The documented revocation bound: `tokens.revocationCacheTtl`, 5 s by default. */
const REVOCATION_BOUND_MS = 5_000;
/** Scheduling slack on a loaded CI machine, on top of the bound. */
const SLACK_MS = 1_500;

/** The request goes through the load balancer to this instance. */
const to = (instance: DemoInstance) => ({ [ROUTE_TO]: instance.name });

(onPostgres && onExpressPass ? describe : describe.skip)('two instances on one PostgreSQL and one Redis', () => {
  let database: TestDatabase;
  let db: DataSource;
  let google: FakeGoogle;
  let github: FakeGitHub;
  let redis: RedisInspector;
  let lb: LoadBalancer;
  let a: DemoInstance;
  let b: DemoInstance;
  /** Every credential handed out, to check that no log line holds one. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    // Shared counters and single-use records need the real Redis (CI always runs one).
    if (!(await redisAvailable('two-instances e2e'))) throw new Error(`two-instances e2e needs Redis at ${TEST_REDIS_URL}`);
    database = await createTestDatabase(DATABASE_URL);
    [google, github] = await Promise.all([FakeGoogle.start(), FakeGitHub.start()]);
    redis = new RedisInspector(uniqueRedisPrefix('two'));
    lb = await LoadBalancer.start();
    const env = {
      APP_URL: lb.url,
      ...fakeProviderEnv(google, github),
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
      AUTH_TRUST_PROXY: '1',
    };
    // The schema first (each instance also runs the migrations at start, then finds none pending),
    // so both can boot at once.
    await runMigrations(loadDemoConfig({ DATABASE_URL: database.url }));
    [a, b] = await Promise.all([startDemoInstance('A', env), startDemoInstance('B', env)]);
    lb.add('A', a.url);
    lb.add('B', b.url);
    const u = new URL(database.url);
    db = new DataSource({ type: 'postgres', host: u.hostname, port: Number(u.port || 5432), username: decodeURIComponent(u.username) || 'postgres', password: decodeURIComponent(u.password) || undefined, database: u.pathname.slice(1) });
    await db.initialize();
  }, 240_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await lb?.stop();
    await db?.destroy();
    await Promise.all([google?.stop(), github?.stop()]);
    await redis?.close();
    await database?.drop();
  });

  beforeEach(() => {
    google.reset();
    github.reset();
  });

  /** A browser that signs in with every request of the flow routed to `instance`. */
  async function signInThrough(instance: DemoInstance, provider: 'google' | 'github' = 'google'): Promise<{ accessToken: string; refreshToken: string }> {
    const browser = new OAuthDriver(lb.url);
    const { callback } = await browser.signIn(provider, { headers: to(instance) });
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/');
    const tokens = { accessToken: browser.accessToken!, refreshToken: browser.jar.get(DEMO_COOKIES.refresh)! };
    expect(tokens.accessToken && tokens.refreshToken).toBeTruthy();
    secrets.add(tokens.accessToken).add(tokens.refreshToken);
    return tokens;
  }

  function refresh(instance: DemoInstance, refreshToken: string) {
    return request(lb.url).post('/auth/refresh').set(to(instance)).send({ refreshToken });
  }

  function me(instance: DemoInstance, accessToken: string) {
    return request(lb.url).get('/me').set(to(instance)).set('Authorization', `Bearer ${accessToken}`);
  }

  /** Polls until `probe` is true; returns the elapsed milliseconds (fails past `limitMs`). */
  async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
    const t0 = Date.now();
    while (!(await probe())) {
      if (Date.now() - t0 > limitMs) throw new Error(`still not true after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - t0;
  }

  it('an OAuth transaction is consumed once across both instances, in Redis', async () => {
    const browser = new OAuthDriver(lb.url);
    const start = await browser.start('google', { headers: to(a) });
    const callbackUrl = new URL(await browser.authorize(start.location!));
    const path = `${callbackUrl.pathname}${callbackUrl.search}`;
    const cookie = browser.jar.header(callbackUrl.pathname);
    // The same callback (URL and transaction cookie) reaches A and B at the same moment.
    const [onA, onB] = await Promise.all([
      request(lb.url).get(path).set(to(a)).set('Cookie', cookie).redirects(0),
      request(lb.url).get(path).set(to(b)).set('Cookie', cookie).redirects(0),
    ]);
    const answers = [onA, onB].map((r) => r.headers.location as string);
    expect(google.requestsTo('/token')).toHaveLength(1);
    expect(answers.filter((l) => /error=invalid_state/.test(l))).toHaveLength(1);
    expect(answers.filter((l) => l === '/')).toHaveLength(1);
    // The marker is in Redis (shared), not in the database table.
    expect(await redis.keys('single-use:')).toHaveLength(1);
    expect(Number((await db.query('SELECT COUNT(*) AS n FROM auth_single_use'))[0].n)).toBe(0);
  });

  it('sign in through A, refresh through B and A, replay an old token on A: the family is revoked on both', async () => {
    const t0 = await signInThrough(a);
    const r1 = await refresh(b, t0.refreshToken).expect(200);
    const r2 = await refresh(a, r1.body.refreshToken).expect(200);
    for (const t of [r1.body.refreshToken, r1.body.accessToken, r2.body.refreshToken, r2.body.accessToken]) secrets.add(t);
    // B has seen the newest access token, so its cache holds "live" for it.
    await me(b, r2.body.accessToken).expect(200);
    await me(a, r2.body.accessToken).expect(200);

    const replay = await refresh(a, t0.refreshToken).expect(401);
    expect(replay.body.error).toBe('refresh_token_reused');
    // The newest refresh token is dead on both instances at once (the family lives in the database).
    expect((await refresh(b, r2.body.refreshToken)).status).toBe(401);
    expect((await refresh(a, r2.body.refreshToken)).status).toBe(401);
    // Access tokens: at once on A (it revoked), on B within the documented bound.
    await me(a, r2.body.accessToken).expect(401);
    const elapsed = await within(REVOCATION_BOUND_MS + SLACK_MS, async () => (await me(b, r2.body.accessToken)).status === 401);
    expect(elapsed).toBeLessThanOrEqual(REVOCATION_BOUND_MS + SLACK_MS);
  });

  it('logout-all on B is seen by A within the documented bound', async () => {
    const laptop = await signInThrough(a);
    const phone = await signInThrough(a);
    await me(a, phone.accessToken).expect(200);
    await me(b, laptop.accessToken).expect(200);

    await request(lb.url).post('/auth/logout-all').set(to(b)).set('Authorization', `Bearer ${laptop.accessToken}`).expect(204);

    // Refresh tokens are refused at once everywhere; access tokens within the bound.
    expect((await refresh(a, phone.refreshToken)).status).toBe(401);
    const elapsed = await within(REVOCATION_BOUND_MS + SLACK_MS, async () => (await me(a, phone.accessToken)).status === 401);
    expect(elapsed).toBeLessThanOrEqual(REVOCATION_BOUND_MS + SLACK_MS);
    await me(b, laptop.accessToken).expect(401);
  });

  // Issue 14 finding 6 (threat model E5): the same bound as every other revocation.
  it('disconnecting a provider on B revokes the sessions opened through it, on A within the documented bound; the others stay', async () => {
    const owner = new OAuthDriver(lb.url);
    expect((await owner.signIn('google', { headers: to(a) })).callback.location).toBe('/');
    github.signInAs(githubUsers.octo({ id: 6_600_066, login: 'unlinked-on-b', email: null, emails: [] }));
    expect((await owner.signIn('github', { link: true, headers: to(a) })).callback.status).toBe(302);
    const throughGithub = await signInThrough(a, 'github');
    const throughGoogle = await signInThrough(a, 'google');
    await me(a, throughGithub.accessToken).expect(200);
    secrets.add(owner.accessToken!);

    await request(lb.url).delete('/auth/identities/github').set(to(b)).set('Authorization', `Bearer ${owner.accessToken}`).expect(204);

    expect((await refresh(a, throughGithub.refreshToken)).status).toBe(401);
    const elapsed = await within(REVOCATION_BOUND_MS + SLACK_MS, async () => (await me(a, throughGithub.accessToken)).status === 401);
    expect(elapsed).toBeLessThanOrEqual(REVOCATION_BOUND_MS + SLACK_MS);
    await me(a, throughGoogle.accessToken).expect(200);
    await me(b, owner.accessToken!).expect(200);
  });

  it('a rate limit is reached half on A and half on B', async () => {
    const client = { [CLIENT_IP]: '198.51.100.77' };
    const limit = 30; // the default start budget (AUTH_RATE_LIMIT_START unset on both instances)
    for (let i = 0; i < limit; i++) {
      const instance = i % 2 ? b : a;
      const res = await request(lb.url).get('/auth/github').set(to(instance)).set(client).redirects(0);
      expect(`${instance.name} #${i} → ${res.status}`).toBe(`${instance.name} #${i} → 302`);
    }
    for (const instance of [a, b]) {
      const res = await request(lb.url).get('/auth/google').set(to(instance)).set(client).redirects(0);
      expect(res.status).toBe(429);
      expect(res.body.error).toBe('rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Another client is unaffected.
    await request(lb.url).get('/auth/github').set(to(b)).set({ [CLIENT_IP]: '198.51.100.78' }).redirects(0).expect(302);
  });

  it('graceful shutdown: a sign-in in flight on B when it gets SIGTERM finishes, then B exits', async () => {
    google.scenario.token.delayMs = 1_500;
    const browser = new OAuthDriver(lb.url);
    const start = await browser.start('google', { headers: to(b) });
    const callbackUrl = await browser.authorize(start.location!);
    const inFlight = browser.callback(callbackUrl, to(b));
    // The callback is waiting on the provider's token endpoint: now stop B.
    await within(10_000, async () => google.requestsTo('/token').length === 1);
    b.child.kill('SIGTERM');

    const callback = await inFlight;
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/');
    const accessToken = browser.accessToken!;
    secrets.add(accessToken).add(browser.jar.get(DEMO_COOKIES.refresh)!);
    const exit = await b.exited;
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    await expect(fetch(`${b.url}/health`)).rejects.toThrow();
    // The session B opened while shutting down was committed: A accepts it.
    await me(a, accessToken).expect(200);
  });

  it('no instance logged a token or a crash', () => {
    const logs = a.output() + b.output();
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
    expect(logs).not.toMatch(/UnhandledPromiseRejection|uncaughtException|\n\s+at .+\.ts:\d+/);
  });
});
