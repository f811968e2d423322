import { INestApplication, LogLevel } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { DataSource } from 'typeorm';
import { databaseOptions } from './config/database.config';
import type { DemoConfig } from './config/demo.config';
import { setupOpenApi } from './openapi/openapi';

/** Applies what the HTTP layer needs; shared by main.ts and the e2e tests so both run the same app. */
export function configureApp(app: INestApplication, config: DemoConfig): void {
  const express = app as NestExpressApplication;
  // Only the configured number of proxy hops may set X-Forwarded-For (rate-limit keys).
  express.set('trust proxy', config.trustProxy > 0 ? config.trustProxy : false);
  express.disable('x-powered-by');
  express.use(cookieParser());
  // The API description (public): Swagger UI at /docs, JSON at /docs-json.
  setupOpenApi(app);
  app.enableShutdownHooks();
}

/**
 * Brings the schema up to date before the app starts, so a fresh machine needs no extra step.
 * Throws on an unreachable database; main.ts turns that into one clear line.
 */
export async function runMigrations(config: DemoConfig): Promise<void> {
  const dataSource = new DataSource(databaseOptions(config.databaseUrl));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

/** Log levels of the demo: quiet in tests. */
export function logLevels(config: DemoConfig): LogLevel[] {
  return config.nodeEnv === 'test' ? ['error', 'warn'] : ['error', 'warn', 'log'];
}
