import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { AUTH_RATE_LIMITS, resolveAuthOptions } from '@nest-social-auth/core';
import { loadDemoConfig } from '../../src/config/demo.config';
import { startSignInApp, SignInApp } from '../sign-in/support/sign-in-app';
import { DEMO_COOKIES } from '../support/oauth-driver';
import { RedisInspector, TEST_REDIS_URL, describeWithRedis, uniqueRedisPrefix } from './support/redis-test';

// The e2e project's testTimeout is not applied per project by Jest 30: set it here.
jest.setTimeout(30_000);

// Threat model H1: every auth route has a budget (429 rate_limited + Retry-After past it), a flood of
// callbacks cannot make more code exchanges than the callback budget, and flows that are started
// but never finished cost no server-side storage. Counters live in the real Redis, like production.

const AUTH_TABLES = ['auth_users', 'auth_identities', 'auth_sessions', 'auth_refresh_tokens', 'auth_single_use', 'auth_audit_events'];

async function rowCounts(s: SignInApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of AUTH_TABLES) out[table] = Number((await s.t.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  return out;
}

function expectRateLimited(res: { status: number; headers: Record<string, unknown>; body?: unknown; text: string }, budgetSeconds = 60): void {
  expect(res.status).toBe(429);
  expect(JSON.parse(res.text)).toEqual({ statusCode: 429, error: 'rate_limited', message: expect.any(String) });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(budgetSeconds);
}

/**
 * Starts `count` GitHub sign-ins (from 100 client addresses behind the trusted proxy) on a worker
 * thread, and reports how many answered 302 with a transaction cookie. (Google's start is the same
 * code path plus a discovery check; the budget test above starts both.)
 */
function startFlowsOnWorker(base: string, count: number, cookieName: string): Promise<{ started: number; failures: string[]; maxCookieLength: number }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { base, count, cookieName } = workerData;
    let next = 0, started = 0, maxCookieLength = 0;
    const failures = [];
    const browser = async () => {
      while (next < count) {
        const i = next++;
        const res = await fetch(base + '/auth/github?returnTo=/x' + i, {
          redirect: 'manual',
          headers: { 'X-Forwarded-For': '192.0.2.' + ((i % 100) + 1) },
        });
        await res.arrayBuffer();
        const tx = res.headers.getSetCookie().find((c) => c.startsWith(cookieName + '='));
        if (res.status === 302 && tx) { started++; maxCookieLength = Math.max(maxCookieLength, tx.length); }
        else if (failures.length < 5) failures.push(i + ': ' + res.status);
      }
    };
    Promise.all(Array.from({ length: 16 }, browser)).then(
      () => parentPort.postMessage({ started, failures, maxCookieLength }),
      (error) => parentPort.postMessage({ started, failures: [...failures, String(error)], maxCookieLength }),
    );`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { base, count, cookieName } });
    worker.once('message', (message) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Runs `count` jobs with at most `width` in flight. */
async function pool<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results;
}

/** `X-Forwarded-For` as the one trusted proxy (AUTH_TRUST_PROXY=1) writes it: one client per test. */
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

describeWithRedis('H1 throttling e2e')('H1: throttling and bounded state', () => {
  let defaults: SignInApp | undefined;
  let flood: SignInApp | undefined;
  let redisA: RedisInspector | undefined;
  let redisB: RedisInspector | undefined;

  beforeAll(async () => {
    redisA = new RedisInspector(uniqueRedisPrefix('h1a'));
    redisB = new RedisInspector(uniqueRedisPrefix('h1b'));
    // The documented default budgets, behind one trusted proxy so each test is its own client.
    defaults = await startSignInApp({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redisA.prefix,
      AUTH_TRUST_PROXY: '1',
      AUTH_RATE_LIMIT_START: String(AUTH_RATE_LIMITS.start.limit),
      AUTH_RATE_LIMIT_CALLBACK: String(AUTH_RATE_LIMITS.callback.limit),
      AUTH_RATE_LIMIT_REFRESH: String(AUTH_RATE_LIMITS.refresh.limit),
    });
    // Starts unlimited and 100 clients (the host's own 600/min ceiling applies per client), so
    // 10 000 flows can be opened within the test.
    flood = await startSignInApp({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisB.prefix, AUTH_TRUST_PROXY: '1', AUTH_RATE_LIMIT_START: '100000' });
  }, 60_000);

  afterAll(async () => {
    await defaults?.close();
    await flood?.close();
    await redisA?.close();
    await redisB?.close();
  });

  it('the demo defaults are the module defaults', () => {
    expect(loadDemoConfig({}).rateLimits).toEqual({
      start: AUTH_RATE_LIMITS.start.limit,
      callback: AUTH_RATE_LIMITS.callback.limit,
      refresh: AUTH_RATE_LIMITS.refresh.limit,
      token: AUTH_RATE_LIMITS.token.limit,
      machineClient: resolveAuthOptions({ appUrl: 'http://x.test', tokens: { secret: 'x'.repeat(32) } }).machineClients.clientRateLimit,
    });
  });

  it('GET /auth/:provider: the start budget, then 429 rate_limited with Retry-After, whatever the provider', async () => {
    const http = defaults!.t.http;
    const client = from('198.51.100.1');
    const limit = AUTH_RATE_LIMITS.start.limit;
    const statuses = await pool(limit, 10, (i) => http.get(i % 2 ? '/auth/google' : '/auth/github').set(client).then((r) => r.status));
    expect(statuses.every((st) => st === 302)).toBe(true);
    expectRateLimited(await http.get('/auth/google').set(client));
    expectRateLimited(await http.get('/auth/github').set(client));
    expectRateLimited(await http.get('/auth/no-such-provider').set(client));
    // Another client still starts: the budget is per client.
    await http.get('/auth/google').set(from('198.51.100.99')).expect(302);
    // The counters are in Redis (shared by every instance), not in this process.
    expect((await redisA!.keys(':social-auth}:')).length).toBeGreaterThan(0);
  });

  it('POST /auth/refresh: the refresh budget, then 429 even for a valid token, which the refused request does not spend', async () => {
    const s = defaults!;
    const client = from('198.51.100.2');
    const browser = s.browser();
    const { callback } = await browser.signIn('google', { headers: client });
    expect(callback.status).toBe(302);
    const first = browser.jar.get(DEMO_COOKIES.refresh)!;
    expect(first).toBeDefined();

    const limit = AUTH_RATE_LIMITS.refresh.limit;
    const http = s.t.http;
    const garbage = await pool(limit - 1, 10, () =>
      http.post('/auth/refresh').set(client).send({ refreshToken: randomBytes(32).toString('base64url') }).then((r) => r.status),
    );
    expect(garbage.every((st) => st === 401)).toBe(true);
    const rotated = await http.post('/auth/refresh').set(client).send({ refreshToken: first }).expect(200);
    const successor = rotated.body.refreshToken as string;
    expectRateLimited(await http.post('/auth/refresh').set(client).send({ refreshToken: successor }));
    expectRateLimited(await http.post('/AUTH/refresh/').set(client).send({ refreshToken: successor }));
    // The successor is still the live token of the session: another client may rotate it once.
    await http.post('/auth/refresh').set(from('198.51.100.98')).send({ refreshToken: successor }).expect(200);
  });

  it('GET /auth/:provider/callback: a flood with random codes makes at most the callback budget of code exchanges', async () => {
    const s = defaults!;
    s.reset();
    const attacker = from('198.51.100.3');
    const limit = AUTH_RATE_LIMITS.callback.limit;
    const attempts = limit + 15;
    // Real transactions (started from many addresses), each called back with a random code.
    const flows = await pool(attempts, 10, async (i) => {
      const browser = s.browser();
      const start = await browser.start('google', { headers: from(`203.0.113.${i + 1}`) });
      expect(start.status).toBe(302);
      const callbackUrl = new URL(await browser.authorize(start.location!));
      callbackUrl.searchParams.set('code', randomBytes(16).toString('base64url'));
      return { browser, callbackUrl: callbackUrl.toString() };
    });
    const answers = await pool(attempts, 8, (i) => flows[i].browser.callback(flows[i].callbackUrl, attacker));
    const exchanges = s.google.requestsTo('/token');
    const limited = answers.filter((a) => a.status === 429);
    expect(exchanges.length).toBeLessThanOrEqual(limit);
    expect(exchanges.length).toBe(limit);
    expect(limited).toHaveLength(attempts - limit);
    for (const a of limited) expectRateLimited(a);
    // The ones that got through were refused by the provider and landed on the error page.
    for (const a of answers.filter((x) => x.status !== 429)) expect(a.location).toMatch(/[?&]error=/);
    expect(exchanges.every((r) => r.rejected === 'unknown_code')).toBe(true);
  });

  it('10 000 flows started and never finished write nothing: no row, no Redis record, one bounded cookie each', async () => {
    const f = flood!;
    const rowsBefore = await rowCounts(f);
    const keysBefore = (await redisB!.keys()).length;
    // The browsers run on a worker thread so the app keeps this thread (and CI's other core).
    const result = await startFlowsOnWorker(f.t.url, 10_000, DEMO_COOKIES.transaction);
    expect(result).toEqual({ started: 10_000, failures: [], maxCookieLength: expect.any(Number) });
    expect(result.maxCookieLength).toBeLessThan(4096);
    expect(await rowCounts(f)).toEqual(rowsBefore);
    expect(await redisB!.keys('single-use:')).toHaveLength(0);
    // Only counters were written: two per client (default and start throttlers), not one per flow.
    expect((await redisB!.keys()).length - keysBefore).toBeLessThanOrEqual(200);
  }, 180_000);
});
