import { createHash } from 'node:crypto';
import type { SingleUseStore } from './single-use.store';

/**
 * The one Redis command the store needs, shaped like ioredis' `set` (node-redis users wrap theirs).
 * The module does not depend on a Redis client package.
 * @publicApi
 */
export interface RedisSetNxClient {
  set(key: string, value: string, secondsToken: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null | string>;
}

/**
 * Single-use records in Redis: `SET <prefix><sha256(key)> 1 NX EX <ttl>`, one atomic command, so
 * exactly one caller on any instance consumes a key, and a record disappears on its own after
 * `ttlSeconds` (storage stays bounded without a sweeper).
 *
 * Invariants:
 * - Fails closed: a Redis error (down, timeout, offline queue disabled) rejects the promise; it
 *   never answers "consumed by you". The caller turns that into a refused sign-in.
 * - Keys are hashed, so raw state values or codes never sit in Redis.
 * - Bind it with the `singleUseStore` extra of `AuthModule.forRoot/forRootAsync`, through a
 *   subclass whose constructor injects your client (the demo does so when `REDIS_URL` is set);
 *   give the client `enableOfflineQueue: false` and a `commandTimeout` so an outage fails fast
 *   instead of queueing sign-ins.
 * @example
 * @Injectable() class AppSingleUseStore extends RedisSingleUseStore {
 *   constructor(@Inject(REDIS) redis: Redis) { super(redis, 'myapp:single-use:'); }
 * }
 * AuthModule.forRootAsync({ useFactory, singleUseStore: AppSingleUseStore })
 * @publicApi
 */
export class RedisSingleUseStore implements SingleUseStore {
  constructor(
    private readonly redis: RedisSetNxClient,
    private readonly prefix = 'single-use:',
  ) {}

  /** True exactly once per key within `ttlSeconds`; false when it was already consumed. */
  async consume(key: string, ttlSeconds: number): Promise<boolean> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('RedisSingleUseStore.consume: key must be a non-empty string');
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError('RedisSingleUseStore.consume: ttlSeconds must be > 0');
    const digest = createHash('sha256').update(key).digest('base64url');
    const answer = await this.redis.set(`${this.prefix}${digest}`, '1', 'EX', Math.ceil(ttlSeconds), 'NX');
    return answer === 'OK';
  }
}
