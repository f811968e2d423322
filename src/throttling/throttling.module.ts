import { DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerModuleOptions } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { Redis } from 'ioredis';
import { AuthThrottlerGuard, authThrottler, hasAuthRateLimit } from '@nest-social-auth/core';
import type { DemoConfig } from '../config/demo.config';
import { REDIS_CLIENT } from '../redis/redis.module';

/**
 * Every route of the demo without a budget of the module's: a generous ceiling per client, against
 * floods rather than abuse. The module's budgeted routes (start, callback, refresh) skip it, so
 * `AUTH_RATE_LIMIT_*` alone decides there (above or below this ceiling).
 */
export const DEFAULT_THROTTLER = { name: 'default', ttl: 60_000, limit: 600 } as const;

/**
 * The demo's throttler options: the host's own `default` throttler on every other route plus the
 * module's `social-auth` throttler (limits from `AUTH_RATE_LIMIT_*`) on the module's budgeted routes. Counters live in Redis when
 * `REDIS_URL` is set, so every instance counts against the same budget; otherwise in memory.
 */
export function throttlerOptions(config: Pick<DemoConfig, 'rateLimits'>, redis: Redis | null): ThrottlerModuleOptions {
  return {
    throttlers: [
      { ...DEFAULT_THROTTLER, skipIf: hasAuthRateLimit },
      authThrottler({
        start: { limit: config.rateLimits.start, ttl: 60_000 },
        callback: { limit: config.rateLimits.callback, ttl: 60_000 },
        refresh: { limit: config.rateLimits.refresh, ttl: 60_000 },
        token: { limit: config.rateLimits.token, ttl: 60_000 },
      }),
    ],
    storage: redis ? new ThrottlerStorageRedisService(redis) : undefined,
  };
}

/**
 * The host owns `ThrottlerModule` (the library never registers it) and the guard:
 * `AuthThrottlerGuard` is the app-wide guard, so every route is limited, with keys that honour
 * only `AUTH_TRUST_PROXY` hops and group IPv6 clients per /64.
 */
@Module({})
export class ThrottlingModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: ThrottlingModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [REDIS_CLIENT],
          useFactory: (redis: Redis | null) => {
            if (!redis && config.production) {
              new Logger('Throttling').warn('REDIS_URL is not set: rate limits are counted per instance');
            }
            return throttlerOptions(config, redis);
          },
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: AuthThrottlerGuard }],
    };
  }
}
