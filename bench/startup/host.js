'use strict';
/**
 * Minimal hosts for the start-up suite, in plain JavaScript so they start as built output does (no
 * TypeScript compiler at start-up). BENCH_HOST picks one:
 *   bare     Nest on Express with one route
 *   typeorm  the same plus TypeOrmModule on PostgreSQL (what the module needs from its host)
 *   module   the same plus AuthModule.forRoot (global guard, Google and GitHub): the module's share
 *            is module − typeorm
 * BENCH_LIB is the built module's entry (dist/demo/libs/social-auth/src/index.js, from nest build).
 * The process tells its parent nothing: the suite times it from spawn to the port accepting a
 * connection, as it would any server.
 */
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

const host = process.env.BENCH_HOST;
const port = Number(process.env.PORT);

class HealthController {
  health() {
    return { ok: true };
  }
}
const imports = [];
if (host === 'typeorm' || host === 'module') {
  const { TypeOrmModule } = require('@nestjs/typeorm');
  // The typeorm host never loads the module (not even for its entities), so module − typeorm is all the module's.
  const lib = host === 'module' ? require(process.env.BENCH_LIB) : undefined;
  imports.push(TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, entities: lib ? lib.AUTH_ENTITIES : [], synchronize: false, migrationsRun: false, retryAttempts: 0 }));
  if (lib) {
    const appUrl = `http://127.0.0.1:${port}`;
    const client = { clientId: 'startup-client', clientSecret: 'startup-secret' };
    imports.push(lib.AuthModule.forRoot({ appUrl, production: false, tokens: { secret: 'startup-secret-of-at-least-32-characters!' }, providers: { google: client, github: client } }));
    lib.Public()(HealthController.prototype, 'health', Object.getOwnPropertyDescriptor(HealthController.prototype, 'health'));
  }
} else if (host !== 'bare') {
  throw new Error(`BENCH_HOST must be bare, typeorm or module, not ${host}`);
}
Get('health')(HealthController.prototype, 'health', Object.getOwnPropertyDescriptor(HealthController.prototype, 'health'));
Controller()(HealthController);
class HostModule {}
Module({ imports, controllers: [HealthController] })(HostModule);

// An orderly exit on SIGTERM, so `--cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
NestFactory.create(HostModule, { logger: ['error', 'warn'] })
  .then((app) => app.listen(port, '127.0.0.1'))
  .catch((error) => {
    console.error(`startup host failed: ${error && error.message}`);
    process.exit(1);
  });
