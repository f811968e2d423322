import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer, connect, Server, Socket } from 'node:net';

/** The Redis the suites use: `REDIS_URL`, else the local one (CI always runs it). */
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** A key prefix no other test file or run shares. */
export function uniqueRedisPrefix(label: string): string {
  return `test:${label}:${Date.now().toString(36)}${randomBytes(3).toString('hex')}:`;
}

/**
 * Whether Redis answers. Outside CI a missing Redis makes the calling suite skip loudly; in CI
 * (`CI` set) it throws, so the suite fails instead of passing vacuously.
 */
export async function redisAvailable(suite: string): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`${suite} needs Redis at ${TEST_REDIS_URL}: ${(error as Error).message}`);
    console.warn(`${suite} SKIPPED: no Redis at ${TEST_REDIS_URL} (set REDIS_URL or start redis-server)`);
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Whether Redis answers, decided synchronously (a child process pings it), so it can choose
 * between `describe` and `describe.skip` while Jest collects the tests: undefined when it answers,
 * otherwise why not.
 */
export function redisUnavailableReason(): string | undefined {
  const script = `
    const { Redis } = require(process.env.IOREDIS_PATH);
    const r = new Redis(process.env.TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
    r.on('error', () => undefined);
    r.connect().then(() => r.ping()).then(() => process.exit(0), (e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });`;
  try {
    execFileSync(process.execPath, ['-e', script], { env: { ...process.env, IOREDIS_PATH: require.resolve('ioredis'), TEST_REDIS_URL }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error as Error).message.split('\n')[0];
  }
}

/**
 * `describe` for a suite that needs Redis. Without Redis, outside CI, the suite is reported as
 * skipped (never as passed) with the reason in its title and a warning; in CI (`CI` set) a missing
 * Redis throws while the tests are collected, so the run fails instead of skipping silently.
 * @example describeWithRedis('H1 throttling e2e')('H1: throttling and bounded state', () => { … });
 */
export function describeWithRedis(suite: string): (name: string, fn: () => void) => void {
  const reason = redisUnavailableReason();
  if (reason === undefined) return describe;
  if (process.env.CI) throw new Error(`${suite} needs Redis at ${TEST_REDIS_URL}: ${reason}`);
  console.warn(`${suite} SKIPPED: no Redis at ${TEST_REDIS_URL} (${reason}; set REDIS_URL or start redis-server)`);
  return (name, fn) => describe.skip(`${name} [SKIPPED: no Redis at ${TEST_REDIS_URL}: ${reason}]`, fn);
}

/** A plain client on the test Redis, to inspect and clean the keys of one prefix. */
export class RedisInspector {
  readonly redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });

  constructor(readonly prefix: string) {}

  /** Keys under the prefix (with the prefix), optionally those containing `part`. */
  async keys(part = ''): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch.filter((k) => k.includes(part)));
    } while (cursor !== '0');
    return found;
  }

  async close(): Promise<void> {
    const keys = await this.keys();
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
    await this.redis.quit();
  }
}

/**
 * A TCP link between the app and Redis that a test can cut and restore: "Redis is down" exactly as
 * the app sees it (connections reset, new ones refused), without touching the shared Redis server.
 */
export class RedisLink {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly port: number) {}

  /** Reserves a port; the link starts down (nothing listens) until {@link up}. */
  static async reserve(): Promise<RedisLink> {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    return new RedisLink(port);
  }

  /** `redis://` URL of the link. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const target = new URL(TEST_REDIS_URL);
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Refuses new connections and resets the open ones. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
