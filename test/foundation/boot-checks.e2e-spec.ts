import { AUTH_MIGRATIONS, AuthModule, AuthModuleOptions, AuthSetupError, AuthUserStore, LocalUser, TypeOrmUserStore } from '@nest-social-auth/core';
import { DynamicModule, INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseOptions } from '../../src/config/database.config';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const OPTIONS: AuthModuleOptions = { appUrl: 'http://127.0.0.1:1', tokens: { secret: 'boot-checks-secret-boot-checks-secret-0123' } };

/** A user store of the host's own (its table is not the module's business). */
@Injectable()
class HostUserStore implements AuthUserStore {
  findById(): Promise<LocalUser | null> {
    return Promise.resolve(null);
  }
  findByVerifiedEmail(): Promise<LocalUser | null> {
    return Promise.resolve(null);
  }
  create(): Promise<LocalUser> {
    throw new Error('not in these tests');
  }
  setDisabled(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * TypeORM on `database` as a host would configure it (`typeorm` overrides the demo's options),
 * keeping every DataSource it creates so a boot that fails can still close its pool.
 */
function typeOrm(database: TestDatabase, created: DataSource[], typeorm: Partial<TypeOrmModuleOptions> = {}): DynamicModule {
  return TypeOrmModule.forRootAsync({
    useFactory: () => ({ ...databaseOptions(database.url), retryAttempts: 0, ...typeorm }) as TypeOrmModuleOptions,
    dataSourceFactory: async (o) => {
      const dataSource = new DataSource(o!);
      const initializing = dataSource.initialize();
      created.push(Object.assign(dataSource, { initializing }));
      return initializing;
    },
  });
}

/**
 * Closes every DataSource a boot created. A boot refused while providers are created can return
 * before TypeORM finished connecting, so each one is awaited first: a pool that connects after
 * its check would keep Jest from exiting (seen on MariaDB).
 */
async function destroyAll(created: DataSource[]): Promise<void> {
  for (const d of created.splice(0)) {
    await (d as DataSource & { initializing?: Promise<unknown> }).initializing?.catch(() => undefined);
    if (d.isInitialized) await d.destroy();
  }
}

/** Errors of {@link boot}, with the step that threw: creating the providers (`compile`) or `init`. */
type BootError = Error & { step: 'compile' | 'init' };

/** What booting a host (`compile` then `init`) ended with: the error, or undefined when it started. */
async function boot(imports: Array<DynamicModule | (new () => unknown)>, created: DataSource[]): Promise<BootError | undefined> {
  let app: INestApplicationContext | undefined;
  let step: BootError['step'] = 'compile';
  try {
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    step = 'init';
    await app.init();
    return undefined;
  } catch (error) {
    return Object.assign(error as Error, { step });
  } finally {
    await app?.close().catch(() => undefined);
    await destroyAll(created);
  }
}

/** The module's tables in `database`, migrated then optionally with some dropped. */
async function migrate(database: TestDatabase, drop: string[] = []): Promise<void> {
  const dataSource = new DataSource(databaseOptions(database.url));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    for (const table of drop) await dataSource.query(`DROP TABLE ${dataSource.driver.escape(table)}`);
  } finally {
    await dataSource.destroy();
  }
}

describe("boot refuses a database without the module's tables, with one sentence saying what to do", () => {
  let database: TestDatabase;
  const created: DataSource[] = [];
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database?.drop();
  });

  it('no migrations at all: AuthSetupError naming every table, at init, and nothing was created', async () => {
    const error = await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS)], created);
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error!.step).toBe('init');
    expect(error!.message).toBe(
      "The database has no table auth_users, auth_identities, auth_sessions, auth_refresh_tokens, auth_single_use, auth_audit_events of @nest-social-auth/core: add AUTH_MIGRATIONS to TypeORM's `migrations` with `migrationsRun: true`, or run them before the app starts.",
    );
    const dataSource = await new DataSource(databaseOptions(database.url)).initialize();
    try {
      const runner = dataSource.createQueryRunner();
      expect(await runner.hasTable('auth_sessions')).toBe(false);
      await runner.release();
    } finally {
      await dataSource.destroy();
    }
  });

  it('migrations listed but not run (migrationsRun off): the same refusal', async () => {
    const error = await boot([typeOrm(database, created, { migrations: AUTH_MIGRATIONS, migrationsRun: false }), AuthModule.forRoot(OPTIONS)], created);
    expect(error?.message).toMatch(/^The database has no table auth_users, auth_identities, .* add AUTH_MIGRATIONS/);
  });

  it("migrationsRun: true starts (TypeORM migrates while its DataSource is created, before the module's check)", async () => {
    expect(await boot([typeOrm(database, created, { migrations: AUTH_MIGRATIONS, migrationsRun: true }), AuthModule.forRoot(OPTIONS)], created)).toBeUndefined();
  });

  it('one table missing: only that one is named', async () => {
    await migrate(database, ['auth_refresh_tokens']);
    const error = await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS)], created);
    expect(error?.message).toMatch(/^The database has no table auth_refresh_tokens of @nest-social-auth\/core: /);
  });

  it("a host user store does not need auth_users; a host single-use store does not need auth_single_use; the built-in ones do", async () => {
    await migrate(database, ['auth_users', 'auth_single_use']);
    const withHostStores = AuthModule.forRoot({ ...OPTIONS, userStore: HostUserStore, singleUseStore: HostSingleUseStore });
    expect(await boot([typeOrm(database, created), withHostStores], created)).toBeUndefined();
    const error = await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS)], created);
    expect(error?.message).toMatch(/^The database has no table auth_users, auth_single_use of /);
  });

  it('auth_machine_clients is needed only with machineClients.enabled', async () => {
    await migrate(database, ['auth_machine_clients']);
    expect(await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS)], created)).toBeUndefined();
    const error = await boot([typeOrm(database, created), AuthModule.forRoot({ ...OPTIONS, machineClients: { enabled: true } })], created);
    expect(error?.message).toMatch(/^The database has no table auth_machine_clients of /);
  });

  it('a user store extending TypeOrmUserStore still uses auth_users', async () => {
    await migrate(database, ['auth_users']);
    const error = await boot([typeOrm(database, created), AuthModule.forRoot({ ...OPTIONS, userStore: ExtendedUserStore })], created);
    expect(error?.message).toMatch(/^The database has no table auth_users of /);
  });

  it('AUTH_ENTITIES missing from the DataSource: refused before any table is looked up', async () => {
    await migrate(database);
    const error = await boot([typeOrm(database, created, { entities: [] }), AuthModule.forRoot(OPTIONS)], created);
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error!.step).toBe('init');
    expect(error!.message).toBe(
      'The TypeORM DataSource does not know the entities UserAccount, ExternalIdentity, AuthSession, RefreshToken, SingleUseMarker, AuditEvent of @nest-social-auth/core: add AUTH_ENTITIES to its `entities` (or set `autoLoadEntities: true`).',
    );
  });

  it('autoLoadEntities instead of AUTH_ENTITIES starts', async () => {
    await migrate(database);
    expect(await boot([typeOrm(database, created, { entities: [], autoLoadEntities: true }), AuthModule.forRoot(OPTIONS)], created)).toBeUndefined();
  });
});

@Injectable()
class HostSingleUseStore {
  consume(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

@Injectable()
class ExtendedUserStore extends TypeOrmUserStore {}

describe('boot refuses AuthModule configured twice', () => {
  let database: TestDatabase;
  const created: DataSource[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('forRoot in the root module and in a feature module: AuthSetupError while the app is created', async () => {
    @Module({ imports: [AuthModule.forRoot(OPTIONS)] })
    class UsersModule {}
    const error = await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS), UsersModule], created);
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error!.step).toBe('compile');
    expect(error!.message).toBe(
      'AuthModule is configured 2 times (AuthModule.forRoot or forRootAsync is called in more than one place): configure it once, in the root module; it is global by default, so every module can inject its exports.',
    );
  });

  it('forRoot and forRootAsync side by side in one module: refused too', async () => {
    const error = await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS), AuthModule.forRootAsync({ useFactory: () => OPTIONS })], created);
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error?.message).toMatch(/^AuthModule is configured 2 times /);
  });

  it('one configured module imported in two places is one module: it starts', async () => {
    const auth = AuthModule.forRoot({ ...OPTIONS, isGlobal: false });
    @Module({ imports: [auth] })
    class UsersModule {}
    expect(await boot([typeOrm(database, created), auth, UsersModule], created)).toBeUndefined();
  });
});

describe('boot refuses an HTTP platform the module does not support, and accepts apps without HTTP', () => {
  let database: TestDatabase;
  const created: DataSource[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database);
  });
  afterAll(async () => {
    await database?.drop();
  });

  const MESSAGE =
    "@nest-social-auth/core supports the express and fastify HTTP platforms; this app runs on koa: create it with @nestjs/platform-express (NestFactory.create's default adapter) or @nestjs/platform-fastify (FastifyAdapter).";

  /** An adapter of a platform the module has no `AuthHttp` for: Express underneath, `koa` by name. */
  class KoaNamedAdapter extends ExpressAdapter {
    override getType(): string {
      return 'koa';
    }
  }

  it('NestFactory.create with an adapter of another platform (getType() koa): refused while the app is created', async () => {
    @Module({ imports: [typeOrm(database, created), AuthModule.forRoot(OPTIONS)] })
    class HostModule {}
    let error: Error | undefined;
    try {
      const app = await NestFactory.create(HostModule, new KoaNamedAdapter(), { logger: false, abortOnError: false });
      await app.close();
    } catch (e) {
      error = e as Error;
    } finally {
      await destroyAll(created);
    }
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error!.message).toBe(MESSAGE);
  });

  it('a testing module given that adapter (known only after compile): refused at init', async () => {
    let error: Error | undefined;
    const moduleRef = await Test.createTestingModule({ imports: [typeOrm(database, created), AuthModule.forRoot(OPTIONS)] }).compile();
    const app = moduleRef.createNestApplication(new KoaNamedAdapter(), { logger: false });
    try {
      await app.init();
    } catch (e) {
      error = e as Error;
    } finally {
      await app.close().catch(() => undefined);
      await destroyAll(created);
    }
    expect(error).toBeInstanceOf(AuthSetupError);
    expect(error!.message).toBe(MESSAGE);
  });

  it('createApplicationContext (no HTTP adapter: a worker, a CLI, a microservice) starts', async () => {
    @Module({ imports: [typeOrm(database, created), AuthModule.forRoot(OPTIONS)] })
    class WorkerModule {}
    const context = await NestFactory.createApplicationContext(WorkerModule, { logger: false, abortOnError: false });
    try {
      expect(context.get(AuthUserStore)).toBeDefined();
    } finally {
      await context.close();
      await destroyAll(created);
    }
  });

  it('the default Express adapter starts', async () => {
    expect(await boot([typeOrm(database, created), AuthModule.forRoot(OPTIONS)], created)).toBeUndefined();
  });

  it('NestFactory.create with the Fastify adapter starts', async () => {
    @Module({ imports: [typeOrm(database, created), AuthModule.forRoot(OPTIONS)] })
    class HostModule {}
    try {
      const app = await NestFactory.create(HostModule, new FastifyAdapter(), { logger: false, abortOnError: false });
      await app.init();
      await app.close();
    } finally {
      await destroyAll(created);
    }
  });
});
