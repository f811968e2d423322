import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisSingleUseStore } from '@nest-social-auth/core';
import { REDIS_CLIENT } from './redis.module';

/**
 * The demo's binding of the module's `SingleUseStore` when `REDIS_URL` is set: consumed OAuth
 * transactions are `SET NX EX` records under `REDIS_PREFIX` + `single-use:`, seen by every
 * instance and expiring on their own.
 */
@Injectable()
export class DemoRedisSingleUseStore extends RedisSingleUseStore {
  constructor(@Inject(REDIS_CLIENT) redis: Redis) {
    super(redis, 'single-use:');
  }
}
