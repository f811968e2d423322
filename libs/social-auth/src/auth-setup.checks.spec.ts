import { ModulesContainer } from '@nestjs/core';
import { AuthSetupChecks, SUPPORTED_HTTP_PLATFORMS, assertConfiguredOnce, assertSupportedHttpPlatform } from './auth-setup.checks';
import { requiredEntities } from './database/auth-schema.check';
import { AuditEvent, AuthSession, ExternalIdentity, MachineClient, RefreshToken, SingleUseMarker, UserAccount } from './entities';
import { AuthSetupError } from './errors/auth.error';
import { TypeOrmUserStore } from './linking/typeorm-user.store';
import type { AuthUserStore } from './linking/user-store.port';
import { TypeOrmSingleUseStore } from './transaction/typeorm-single-use.store';

describe('assertSupportedHttpPlatform: one list of supported platforms', () => {
  it('express and fastify are the supported platforms', () => {
    expect(SUPPORTED_HTTP_PLATFORMS).toEqual(['express', 'fastify']);
    expect(() => assertSupportedHttpPlatform('express')).not.toThrow();
    expect(() => assertSupportedHttpPlatform('fastify')).not.toThrow();
  });

  it.each([undefined, null])('no HTTP adapter (%s: application context, microservice) is accepted', (platform) => {
    expect(() => assertSupportedHttpPlatform(platform)).not.toThrow();
  });

  it.each(['koa', 'hapi'])('%s is refused by name, saying what to use', (platform) => {
    expect(() => assertSupportedHttpPlatform(platform)).toThrow(AuthSetupError);
    expect(() => assertSupportedHttpPlatform(platform)).toThrow(
      `@nest-social-auth/core supports the express and fastify HTTP platforms; this app runs on ${platform}: create it with @nestjs/platform-express (NestFactory.create's default adapter) or @nestjs/platform-fastify (FastifyAdapter).`,
    );
  });
});

describe('assertConfiguredOnce', () => {
  const module = (withChecks: boolean) => ({ providers: new Map(withChecks ? [[AuthSetupChecks, {}]] : []) });

  function container(...modules: Array<ReturnType<typeof module>>): ModulesContainer {
    const c = new ModulesContainer();
    modules.forEach((m, i) => c.set(`m${i}`, m as never));
    return c;
  }

  it('one configured AuthModule among other modules passes', () => {
    expect(() => assertConfiguredOnce(container(module(false), module(true), module(false)))).not.toThrow();
  });

  it('two or three are refused, with the count', () => {
    expect(() => assertConfiguredOnce(container(module(true), module(false), module(true)))).toThrow(/^AuthModule is configured 2 times /);
    expect(() => assertConfiguredOnce(container(module(true), module(true), module(true)))).toThrow(/^AuthModule is configured 3 times .*configure it once, in the root module/);
  });
});

describe('requiredEntities: the tables the module uses with these stores', () => {
  const builtInUsers = Object.create(TypeOrmUserStore.prototype) as AuthUserStore;
  const builtInSingleUse = Object.create(TypeOrmSingleUseStore.prototype) as TypeOrmSingleUseStore;
  const hostUsers = {} as AuthUserStore;
  const hostSingleUse = { consume: () => Promise.resolve(true) };

  it('built-in stores: all six tables', () => {
    expect(requiredEntities(builtInUsers, builtInSingleUse)).toEqual([UserAccount, ExternalIdentity, AuthSession, RefreshToken, SingleUseMarker, AuditEvent]);
  });

  it("host stores: neither auth_users nor auth_single_use", () => {
    expect(requiredEntities(hostUsers, hostSingleUse)).toEqual([ExternalIdentity, AuthSession, RefreshToken, AuditEvent]);
  });

  it('auth_machine_clients only when machine clients are on with the built-in store', () => {
    expect(requiredEntities(builtInUsers, builtInSingleUse, false)).not.toContain(MachineClient);
    expect(requiredEntities(builtInUsers, builtInSingleUse, true)).toEqual([UserAccount, ExternalIdentity, AuthSession, RefreshToken, SingleUseMarker, AuditEvent, MachineClient]);
  });
});
