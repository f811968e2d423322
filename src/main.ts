import { existsSync } from 'node:fs';
import { DatabaseUrlError } from './config/database-url';
import { DemoConfig, EnvError, loadDemoConfig } from './config/demo.config';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: DemoConfig;
  try {
    config = loadDemoConfig(process.env);
  } catch (error) {
    return fail(error instanceof EnvError ? `configuration error: ${error.message}` : 'configuration error');
  }
  // The app is loaded only after the environment is known to be valid, so a bad variable is
  // reported at once instead of after loading every module.
  const { Logger } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { configureApp, httpAdapter, logLevels, runMigrations } = await import('./bootstrap');
  const { AppModule } = await import('./app.module');
  const logger = new Logger('Demo');
  try {
    await runMigrations(config);
  } catch (error) {
    if (error instanceof DatabaseUrlError) return fail(`configuration error: ${error.message}`);
    // The migration lock was not free in time (another instance still migrating): say so as is.
    if ((error as Error)?.name === 'AuthSetupError') return fail((error as Error).message);
    return fail(`cannot open the database named by DATABASE_URL: ${describe(error)}`);
  }
  if (config.ephemeralSecret) {
    logger.warn('AUTH_JWT_SECRET is not set: using a random secret for this run; every restart signs everyone out');
  }
  const options = { logger: logLevels(config), abortOnError: false };
  // HTTP_PLATFORM=fastify runs the same app on Nest's Fastify adapter; Express stays Nest's default.
  const adapter = await httpAdapter(config);
  const app = adapter
    ? await NestFactory.create(AppModule.forRoot(config), adapter, options)
    : await NestFactory.create(AppModule.forRoot(config), options);
  configureApp(app, config);
  await app.listen(config.port, process.env.HOST || '127.0.0.1');
  logger.log(`listening on ${config.appUrl}${config.sandbox ? ' (sandbox identity providers)' : ''}`);
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ?? e?.message?.split('\n')[0] ?? 'unknown error';
}

function fail(line: string): void {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

void main().catch((error) => fail(`start-up failed: ${describe(error)}`));
