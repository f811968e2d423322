import { Controller, ExecutionContext, Get, INestApplication, Logger, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerModule, ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import request from 'supertest';
import { AUTH_RATE_LIMITS, AuthRateLimited, AuthThrottlerGuard, authThrottler, clientAddressKey, hasAuthRateLimit } from './auth-throttler.guard';

describe('clientAddressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['0:0:0:0:0:ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2:0:0:0:0/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2:0:0:0:0/64'],
    ['2001:DB8:1:2:ffff::', '2001:db8:1:2:0:0:0:0/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3:0:0:0:0/64'],
    ['fe80::1%eth0', 'fe80:0:0:0:0:0:0:0/64'],
    ['::1', '0:0:0:0:0:0:0:0/64'],
    ['', 'unknown'],
    [undefined, 'unknown'],
    ['not-an-ip', 'unknown'],
    ['1.2.3.4, 5.6.7.8', 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });

  it('honours another prefix length', () => {
    expect(clientAddressKey('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1:0:0:0:0:0/48');
    expect(clientAddressKey('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(clientAddressKey('2001:db8:1:2ff:3:4:5:6', 56)).toBe('2001:db8:1:200:0:0:0:0/56');
  });
});

describe('authThrottler', () => {
  it('refuses budgets that are not whole positive numbers', () => {
    expect(() => authThrottler({ refresh: { limit: 0 } })).toThrow('refresh.limit');
    expect(() => authThrottler({ start: { limit: 1.5 } })).toThrow('start.limit');
    expect(() => authThrottler({ callback: { ttl: 10 } })).toThrow('callback.ttl');
  });
});

/** A counter store a test can take down: the in-memory one, or an error like an unreachable Redis. */
class SwitchableStorage implements ThrottlerStorage {
  readonly memory = new ThrottlerStorageService();
  down = false;
  increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<ThrottlerStorageRecord> {
    if (this.down) return Promise.reject(Object.assign(new Error("connect ECONNREFUSED redis://user:hunter2@10.0.0.1:6379"), { code: 'ECONNREFUSED' }));
    return this.memory.increment(key, ttl, limit, blockDuration, name);
  }
}

@Controller('auth')
class MarkedController {
  @AuthRateLimited('start') @Get(':provider') start(): string {
    return 'start';
  }
  @AuthRateLimited('callback') @Get(':provider/callback') callback(): string {
    return 'callback';
  }
  @AuthRateLimited('refresh') @Post('refresh') refresh(): string {
    return 'refresh';
  }
}

@Controller('other')
class HostController {
  @Get() other(): string {
    return 'other';
  }
}

describe('hasAuthRateLimit: the host\'s other throttlers skip the module\'s budgeted routes', () => {
  const context = (classRef: new () => object, method: string) =>
    ({ getClass: () => classRef, getHandler: () => (classRef.prototype as Record<string, unknown>)[method] }) as unknown as ExecutionContext;
  it.each<[string, ExecutionContext, boolean]>([
    ['start', context(MarkedController, 'start'), true],
    ['callback', context(MarkedController, 'callback'), true],
    ['refresh', context(MarkedController, 'refresh'), true],
    ['a host route', context(HostController, 'other'), false],
  ])('%s → %s', (_name, ctx, expected) => {
    expect(hasAuthRateLimit(ctx)).toBe(expected);
    // The module's own throttler is the exact complement: it counts only those routes.
    expect((authThrottler().skipIf as (c: ExecutionContext) => boolean)(ctx)).toBe(!expected);
  });
});

describe('AuthThrottlerGuard in an app', () => {
  let app: INestApplication;
  let storage: SwitchableStorage;
  let errors: string[];
  let logs: string[];

  beforeEach(async () => {
    storage = new SwitchableStorage();
    errors = [];
    logs = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void logs.push(String(message)));
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: 60_000, limit: 1000 }, authThrottler({ start: { limit: 3 }, callback: { limit: 2 }, refresh: { limit: 4 } })],
          storage,
        }),
      ],
      controllers: [MarkedController, HostController],
      providers: [{ provide: APP_GUARD, useClass: AuthThrottlerGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterEach(async () => {
    await app.close();
    storage.memory.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('answers 429 rate_limited with Retry-After once a route budget is spent', async () => {
    for (let i = 0; i < 4; i++) await request(app.getHttpServer()).post('/auth/refresh').expect(201);
    const limited = await request(app.getHttpServer()).post('/auth/refresh').expect(429);
    expect(limited.body).toEqual({ statusCode: 429, error: 'rate_limited', message: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('keeps one bucket per handler whatever the spelling, and separate buckets per handler', async () => {
    const http = () => request(app.getHttpServer());
    await http().get('/auth/google').expect(200);
    await http().get('/AUTH/github').expect(200);
    await http().get('/auth/google/').expect(200);
    await http().get('/auth/Google').expect(429);
    // Another handler has its own budget.
    await http().get('/auth/google/callback').expect(200);
  });

  it('leaves unmarked routes to the host throttlers only', async () => {
    for (let i = 0; i < 10; i++) await request(app.getHttpServer()).get('/other').expect(200);
  });

  it('fails closed on callback and refresh, open elsewhere, with one log line per outage', async () => {
    storage.down = true;
    const http = () => request(app.getHttpServer());
    const refresh = await http().post('/auth/refresh').expect(503);
    expect(refresh.body.error).toBe('service_unavailable');
    expect(refresh.headers['retry-after']).toBe('5');
    await http().get('/auth/google/callback').expect(503);
    await http().get('/auth/google').expect(200);
    await http().get('/other').expect(200);
    const outage = errors.filter((line) => line.includes('rate-limit store unavailable'));
    expect(outage).toHaveLength(1);
    expect(outage[0]).toContain('ECONNREFUSED');
    expect(outage[0]).not.toContain('hunter2');

    storage.down = false;
    await http().post('/auth/refresh').expect(201);
    expect(logs.filter((line) => line.includes('reachable again'))).toHaveLength(1);
  });

  it('documents defaults that are sane per minute', () => {
    for (const budget of Object.values(AUTH_RATE_LIMITS)) {
      expect(budget.ttl).toBe(60_000);
      expect(budget.limit).toBeGreaterThanOrEqual(10);
      expect(budget.limit).toBeLessThanOrEqual(120);
    }
  });
});
