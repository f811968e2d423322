import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { METHODS } from 'node:http';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, runMigrations } from '../../src/bootstrap';
import { applySecurityHeaders } from '../../src/http/security-headers';
import { DemoConfig, loadDemoConfig } from '../../src/config/demo.config';
import { createOpenApiDocument, OPENAPI_PATHS } from '../../src/openapi/openapi';
import { createTestDatabase, TestDatabase } from './test-database';

/** A running demo app on a fresh database, as a test sees it. */
export interface TestApp {
  app: INestApplication;
  config: DemoConfig;
  dataSource: DataSource;
  database: TestDatabase;
  /** Base URL the app listens on (`http://127.0.0.1:PORT`). */
  url: string;
  /** A supertest client bound to the app (no cookie jar; see `agent()` from supertest for one). */
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** The HTTP platforms the e2e suite runs the module on. */
export type TestHttpPlatform = 'express' | 'fastify';

/** The platform of this run: `TEST_HTTP_PLATFORM` (`express` by default, `fastify`). */
export function testHttpPlatform(): TestHttpPlatform {
  const value = process.env.TEST_HTTP_PLATFORM ?? 'express';
  if (value !== 'express' && value !== 'fastify') throw new Error(`TEST_HTTP_PLATFORM must be express or fastify, not ${value}`);
  return value;
}

/**
 * `moduleRef.createNestApplication` on `platform`: Express as Nest's default, or `FastifyAdapter`
 * with `trustProxy` where Express gets `trust proxy` (see `configureTestApp`).
 */
export function createPlatformApp(
  moduleRef: TestingModule,
  options: NestApplicationOptions & { trustProxy?: number } = {},
  platform: TestHttpPlatform = testHttpPlatform(),
): INestApplication {
  const { trustProxy, ...appOptions } = options;
  if (platform === 'express') return moduleRef.createNestApplication(appOptions);
  // Express matches paths case-insensitively and ignores a trailing slash; Fastify is told to do the
  // same, so both platforms route every request of the suite (e.g. /AUTH/refresh/) alike.
  const adapter = new FastifyAdapter({ trustProxy: trustProxy && trustProxy > 0 ? trustProxy : false, routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } });
  const routes: FastifyRoute[] = [];
  adapter.getInstance().addHook('onRoute', (route) => void routes.push({ method: route.method, url: route.url }));
  const app = moduleRef.createNestApplication(adapter, appOptions);
  fastifyRoutes.set(app, routes);
  return app;
}

interface FastifyRoute {
  method: string | string[];
  url: string;
}

/** Routes Fastify registered, per app (collected from creation on, so nothing registered at init is missed). */
const fastifyRoutes = new WeakMap<INestApplication, FastifyRoute[]>();

/**
 * The app's routes in the shape of Express's router stack (`{ route: { path, methods } }`, `_all`
 * for a route of every method), on either platform. Fastify's automatic HEAD twin of a GET route
 * is left out, as Express answers HEAD from the GET route without a layer of its own.
 */
export function routerLayers(app: INestApplication): Array<{ route?: { path: string; methods: Record<string, boolean> } }> {
  if (app.getHttpAdapter().getType() !== 'fastify') return (app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router.stack;
  // Nest registers an @All route once per method: one layer per path, as Express's `all` is.
  const byPath = new Map<string, Set<string>>();
  for (const route of fastifyRoutes.get(app) ?? []) {
    const methods = byPath.get(route.url) ?? new Set<string>();
    // Fastify's `all` is one route of its own methods; Express's names every method Node knows.
    for (const method of Array.isArray(route.method) ? METHODS : [route.method]) methods.add(method.toLowerCase());
    byPath.set(route.url, methods);
  }
  return [...byPath].map(([path, methods]) => {
    if (methods.size <= 10) methods.delete('head'); // Fastify's own HEAD twin of a GET route
    return { route: { path, methods: Object.fromEntries([...methods].map((m) => [m, true])) } };
  });
}

/** `app.init()`, and on Fastify the server's `ready()`, so a test may send requests to `getHttpServer()` at once. */
export async function initPlatformApp(app: INestApplication): Promise<void> {
  await app.init();
  if (app.getHttpAdapter().getType() === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
}

/**
 * The demo's `configureApp` on Express. On Fastify the same, as far as it applies: trust proxy is
 * the adapter's (set at creation), Fastify sends no `X-Powered-By`, the module needs no
 * cookie-parser, and the OpenAPI JSON is served without Swagger UI (its assets need @fastify/static).
 */
export function configureTestApp(app: INestApplication, config: DemoConfig): void {
  if (app.getHttpAdapter().getType() !== 'fastify') return configureApp(app, config);
  applySecurityHeaders(app, OPENAPI_PATHS.ui);
  if (config.apiDocs) SwaggerModule.setup(OPENAPI_PATHS.ui, app, () => createOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_PATHS.json, yamlDocumentUrl: undefined, raw: ['json'], ui: false });
  app.enableShutdownHooks();
}

/** How a test app is set up beyond the demo's own bootstrap. */
export interface TestAppSetup {
  /** Runs after the demo's `configureApp` and before `listen` (e.g. `app.setGlobalPrefix('api')`). */
  beforeListen?: (app: INestApplication) => void;
  /** The HTTP platform (default: {@link testHttpPlatform}). */
  platform?: TestHttpPlatform;
}

/**
 * Boots the real demo app (same module, same bootstrap as `npm start`) on a fresh database, with
 * environment variables as the demo reads them. It listens on a random loopback port and
 * APP_URL points at it, so OAuth redirects come back to this app.
 */
export async function createTestApp(env: Record<string, string | undefined> = {}, setup: TestAppSetup = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  try {
    // A port reserved and released can be handed to something else that listens on port 0 before
    // the app binds it (the sandbox's fake providers start during module init): pick again then,
    // unless the caller fixed the port.
    for (let attempt = 1; ; attempt++) {
      const server = await reservePort();
      const base: Record<string, string | undefined> = {
        NODE_ENV: 'test',
        PORT: String(server),
        APP_URL: `http://127.0.0.1:${server}`,
        AUTH_JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
        AUTH_SANDBOX: 'false',
        // Suites drive many sign-ins and refreshes from 127.0.0.1 within a minute; the rate-limit
        // suites (test/throttling, test/instances) set the real budgets themselves.
        AUTH_RATE_LIMIT_START: '100000',
        AUTH_RATE_LIMIT_CALLBACK: '100000',
        AUTH_RATE_LIMIT_REFRESH: '100000',
        AUTH_RATE_LIMIT_TOKEN: '100000',
        AUTH_RATE_LIMIT_MACHINE_CLIENT: '100000',
        DATABASE_URL: database.url,
      };
      const config = loadDemoConfig({ ...base, ...env });
      if (attempt === 1) await runMigrations(config);
      const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
      const app = createPlatformApp(moduleRef, { logger: ['error', 'warn'], trustProxy: config.trustProxy }, setup.platform);
      configureTestApp(app, config);
      setup.beforeListen?.(app);
      try {
        await app.listen(config.port, '127.0.0.1');
      } catch (error) {
        await app.close();
        if ((error as { code?: string }).code === 'EADDRINUSE' && env.PORT === undefined && attempt < 5) continue;
        throw error;
      }
      return { ...listening(app, database, `http://127.0.0.1:${config.port}`), config };
    }
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** A free loopback port, for an app whose APP_URL must be known before it listens. */
/**
 * What every test app hands its tests once it listens on `url`: the app, its data source, a
 * supertest agent, and `close()`, which also drops the file's database.
 */
export function listening(app: INestApplication, database: TestDatabase, url: string): Pick<TestApp, 'app' | 'dataSource' | 'database' | 'url' | 'http' | 'close'> {
  return {
    app,
    dataSource: app.get(getDataSourceToken()),
    database,
    url,
    http: request(url),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export async function reservePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
