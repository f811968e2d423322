import { Logger, RequestMethod, VersioningType } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { mapToExcludeRoute } from '@nestjs/core/middleware/utils';
import { AUTH_ROUTES, AuthPaths } from './auth-paths';
import { OAuthController } from './oauth.controller';
import { SessionController } from './session.controller';

/** An ApplicationConfig as `app.setGlobalPrefix(prefix, { exclude })` leaves it. */
function prefixed(prefix: string, exclude?: Array<string | RouteInfo>): ApplicationConfig {
  const config = new ApplicationConfig();
  config.setGlobalPrefix(prefix);
  if (exclude) config.setGlobalPrefixOptions({ exclude: mapToExcludeRoute(exclude) });
  return config;
}

function paths(config?: ApplicationConfig, options: { appUrl?: string; routePrefix?: string } = {}): AuthPaths {
  return new AuthPaths({ appUrl: options.appUrl ?? 'https://app.example.com', routePrefix: options.routePrefix ?? 'auth' }, config);
}

function describePaths(p: AuthPaths) {
  return { callback: p.callbackUrl('github'), login: p.loginPath('google') };
}

describe('AuthPaths: where the module routes are served, as Nest decides it', () => {
  afterEach(() => jest.restoreAllMocks());

  it('without an app or a prefix: the paths under routePrefix, as before', () => {
    expect(describePaths(paths())).toEqual({ callback: 'https://app.example.com/auth/github/callback', login: '/auth/google' });
    expect(describePaths(paths(new ApplicationConfig(), { routePrefix: 'account/auth' }))).toEqual({
      callback: 'https://app.example.com/account/auth/github/callback',
      login: '/account/auth/google',
    });
  });

  it.each(['api', '/api', 'api/', '/api/'])('global prefix %j', (prefix) => {
    expect(describePaths(paths(prefixed(prefix)))).toEqual({ callback: 'https://app.example.com/api/auth/github/callback', login: '/api/auth/google' });
  });

  it.each<[string, Array<string | RouteInfo>]>([
    ['every auth route (Nest 11 wildcard)', ['auth/{*path}']],
    ['every auth route (legacy "(.*)" form, converted by Nest)', ['auth/(.*)']],
    ['every auth route, named wildcard', ['auth/*path']],
    ['every auth route, for every method', [{ path: 'auth/*path', method: RequestMethod.ALL }]],
  ])('exclude %s: the auth routes stay unprefixed', (_name, exclude) => {
    // Nest warns about the legacy form it converts; that warning is not this test's subject.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(describePaths(paths(prefixed('api', exclude)))).toEqual({ callback: 'https://app.example.com/auth/github/callback', login: '/auth/google' });
  });

  it('exclude matches route paths and methods, not request URLs: a provider-specific path or another method does not move the routes', () => {
    const config = prefixed('api', ['auth/github/callback', { path: 'auth/*path', method: RequestMethod.GET }]);
    // The callback is one route for every method (`:provider/callback`, ALL); the start route is a GET.
    expect(describePaths(paths(config))).toEqual({ callback: 'https://app.example.com/api/auth/github/callback', login: '/auth/google' });
  });

  it('exclude of the callback route alone: the callback URL follows it', () => {
    const config = prefixed('api', [{ path: 'auth/:provider/callback', method: RequestMethod.ALL }]);
    expect(describePaths(paths(config))).toEqual({ callback: 'https://app.example.com/auth/github/callback', login: '/api/auth/google' });
  });

  it('refresh and logout under different prefixes start fine: every cookie is at Path=/, so no cookie path has to hold both', () => {
    const p = paths(prefixed('api', [{ path: 'auth/logout', method: RequestMethod.POST }]));
    expect(() => p.onModuleInit()).not.toThrow();
    expect(describePaths(p)).toEqual({ callback: 'https://app.example.com/api/auth/github/callback', login: '/api/auth/google' });
  });

  it("appUrl's path (a proxy's mount point) comes first; the callback keeps appUrl as written", () => {
    expect(describePaths(paths(prefixed('api'), { appUrl: 'https://x.example/app' }))).toEqual({
      callback: 'https://x.example/app/api/auth/github/callback',
      login: '/app/api/auth/google',
    });
    expect(paths(undefined, { appUrl: 'http://127.0.0.1:3000/a/b' }).callbackUrl('google')).toBe('http://127.0.0.1:3000/a/b/auth/google/callback');
  });

  it('URI versioning with a default version: the version segment is part of every path', () => {
    const config = prefixed('api');
    config.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
    expect(describePaths(paths(config))).toEqual({ callback: 'https://app.example.com/api/v1/auth/github/callback', login: '/api/v1/auth/google' });
  });

  it('a RouterModule path of the module is part of every path', () => {
    class HostAuthModule {}
    const modules = new ModulesContainer();
    const p = new AuthPaths({ appUrl: 'https://app.example.com', routePrefix: 'auth' }, prefixed('api'), modules);
    modules.set('auth', { metatype: HostAuthModule, providers: new Map([[AuthPaths, { instance: p }]]) } as never);
    Reflect.defineMetadata(MODULE_PATH + modules.applicationId, '/identity', HostAuthModule);
    expect(describePaths(p)).toEqual({ callback: 'https://app.example.com/api/identity/auth/github/callback', login: '/api/identity/auth/google' });
  });

  it('answers are fixed at onModuleInit (routes are registered by then); before it they follow the config', () => {
    const config = new ApplicationConfig();
    const p = paths(config);
    expect(p.loginPath('google')).toBe('/auth/google');
    config.setGlobalPrefix('api');
    expect(p.loginPath('google')).toBe('/api/auth/google');
    p.onModuleInit();
    config.setGlobalPrefix('later');
    expect(describePaths(p)).toEqual({ callback: 'https://app.example.com/api/auth/github/callback', login: '/api/auth/google' });
  });

  it('the controllers map exactly the AUTH_ROUTES entries', () => {
    const mapped = (controller: object, method: string) => {
      const handler = (controller as { prototype: Record<string, object> }).prototype[method];
      return { path: Reflect.getMetadata(PATH_METADATA, handler), method: Reflect.getMetadata(METHOD_METADATA, handler) };
    };
    expect(mapped(OAuthController, 'start')).toEqual(AUTH_ROUTES.start);
    expect(mapped(OAuthController, 'callback')).toEqual(AUTH_ROUTES.callback);
    expect(mapped(SessionController, 'refresh')).toEqual(AUTH_ROUTES.refresh);
    expect(mapped(SessionController, 'logout')).toEqual(AUTH_ROUTES.logout);
  });
});
