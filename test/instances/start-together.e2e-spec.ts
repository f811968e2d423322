import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AUTH_MIGRATIONS, runAuthMigrations } from '@nest-social-auth/core';
import { AppModule } from '../../src/app.module';
import { runMigrations } from '../../src/bootstrap';
import { databaseOptions } from '../../src/config/database.config';
import { loadDemoConfig } from '../../src/config/demo.config';
import { createPlatformApp, configureTestApp, reservePort } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

// Issue: instances started together on a fresh database (a rolling deploy, an autoscaler) all ran
// the migrations at once and most of them died on "relation already exists" / a duplicate pg_type.
// Each instance here is the demo's start-up as main.ts runs it (its own connection pool running
// `runMigrations`, then the app), all started in the same tick on one fresh database.

jest.setTimeout(90_000);

const INSTANCES = 4;
const kind = createKind();

function createKind(): 'sqlite' | 'postgres' | 'mariadb' {
  const url = process.env.DATABASE_URL ?? '';
  if (url.startsWith('postgres')) return 'postgres';
  if (url.startsWith('mysql') || url.startsWith('mariadb')) return 'mariadb';
  return 'sqlite';
}

// SQLite has no lock (one file belongs to one process): the race exists on database servers only.
(kind === 'sqlite' ? describe.skip : describe)(`${INSTANCES} instances starting together on a fresh ${kind} database`, () => {
  let database: TestDatabase;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await database?.drop();
  });

  it('every instance starts and serves /health; the migrations ran exactly once', async () => {
    const started = await Promise.allSettled(Array.from({ length: INSTANCES }, () => startInstance(database.url)));
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value.app);
    const failures = started.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason).split('\n')[0]] : []));
    expect(failures).toEqual([]);
    for (const result of started) {
      const res = await fetch(`${(result as PromiseFulfilledResult<{ url: string }>).value.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', database: 'up' });
    }
    const check = new DataSource(databaseOptions(database.url));
    await check.initialize();
    try {
      const ran = (await check.query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>;
      expect(ran.map((r) => r.name)).toEqual(AUTH_MIGRATIONS.map((m) => new m().name));
    } finally {
      await check.destroy();
    }
  });

  it('an instance that cannot get the lock in time gives up with a clear error and runs nothing', async () => {
    // The holder keeps the lock the way a migrating instance does: inside a migration that does not end in time.
    let release!: () => void;
    const slow = new Promise<void>((done) => (release = done));
    let entered!: () => void;
    const holding = new Promise<void>((done) => (entered = done));
    class Slow9999999999999 {
      name = 'Slow9999999999999';
      async up(): Promise<void> {
        entered();
        await slow;
      }
      async down(): Promise<void> {}
    }
    const holder = new DataSource({ ...databaseOptions(database.url), migrations: [...AUTH_MIGRATIONS, Slow9999999999999] });
    const waiter = new DataSource(databaseOptions(database.url));
    await Promise.all([holder.initialize(), waiter.initialize()]);
    try {
      const first = runAuthMigrations(holder);
      await holding;
      const started = Date.now();
      await expect(runAuthMigrations(waiter, { lockTimeout: 1_000 })).rejects.toThrow(/another instance held the migration lock "nest_social_auth_migrations" for more than 1 s/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      release();
      expect((await first).map((m) => m.name)).toEqual(['Slow9999999999999']);
      // The holder released it: the next run gets the lock at once and finds nothing to do.
      expect(await runAuthMigrations(waiter, { lockTimeout: 1_000 })).toEqual([]);
    } finally {
      await Promise.all([holder.destroy(), waiter.destroy()]);
    }
  });
});

/** One demo instance: migrations as main.ts runs them, then the app on its own port. */
async function startInstance(databaseUrl: string): Promise<{ app: INestApplication; url: string }> {
  const port = await reservePort();
  const config = loadDemoConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    APP_URL: `http://127.0.0.1:${port}`,
    AUTH_JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    AUTH_SANDBOX: 'false',
    DATABASE_URL: databaseUrl,
  });
  await runMigrations(config);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = createPlatformApp(moduleRef, { logger: ['error', 'warn'] });
  configureTestApp(app, config);
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}` };
}

describe(`runAuthMigrations on ${kind}`, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('runs every pending migration once; the next run finds nothing; an uninitialised DataSource is refused', async () => {
    const dataSource = new DataSource(databaseOptions(database.url));
    await expect(runAuthMigrations(dataSource)).rejects.toThrow('runAuthMigrations: initialise the DataSource first (await dataSource.initialize()).');
    await dataSource.initialize();
    try {
      expect((await runAuthMigrations(dataSource)).map((m) => m.name)).toEqual(AUTH_MIGRATIONS.map((m) => new m().name));
      expect(await runAuthMigrations(dataSource)).toEqual([]);
      await expect(runAuthMigrations(dataSource, { lockTimeout: -1 })).rejects.toThrow(RangeError);
    } finally {
      await dataSource.destroy();
    }
  });
});
