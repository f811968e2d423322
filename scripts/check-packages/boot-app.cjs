'use strict';
// A host app built from the packed package, minus TypeScript: every decorator is applied the way
// TypeScript's __decorate does it. Run by scripts/check-packages.sh in a scratch app outside the
// repository, on Nest 11 and on Nest 12, against a fresh PostgreSQL database (DATABASE_URL).
require('reflect-metadata');
const net = require('node:net');

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail !== undefined ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
}
function done() {
  console.log(`APP-RESULT ${passed} ${failed}`);
  process.exit(failed === 0 ? 0 : 1);
}
function decorateMethod(cls, key, decorators) {
  const proto = cls.prototype;
  const descriptor = Reflect.decorate(decorators, proto, key, Object.getOwnPropertyDescriptor(proto, key));
  Object.defineProperty(proto, key, descriptor);
}
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  let nest, core, typeorm, throttler, auth;
  let eventEmitter = null;
  try {
    nest = require('@nestjs/common');
    core = require('@nestjs/core');
    typeorm = require('@nestjs/typeorm');
    throttler = require('@nestjs/throttler');
    check(`require() of @nestjs/common and @nestjs/core ${require('@nestjs/core/package.json').version}`, typeof nest.Module === 'function' && typeof core.NestFactory === 'object');
  } catch (error) {
    check('require() of @nestjs/common and @nestjs/core', false, error && error.stack);
    return done();
  }
  try {
    auth = require('@nest-social-auth/core');
    check('require("@nest-social-auth/core")', true);
  } catch (error) {
    check('require("@nest-social-auth/core")', false, error && error.stack);
    return done();
  }
  const { AuthModule, AUTH_ENTITIES, AUTH_MIGRATIONS, Public } = auth;
  check(
    'exports AuthModule, AUTH_ENTITIES, AUTH_MIGRATIONS, Public',
    typeof AuthModule === 'function' && Array.isArray(AUTH_ENTITIES) && AUTH_ENTITIES.length > 0 && Array.isArray(AUTH_MIGRATIONS) && AUTH_MIGRATIONS.length > 0 && typeof Public === 'function',
    { AuthModule: typeof AuthModule, AUTH_ENTITIES: typeof AUTH_ENTITIES, AUTH_MIGRATIONS: typeof AUTH_MIGRATIONS, Public: typeof Public },
  );

  const { Controller, Get, Module } = nest;
  const { NestFactory, APP_GUARD } = core;

  class AppController {
    open() {
      return { ok: true };
    }
    me(user) {
      return { id: user ? user.id : null };
    }
  }
  decorateMethod(AppController, 'open', [Public(), Get('open')]);
  if (typeof auth.CurrentUser === 'function') auth.CurrentUser()(AppController.prototype, 'me', 0);
  else nest.Req()(AppController.prototype, 'me', 0);
  decorateMethod(AppController, 'me', [Get('me')]);
  Controller('app')(AppController);

  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const imports = [
    typeorm.TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      entities: AUTH_ENTITIES,
      migrations: AUTH_MIGRATIONS,
      migrationsRun: true,
      retryAttempts: 0,
    }),
  ];
  // Optional peer: present in the second run only, where the module's events reach listeners.
  try {
    eventEmitter = require('@nestjs/event-emitter');
    imports.push(eventEmitter.EventEmitterModule.forRoot());
  } catch {
    console.log('(no @nestjs/event-emitter installed: booting without it)');
  }
  const providers = [];
  // As the demo does: the host owns ThrottlerModule, with the module's named throttler and guard.
  if (typeof auth.authThrottler === 'function' && typeof auth.AuthThrottlerGuard === 'function') {
    imports.push(throttler.ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: 60_000, limit: 600 }, auth.authThrottler()] }));
    providers.push({ provide: APP_GUARD, useClass: auth.AuthThrottlerGuard });
  }
  imports.push(AuthModule.forRoot({ appUrl, tokens: { secret: 'check-packages-secret-0123456789abcdef-0123456789' } }));

  class AppModule {}
  Module({ imports, controllers: [AppController], providers })(AppModule);

  let app;
  try {
    app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
    await app.listen(port, '127.0.0.1');
    check(`app boots and listens on ${appUrl}`, true);
  } catch (error) {
    check('app boots and listens', false, error && error.stack);
    if (app) await app.close().catch(() => {});
    return done();
  }

  const get = async (path, headers = {}) => {
    const response = await fetch(appUrl + path, { headers, redirect: 'manual' });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body };
  };

  try {
    let r = await get('/app/open');
    check('GET /app/open (@Public) -> 200', r.status === 200 && r.body && r.body.ok === true, r);

    r = await get('/app/me');
    check("GET /app/me without a token -> 401 {error:'unauthorized'}", r.status === 401 && r.body && r.body.error === 'unauthorized', r);

    r = await get('/app/me', { authorization: 'Bearer not.a.jwt' });
    check("GET /app/me with a garbage token -> 401", r.status === 401 && r.body && typeof r.body.error === 'string', r);

    r = await get('/auth/providers');
    if (r.status === 404 && r.body && (r.body.statusCode === 404 || r.body.error === 'not_found')) {
      console.log('SKIP GET /auth/providers: the route does not exist in this tree');
    } else {
      check('GET /auth/providers -> 200 (array)', r.status === 200 && Array.isArray(r.body), r);
    }

    if (auth.SessionService && auth.AuthUserStore) {
      const users = app.get(auth.AuthUserStore);
      const user = await users.create({
        email: 'check@example.com',
        emailVerified: true,
        emailCanonical: 'check@example.com',
        displayName: 'Package check',
        avatarUrl: null,
      });
      const tokens = await app.get(auth.SessionService).open(user.id, { provider: 'package-check', userAgent: 'check-packages', ip: '127.0.0.1' });
      check('SessionService.open mints an access token', typeof tokens.accessToken === 'string' && tokens.accessToken.split('.').length === 3, tokens);

      const bearer = { authorization: `Bearer ${tokens.accessToken}` };
      r = await get('/app/me', bearer);
      check('GET /app/me with Authorization: Bearer -> 200 (same user)', r.status === 200 && r.body && r.body.id === user.id, r);

      r = await get('/auth/me', bearer);
      if (r.status === 404 && r.body && r.body.error === 'not_found') console.log('SKIP GET /auth/me: the route does not exist in this tree');
      else check("GET /auth/me (library's controller) with Bearer -> 200", r.status === 200, r);
    } else {
      console.log('SKIP bearer checks: SessionService or AuthUserStore is not exported');
    }
  } catch (error) {
    check('HTTP checks ran to completion', false, error && error.stack);
  }
  await app.close();
  done();
}

main().catch((error) => {
  check('app ran to completion', false, error && error.stack);
  done();
});
