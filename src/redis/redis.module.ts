import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { DemoConfig } from '../config/demo.config';

/**
 * Injection token of the demo's shared Redis client, or `null` when `REDIS_URL` is unset (then
 * everything runs on the database and in-process counters).
 */
export const REDIS_CLIENT = Symbol('DEMO:REDIS_CLIENT');

/** How long start-up waits for Redis before going on without it (it keeps reconnecting). */
const CONNECT_WAIT_MS = 2_000;

/**
 * The one Redis connection of the demo, shared by the throttler storage and the single-use store.
 *
 * Invariants:
 * - An outage never queues requests or crashes the process: no offline queue, one retry per
 *   command, a command timeout; callers get an error at once and decide (see AuthThrottlerGuard,
 *   RedisSingleUseStore). ioredis keeps reconnecting in the background.
 * - One log line when Redis becomes unreachable and one when it is back, never the URL (it may
 *   carry a password).
 * - Every key gets `REDIS_PREFIX`.
 * - Closed in `onApplicationShutdown`, after the HTTP server has drained in-flight requests.
 */
export function createRedisClient(url: string, prefix: string, logger = new Logger('Redis')): Redis {
  const client = new Redis(url, {
    keyPrefix: prefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  const where = safeLocation(url);
  let down = false;
  client.on('error', (error: Error & { code?: string }) => {
    if (down) return;
    down = true;
    logger.error(`Redis at ${where} unreachable (${error.code ?? error.name}): rate limits on sign-in callbacks and refresh fail closed until it is back`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`Redis at ${where} reachable again`);
  });
  return client;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.redis || this.redis.status === 'end') return;
    // QUIT lets pending replies arrive; without a live connection there is nothing to wait for.
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // fall through
      }
    }
    this.redis.disconnect(false);
  }
}

/** Provides {@link REDIS_CLIENT} to the whole demo. */
@Module({})
export class RedisModule {
  static forRoot(config: Pick<DemoConfig, 'redisUrl' | 'redisPrefix'>): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS_CLIENT,
          useFactory: async (): Promise<Redis | null> => {
            if (!config.redisUrl) return null;
            const client = createRedisClient(config.redisUrl, config.redisPrefix);
            // Start even when Redis is down: the failure is logged once and ioredis reconnects.
            await Promise.race([client.connect().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref())]);
            return client;
          },
        },
        RedisLifecycle,
      ],
      exports: [REDIS_CLIENT],
    };
  }
}

/** `host:port` of a Redis URL, without credentials. */
function safeLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'REDIS_URL';
  }
}
