import { randomBytes } from 'node:crypto';
import { startSignInApp, SignInApp } from '../sign-in/support/sign-in-app';
import { testHttpPlatform } from '../support/test-app';
import { RedisInspector, TEST_REDIS_URL, describeWithRedis, uniqueRedisPrefix } from './support/redis-test';

// The e2e project's testTimeout is not applied per project by Jest 30: set it here.
jest.setTimeout(30_000);

// Threat model H2: nothing a client controls moves it to a fresh bucket: not a forged
// X-Forwarded-For, not another address of its IPv6 /64, not another spelling of the path.
// Budgets are small here (the key scheme is under test, not the numbers).

const LIMIT = 5;
const garbage = () => ({ refreshToken: randomBytes(32).toString('base64url') });
const randomIpv4 = () => `${10 + (randomBytes(1)[0] % 200)}.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;
const randomHextet = () => randomBytes(2).toString('hex');

describeWithRedis('H2 limiter-key e2e')('H2: limiter keys cannot be dodged', () => {
  let direct: SignInApp | undefined;
  let proxied: SignInApp | undefined;
  let redis: RedisInspector | undefined;

  beforeAll(async () => {
    redis = new RedisInspector(uniqueRedisPrefix('h2'));
    const budgets = { AUTH_RATE_LIMIT_START: String(LIMIT), AUTH_RATE_LIMIT_CALLBACK: String(LIMIT), AUTH_RATE_LIMIT_REFRESH: String(LIMIT) };
    const shared = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, ...budgets };
    // Reached directly (AUTH_TRUST_PROXY unset): X-Forwarded-For is the client's own words.
    direct = await startSignInApp({ ...shared });
    // Behind one trusted proxy: only the hop that proxy appended counts.
    proxied = await startSignInApp({ ...shared, AUTH_TRUST_PROXY: '1' });
  }, 60_000);

  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
    await redis?.close();
  });

  it('trust proxy off: a different X-Forwarded-For on every request is still one client', async () => {
    const http = direct!.t.http;
    for (let i = 0; i < LIMIT; i++) {
      await http.post('/auth/refresh').set('X-Forwarded-For', randomIpv4()).set('X-Real-IP', randomIpv4()).send(garbage()).expect(401);
    }
    const limited = await http.post('/auth/refresh').set('X-Forwarded-For', randomIpv4()).send(garbage()).expect(429);
    expect(limited.body.error).toBe('rate_limited');
    await http.post('/auth/refresh').send(garbage()).expect(429);
  });

  it('one trusted hop: forged entries left of the proxy’s are ignored; the proxy’s entry is the client', async () => {
    const http = proxied!.t.http;
    const client = '198.51.100.20';
    for (let i = 0; i < LIMIT; i++) {
      await http.post('/auth/refresh').set('X-Forwarded-For', `${randomIpv4()}, ${randomIpv4()}, ${client}`).send(garbage()).expect(401);
    }
    await http.post('/auth/refresh').set('X-Forwarded-For', `${randomIpv4()}, ${client}`).send(garbage()).expect(429);
    await http.post('/auth/refresh').set('X-Forwarded-For', client).send(garbage()).expect(429);
    // The check can fail: a client the proxy names differently has its own budget.
    await http.post('/auth/refresh').set('X-Forwarded-For', `${client}, 198.51.100.21`).send(garbage()).expect(401);
  });

  it('IPv6: rotating addresses inside one /64 is one client; another /64 is another client', async () => {
    const http = proxied!.t.http;
    const inPrefix = () => `2001:db8:abcd:12:${randomHextet()}:${randomHextet()}:${randomHextet()}:${randomHextet()}`;
    for (let i = 0; i < LIMIT; i++) {
      await http.post('/auth/refresh').set('X-Forwarded-For', inPrefix()).send(garbage()).expect(401);
    }
    await http.post('/auth/refresh').set('X-Forwarded-For', inPrefix()).send(garbage()).expect(429);
    await http.post('/auth/refresh').set('X-Forwarded-For', '2001:DB8:ABCD:12::1').send(garbage()).expect(429);
    await http.post('/auth/refresh').set('X-Forwarded-For', '2001:db8:abcd:13::1').send(garbage()).expect(401);
  });

  it('IPv4-mapped IPv6 is the IPv4 client', async () => {
    const http = proxied!.t.http;
    for (let i = 0; i < LIMIT; i++) {
      await http.post('/auth/refresh').set('X-Forwarded-For', i % 2 ? '203.0.113.50' : '::ffff:203.0.113.50').send(garbage()).expect(401);
    }
    await http.post('/auth/refresh').set('X-Forwarded-For', '::ffff:cb00:7132').send(garbage()).expect(429);
    await http.post('/auth/refresh').set('X-Forwarded-For', '203.0.113.50').send(garbage()).expect(429);
  });

  it('path spelling: /AUTH/refresh, /auth/refresh/, /auth/REFRESH, ?query all spend one bucket; //auth/refresh never reaches the handler', async () => {
    const http = proxied!.t.http;
    const client = { 'X-Forwarded-For': '198.51.100.30' };
    const spellings = ['/AUTH/refresh', '/auth/refresh/', '/auth/REFRESH', '/Auth/Refresh?x=1', '/auth/refresh'];
    expect(spellings).toHaveLength(LIMIT);
    for (const path of spellings) await http.post(path).set(client).send(garbage()).expect(401);
    for (const path of spellings) {
      const res = await http.post(path).set(client).send(garbage());
      expect(`${path} → ${res.status}`).toBe(`${path} → 429`);
    }
    // Spellings the router does not match are 404 before any guard or handler: nothing to gain.
    // Fastify decodes the path before routing, so /auth/%72efresh is the refresh route there, and
    // spends (here: is refused by) the same bucket.
    const decodesPath = testHttpPlatform() === 'fastify';
    for (const path of ['//auth/refresh', '/auth//refresh', '/auth/refresh//', '/auth/%72efresh', '/auth/refresh;x']) {
      const res = await http.post(path).set(client).send(garbage());
      const expected = decodesPath && path === '/auth/%72efresh' ? 429 : 404;
      expect(`${path} → ${res.status}`).toBe(`${path} → ${expected}`);
    }
    // The same holds for the other limited routes (start, callback): one bucket per handler.
    const starts = ['/auth/google', '/AUTH/google', '/auth/GOOGLE/', '/auth/github', '/auth/nobody'];
    for (const path of starts) await http.get(path).set(client);
    expect((await http.get('/auth/google').set(client)).status).toBe(429);
  });

  it('the counters live under the configured Redis prefix, keyed by hashes (no address or path in clear)', async () => {
    const keys = await redis!.keys();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.startsWith(redis!.prefix)).toBe(true);
      expect(key).not.toMatch(/198\.51|2001:db8|refresh/i);
    }
  });
});
