import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, runMigrations } from '../../src/bootstrap';
import { DemoConfig, loadDemoConfig } from '../../src/config/demo.config';
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

/** How a test app is set up beyond the demo's own bootstrap. */
export interface TestAppSetup {
  /** Runs after the demo's `configureApp` and before `listen` (e.g. `app.setGlobalPrefix('api')`). */
  beforeListen?: (app: INestApplication) => void;
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
        DATABASE_URL: database.url,
      };
      const config = loadDemoConfig({ ...base, ...env });
      if (attempt === 1) await runMigrations(config);
      const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
      const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
      configureApp(app, config);
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
