import { INestApplication, LogLevel } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { DataSource } from 'typeorm';
import { runAuthMigrations } from '@nest-social-auth/core';
import { databaseOptions } from './config/database.config';
import type { DemoConfig } from './config/demo.config';
import { applySecurityHeaders } from './http/security-headers';
import { OPENAPI_PATHS, setupOpenApi } from './openapi/openapi';

/** Applies what the HTTP layer needs; shared by main.ts and the e2e tests so both run the same app. */
export function configureApp(app: INestApplication, config: DemoConfig): void {
  if (app.getHttpAdapter().getType() === 'fastify') {
    // On Fastify, trust proxy is the adapter's (see httpAdapter), Fastify sends no X-Powered-By and
    // the module reads cookies itself; Swagger UI's assets are served by @fastify/static.
    applySecurityHeaders(app, OPENAPI_PATHS.ui);
    if (config.apiDocs) setupOpenApi(app);
    app.enableShutdownHooks();
    return;
  }
  const express = app as NestExpressApplication;
  // Only the configured number of proxy hops may set X-Forwarded-For (rate-limit keys).
  express.set('trust proxy', config.trustProxy > 0 ? config.trustProxy : false);
  express.disable('x-powered-by');
  express.use(cookieParser());
  applySecurityHeaders(app, OPENAPI_PATHS.ui);
  // The API description (public): Swagger UI at /docs, JSON at /docs-json; off in production
  // unless API_DOCS=true.
  if (config.apiDocs) setupOpenApi(app);
  app.enableShutdownHooks();
}

/**
 * The HTTP adapter of `HTTP_PLATFORM`: undefined on Express (Nest's default adapter), a
 * FastifyAdapter on Fastify. Fastify is loaded only then, so the Express demo never loads it.
 */
export async function httpAdapter(config: DemoConfig): Promise<AbstractHttpAdapter | undefined> {
  if (config.httpPlatform !== 'fastify') return undefined;
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return new FastifyAdapter({
    // Express's `trust proxy` of configureApp: only the configured number of hops may set X-Forwarded-For.
    trustProxy: config.trustProxy > 0 ? config.trustProxy : false,
    // Express matches paths case-insensitively and ignores a trailing slash; Fastify does the same,
    // so a URL reaches the same route on both.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
  });
}

/**
 * Brings the schema up to date before the app starts, so a fresh machine needs no extra step.
 * Under the module's migration lock (`runAuthMigrations`), so instances starting together on a
 * fresh database migrate once: the others wait, find nothing to run, and start.
 * Throws on an unreachable database; main.ts turns that into one clear line.
 */
export async function runMigrations(config: DemoConfig): Promise<void> {
  const dataSource = new DataSource(databaseOptions(config.databaseUrl));
  await dataSource.initialize();
  try {
    await runAuthMigrations(dataSource, { transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

/** Log levels of the demo: quiet in tests. */
export function logLevels(config: DemoConfig): LogLevel[] {
  return config.nodeEnv === 'test' ? ['error', 'warn'] : ['error', 'warn', 'log'];
}
