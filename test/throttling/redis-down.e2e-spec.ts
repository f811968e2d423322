import { Logger, LoggerService } from '@nestjs/common';
import { startSignInApp, SignInApp } from '../sign-in/support/sign-in-app';
import { DEMO_COOKIES } from '../support/oauth-driver';
import { RedisInspector, RedisLink, describeWithRedis, uniqueRedisPrefix } from './support/redis-test';

// The e2e project's testTimeout is not applied per project by Jest 30: set it here.
jest.setTimeout(30_000);

// Redis down: the documented answer (docs/several-instances.md). Counters and single-use records
// are in Redis; the link to it is cut and restored by the test. Expected: the app starts and stays
// up, the routes that mint tokens (callback, refresh) fail closed with 503 service_unavailable and
// Retry-After, everything else goes on unlimited, one clear log line per outage, and all is back
// to normal once Redis is.

/** Collects what the app logs (the Nest logger is process-wide). */
class CapturedLog implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, context?: string): void {
    this.lines.push(`LOG [${context}] ${String(message)}`);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push(`ERROR [${String(rest[rest.length - 1])}] ${String(message)}`);
  }
  warn(message: unknown, context?: string): void {
    this.lines.push(`WARN [${context}] ${String(message)}`);
  }
  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }
}

/** Waits until `probe` holds (Redis reconnects in the background, with backoff ≤ 2 s). */
async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

describeWithRedis('Redis-down e2e')('Redis down', () => {
  let link: RedisLink | undefined;
  let s: SignInApp | undefined;
  let redis: RedisInspector | undefined;
  const log = new CapturedLog();

  beforeAll(async () => {
    redis = new RedisInspector(uniqueRedisPrefix('down'));
    link = await RedisLink.reserve();
    // Redis is unreachable while the app boots.
    s = await startSignInApp({ REDIS_URL: link.url, REDIS_PREFIX: redis.prefix });
    Logger.overrideLogger(log);
  }, 60_000);

  afterAll(async () => {
    Logger.overrideLogger(['error', 'warn']);
    await s?.close();
    await link?.down();
    await redis?.close();
  });

  it('starts without Redis, then uses it once it is reachable: sign-in consumes its transaction in Redis', async () => {
    await s!.t.http.get('/health').expect(200);
    await link!.up();
    await eventually(async () => (await s!.t.http.post('/auth/refresh').send({ refreshToken: 'x'.repeat(43) })).status === 401, 'Redis reachable');
    const browser = s!.browser();
    const { callback } = await browser.signIn('github');
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/');
    expect(await redis!.keys('single-use:')).toHaveLength(1);
    const rows = await s!.t.dataSource.query('SELECT COUNT(*) AS n FROM auth_single_use');
    expect(Number(rows[0].n)).toBe(0);
  });

  it('while Redis is down: refresh and callback fail closed (503 + Retry-After), the rest goes on, one log line', async () => {
    const app = s!;
    const browser = app.browser();
    await browser.signIn('google');
    const refreshToken = browser.jar.get(DEMO_COOKIES.refresh)!;
    const accessToken = browser.accessToken!;
    expect(refreshToken && accessToken).toBeTruthy();
    // A flow started before the outage, to be called back during it.
    const pending = app.browser();
    const start = await pending.start('github');
    const callbackUrl = await pending.authorize(start.location!);
    log.lines.length = 0;

    await link!.down();

    const refresh = await app.t.http.post('/auth/refresh').send({ refreshToken });
    expect(refresh.status).toBe(503);
    expect(refresh.body).toEqual({ statusCode: 503, error: 'service_unavailable', message: expect.any(String) });
    expect(refresh.headers['retry-after']).toBe('5');

    const tokenCallsBefore = app.github.requestsTo('/login/oauth/access_token').length;
    const callback = await pending.callback(callbackUrl);
    expect(callback.status).toBe(503);
    expect(callback.headers['retry-after']).toBe('5');
    expect(JSON.parse(callback.text).error).toBe('service_unavailable');
    expect(callback.setCookies.some((c) => c.startsWith(`${DEMO_COOKIES.access}=`))).toBe(false);
    expect(app.github.requestsTo('/login/oauth/access_token')).toHaveLength(tokenCallsBefore);

    // Open: starting a sign-in, the host's routes, signed-in reads, and signing out.
    expect((await app.browser().start('google')).status).toBe(302);
    await app.t.http.get('/health').expect(200);
    await app.t.http.get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);

    const outage = log.matching(/rate-limit store unavailable/);
    expect(outage).toHaveLength(1);
    expect(outage[0]).toMatch(/^ERROR \[AuthThrottlerGuard\] .*503 service_unavailable/);
    // The client's own line comes from its reconnect loop, a moment after the first refusal.
    await eventually(async () => log.matching(/Redis at 127\.0\.0\.1:\d+ unreachable/).length > 0, 'the Redis client logs the outage');
    expect(log.matching(/Redis at 127\.0\.0\.1:\d+ unreachable/)).toHaveLength(1);
    for (const line of log.lines) {
      expect(line).not.toContain(refreshToken);
      expect(line).not.toContain(accessToken);
    }

    // Redis is back: the refused refresh did not spend the token, which now rotates normally.
    await link!.up();
    await eventually(async () => (await app.t.http.post('/auth/refresh').send({ refreshToken: 'x'.repeat(43) })).status === 401, 'Redis reachable again');
    const rotated = await app.t.http.post('/auth/refresh').send({ refreshToken }).expect(200);
    expect(rotated.body.refreshToken).toEqual(expect.any(String));
    expect(log.matching(/rate-limit store reachable again/)).toHaveLength(1);
    expect(log.matching(/Redis at 127\.0\.0\.1:\d+ reachable again/)).toHaveLength(1);
    expect(log.matching(/unreachable|unavailable/)).toHaveLength(2);
  });

  it('signing out works while Redis is down', async () => {
    const app = s!;
    await link!.up();
    await eventually(async () => (await app.t.http.post('/auth/refresh').send({ refreshToken: 'x'.repeat(43) })).status === 401, 'Redis reachable');
    const browser = app.browser();
    await browser.signIn('github');
    const refreshToken = browser.jar.get(DEMO_COOKIES.refresh)!;
    expect(refreshToken).toBeDefined();
    await link!.down();
    try {
      await app.t.http.post('/auth/logout').send({ refreshToken }).expect(204);
    } finally {
      await link!.up();
      // Close the app on a healthy link, as a normal shutdown would.
      await eventually(async () => (await app.t.http.post('/auth/refresh').send({ refreshToken: 'x'.repeat(43) })).status === 401, 'Redis reachable');
    }
  });
});
