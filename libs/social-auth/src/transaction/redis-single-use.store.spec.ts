import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RedisSingleUseStore } from './redis-single-use.store';

// Runs against the real Redis (REDIS_URL, default 127.0.0.1:6379). Outside CI a missing Redis
// skips the file loudly; in CI it fails.
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `test:${randomBytes(6).toString('hex')}:`;

let redis: Redis;
let available = false;

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    available = true;
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`RedisSingleUseStore spec skipped: no Redis at ${REDIS_URL}`);
  }
});

afterAll(async () => {
  if (!available) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const itRedis = (name: string, fn: () => Promise<void>) => it(name, async () => (available ? fn() : undefined));

describe('RedisSingleUseStore', () => {
  itRedis('consumes a key once, then refuses it', async () => {
    const store = new RedisSingleUseStore(redis, prefix);
    expect(await store.consume('oauth-tx:a', 60)).toBe(true);
    expect(await store.consume('oauth-tx:a', 60)).toBe(false);
    expect(await store.consume('oauth-tx:b', 60)).toBe(true);
  });

  itRedis('lets exactly one of many concurrent callers win, across clients', async () => {
    const other = redis.duplicate();
    await other.connect();
    try {
      const stores = [new RedisSingleUseStore(redis, prefix), new RedisSingleUseStore(other, prefix)];
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2].consume('oauth-tx:race', 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await other.quit();
    }
  });

  itRedis('stores only a hash of the key, and lets the record expire on its own', async () => {
    const store = new RedisSingleUseStore(redis, prefix);
    const secret = `oauth-tx:${randomBytes(16).toString('hex')}`;
    await store.consume(secret, 30);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.some((k) => k.includes(secret))).toBe(false);
    const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));
    expect(ttls.every((t) => t > 0 && t <= 60)).toBe(true);
  });

  itRedis('keeps stores with different prefixes apart', async () => {
    const a = new RedisSingleUseStore(redis, `${prefix}a:`);
    const b = new RedisSingleUseStore(redis, `${prefix}b:`);
    expect(await a.consume('k', 60)).toBe(true);
    expect(await b.consume('k', 60)).toBe(true);
  });

  it('rejects (never answers true or false) when Redis cannot be reached', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      await expect(new RedisSingleUseStore(down, prefix).consume('k', 60)).rejects.toThrow();
    } finally {
      down.disconnect();
    }
  });

  it('refuses an empty key and a non-positive ttl', async () => {
    const store = new RedisSingleUseStore({ set: async () => 'OK' }, prefix);
    await expect(store.consume('', 60)).rejects.toThrow(TypeError);
    await expect(store.consume('k', 0)).rejects.toThrow(RangeError);
  });
});
