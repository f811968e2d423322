/**
 * A benchmark server: a small host app with the kit's AuthModule (global guard), the two baseline
 * guards, a pg pool and a TypeORM logger that counts SQL. Started by main.ts in its own process;
 * it answers commands over IPC (see lib/ipc.ts) and never prints tokens.
 */
import 'reflect-metadata';
import { DynamicModule, INestApplication, LogLevel, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ThrottlerModule } from '@nestjs/throttler';
import { getDataSourceToken, TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import cookieParser from 'cookie-parser';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { AuthModule, SessionService } from '@nest-social-auth/core';
import { databaseOptions } from '../../src/config/database.config';
import { BENCH_CONFIG, BenchServerConfig } from '../baselines/bench-config';
import { BenchJwtStrategy } from '../baselines/passport-jwt.strategy';
import { RecipeAuthGuard } from '../baselines/recipe-auth.guard';
import { ReferenceAuthGuard } from '../baselines/reference-auth.guard';
import { FloorController } from './floor.controller';
import type { IpcRequest, IpcResponse, MemorySnapshot } from '../lib/ipc';
import { BenchController } from './bench.controller';
import { openSessions, timeIdentityLookups } from './kit-adapter';
import { Samples, percentile } from '../lib/stats';
import { Spans } from './spans';
import { SqlCounter } from './sql-counter';

@Module({})
class BenchAppModule {
  static forRoot(config: BenchServerConfig, sql: SqlCounter): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(config, sql)),
        // The host owns throttling; the benchmarks measure the auth path, not the rate limiter.
        ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 1_000_000_000 }], skipIf: () => true }),
        PassportModule,
        JwtModule.register({}),
        AuthModule.forRoot({
          appUrl: config.appUrl,
          production: false,
          tokens: { secret: config.secret },
          providers: { google: config.google, github: config.github },
        }),
      ],
      controllers: [BenchController, FloorController],
      providers: [{ provide: BENCH_CONFIG, useValue: config }, RecipeAuthGuard, ReferenceAuthGuard, BenchJwtStrategy],
    };
  }
}

/** The demo's TypeORM options for the URL's database, with the bench's logger, pool size and PostgreSQL settings. */
function typeOrmOptions(config: BenchServerConfig, sql: SqlCounter): TypeOrmModuleOptions {
  const base = databaseOptions(config.databaseUrl);
  const pool =
    base.type === 'postgres'
      ? { extra: { max: config.poolSize, ...(config.synchronousCommit ? { options: `-c synchronous_commit=${config.synchronousCommit}` } : {}) } }
      : base.type === 'mariadb'
        ? { extra: { connectionLimit: config.poolSize } }
        : {};
  return { ...base, ...pool, logging: true, logger: sql, retryAttempts: 0 } as TypeOrmModuleOptions;
}

async function createApp(config: BenchServerConfig, sql: SqlCounter): Promise<INestApplication> {
  const module = BenchAppModule.forRoot(config, sql);
  const options = { logger: ['error', 'warn'] as LogLevel[], abortOnError: false };
  if (config.platform === 'fastify') {
    // Loaded only here, so an Express server never loads Fastify. Same router options as the demo.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(module, new FastifyAdapter({ routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } }), options);
  }
  const app = await NestFactory.create<NestExpressApplication>(module, options);
  app.disable('x-powered-by');
  app.use(cookieParser());
  return app;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as BenchServerConfig;
  const sql = new SqlCounter();
  const app = await createApp(config, sql);
  // Time inside SessionService.refresh, so the refresh suite can split a request into the service and the rest.
  const spans = new Spans();
  spans.wrap(app.get(SessionService), 'refresh', 'SessionService.refresh');
  await app.listen(config.port, '127.0.0.1');
  // Per-route time inside this process, from the moment Node hands the parsed request to the HTTP
  // server (before Express or Fastify see it) to the response being handed to the socket. The same
  // point on both platforms; with one connection and routes alternating request by request, it
  // isolates what a route costs from everything that varies between measurement windows.
  const routeTimes = new Map<string, Samples>();
  (app.getHttpServer() as Server).prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const path = (req.url ?? '').split('?', 1)[0];
      let samples = routeTimes.get(path);
      if (!samples) routeTimes.set(path, (samples = new Samples()));
      samples.push(Number(process.hrtime.bigint() - started) / 1e3);
    });
  });
  // Keep-alive longer than any pause between measurements (Node's default is 5 s).
  app.getHttpServer().keepAliveTimeout = 65_000;
  const port = (app.getHttpServer().address() as { port: number }).port;

  const handlers: Record<string, (args: never) => Promise<unknown> | unknown> = {
    mem: (args: { gc?: boolean }) => memory(args?.gc ?? true),
    /** CPU time this process has used (user + system), microseconds. */
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    'cpu:split': () => process.cpuUsage(),
    'sql:start': () => sql.startRecording(),
    'sql:stop': () => sql.stopRecording(),
    'sql:count': () => sql.count,
    'spans:reset': () => spans.reset(),
    'routes:reset': () => routeTimes.clear(),
    'routes:get': () => {
      const out: Record<string, { count: number; meanMicros: number; p50Micros: number; p99Micros: number; maxMicros: number; over1msMicros: number }> = {};
      for (const [path, samples] of routeTimes) {
        const values = samples.values();
        out[path] = {
          count: values.length,
          meanMicros: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length),
          p50Micros: percentile(values, 50),
          p99Micros: percentile(values, 99),
          maxMicros: Math.max(...values),
          // Time spent in requests over 1 ms, per request: how much of the mean a few slow ones make.
          over1msMicros: values.reduce((a, b) => a + (b > 1000 ? b : 0), 0) / Math.max(1, values.length),
        };
      }
      return out;
    },
    'spans:get': () => spans.summary(),
    sessions: (args: { count: number }) => openSessions(app, args.count, config.secret),
    /** Runs one SQL statement on the app's own connection pool (integrity checks on any dialect). */
    query: (args: { sql: string }) => app.get<DataSource>(getDataSourceToken()).query(args.sql),
    /** The access token the refresh floor route sets as its cookie (a real one, signed once). */
    'floor:token': (args: { token: string }) => {
      FloorController.accessToken = args.token;
    },
    lookup: (args: { subjects: string[]; issuer: string }) => timeIdentityLookups(app, args.subjects, args.issuer),
  };
  process.on('message', (raw) => {
    const request = raw as IpcRequest;
    const handler = handlers[request.cmd];
    const reply = (response: Omit<IpcResponse, 'id'>) => process.send?.({ id: request.id, ...response });
    if (!handler) return reply({ ok: false, error: `unknown command ${request.cmd}` });
    Promise.resolve()
      .then(() => handler(request.args as never))
      .then((result) => reply({ ok: true, result }))
      .catch((error: Error) => reply({ ok: false, error: error?.message ?? String(error) }));
  });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    void close(app).finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
  process.send?.({ ready: true, port });
}

async function close(app: INestApplication): Promise<void> {
  try {
    await app.close();
  } catch {
    // exiting anyway
  }
}

function memory(gc: boolean): MemorySnapshot {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) {
    collect();
    collect();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

main().catch((error: Error) => {
  console.error(`bench server failed to start: ${error?.message?.split('\n')[0] ?? error}`);
  process.exit(1);
});
