import { randomBytes } from 'node:crypto';
import { DEFAULT_THROTTLER } from '../../src/throttling/throttling.module';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * The demo's own `default` throttler (a ceiling on every route) must not also count the module's
 * budgeted routes: `AUTH_RATE_LIMIT_REFRESH` is the refresh budget, above the ceiling as well as
 * below it. The ceiling is lowered here (3 per minute) so the test needs a handful of requests, not 600.
 */
describe('the refresh budget set in the environment is the one enforced', () => {
  const ceiling = DEFAULT_THROTTLER.limit;
  let t: TestApp;

  beforeAll(async () => {
    (DEFAULT_THROTTLER as { limit: number }).limit = 3;
    t = await createTestApp({ AUTH_RATE_LIMIT_REFRESH: '8' });
  }, 60_000);

  afterAll(async () => {
    (DEFAULT_THROTTLER as { limit: number }).limit = ceiling;
    await t?.close();
  });

  const garbage = () => ({ refreshToken: randomBytes(32).toString('base64url') });

  it('AUTH_RATE_LIMIT_REFRESH=8 above a default ceiling of 3: eight refreshes are answered, the ninth is 429', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await t.http.post('/auth/refresh').send(garbage());
      expect([i, res.status, res.body.error]).toEqual([i, 401, 'refresh_token_invalid']);
    }
    const limited = await t.http.post('/auth/refresh').send(garbage()).expect(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('a route without a module budget still gets the default ceiling', async () => {
    for (let i = 0; i < 3; i++) await t.http.get('/health').expect(200);
    await t.http.get('/health').expect(429);
  });
});
