import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { AuthSetupError } from './errors/auth.error';

/**
 * HTTP platforms (`HttpAdapterHost.httpAdapter.getType()`) the module runs on: those with an
 * `AuthHttp` (`platform/`), through which its controllers, cookies, guard and filter read requests
 * and write responses.
 * @internal
 */
export const SUPPORTED_HTTP_PLATFORMS: readonly string[] = ['express', 'fastify'];

/**
 * Refuses, at boot and with one sentence saying what to change, an app the module cannot run in
 * correctly even though Nest would start it:
 * - `AuthModule` configured twice (`forRoot`/`forRootAsync` in two modules): two sets of the same
 *   routes, two global guards and two option sets would otherwise run side by side.
 * - An HTTP platform other than those in {@link SUPPORTED_HTTP_PLATFORMS}. An app without HTTP
 *   (`createApplicationContext`, a microservice) is accepted: no route of the module is served.
 *
 * Both run while providers are created (`NestFactory.create`, `Test…compile()`); the platform
 * check runs again at `onModuleInit` because a testing module learns its adapter only in
 * `createNestApplication()`, after its providers exist.
 * @internal
 */
@Injectable()
export class AuthSetupChecks implements OnModuleInit {
  constructor(
    @Optional() private readonly modules?: ModulesContainer,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    if (modules) assertConfiguredOnce(modules);
    assertSupportedHttpPlatform(adapterHost?.httpAdapter?.getType?.());
  }

  onModuleInit(): void {
    assertSupportedHttpPlatform(this.adapterHost?.httpAdapter?.getType?.());
  }
}

/**
 * Throws {@link AuthSetupError} unless `platform` (an adapter's `getType()`) is supported or
 * absent (no HTTP adapter).
 * @internal
 */
export function assertSupportedHttpPlatform(platform: string | undefined | null): void {
  if (platform === undefined || platform === null || SUPPORTED_HTTP_PLATFORMS.includes(platform)) return;
  throw new AuthSetupError(
    `@nest-social-auth/core supports the express and fastify HTTP platforms; this app runs on ${platform}: create it with @nestjs/platform-express (NestFactory.create's default adapter) or @nestjs/platform-fastify (FastifyAdapter).`,
  );
}

/**
 * Throws {@link AuthSetupError} when more than one module of the app holds the module's providers,
 * which happens only when `AuthModule.forRoot`/`forRootAsync` was called more than once (one
 * configured module imported in several places is one module).
 * @internal
 */
export function assertConfiguredOnce(modules: ModulesContainer): void {
  // Which modules made the calls is not recorded: Nest links a global module into every module's imports.
  const configured = [...modules.values()].filter((m) => m.providers.has(AuthSetupChecks)).length;
  if (configured <= 1) return;
  throw new AuthSetupError(
    `AuthModule is configured ${configured} times (AuthModule.forRoot or forRootAsync is called in more than one place): configure it once, in the root module; it is global by default, so every module can inject its exports.`,
  );
}
