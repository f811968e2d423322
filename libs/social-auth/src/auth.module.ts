import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AUTH_MODULE_OPTIONS, AUTH_OPTIONS } from './auth.constants';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './auth.module-definition';
import { AuthModuleOptions, ResolvedAuthOptions, resolveAuthOptions } from './auth.options';
import { AuthSetupChecks } from './auth-setup.checks';
import { AuthPaths } from './controllers/auth-paths';
import { AccountController } from './controllers/account.controller';
import { JwksController } from './controllers/jwks.controller';
import { OAuthController } from './controllers/oauth.controller';
import { OAuthFlowService } from './controllers/oauth-flow.service';
import { SessionController } from './controllers/session.controller';
import { HandoffController } from './handoff/handoff.controller';
import { HandoffService } from './handoff/handoff.service';
import { AuthDatabase } from './database/auth-database';
import { AuthSchemaCheck } from './database/auth-schema.check';
import { DatabaseAvailability } from './database/database-availability';
import { AUTH_ENTITIES } from './entities';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { ProviderHttpClient } from './http/provider-http.client';
import { IdentityProviderRegistry } from './identity-providers/identity-provider.registry';
import { AuthEvents } from './events/auth-events.service';
import { AccountLinkingService } from './linking/account-linking.service';
import { AccountService } from './linking/account.service';
import { TypeOrmUserStore } from './linking/typeorm-user.store';
import { AuthUserStore } from './linking/user-store.port';
import { AuthHttpPlatform } from './platform/auth-http.provider';
import { AccessTokenService } from './tokens/access-token.service';
import { AuthCookies } from './tokens/auth-cookies';
import { Clock } from './tokens/clock';
import { SessionService } from './tokens/session.service';
import { OAuthTransactionService } from './transaction/oauth-transaction.service';
import { SingleUseStore } from './transaction/single-use.store';
import { TypeOrmSingleUseStore } from './transaction/typeorm-single-use.store';
import { MachineClientStore } from './machine-clients/machine-client-store.port';
import { FastifyFormBody } from './machine-clients/fastify-form-body';
import { MachineClientService } from './machine-clients/machine-client.service';
import { MachineTokenController } from './machine-clients/machine-token.controller';
import { TypeOrmMachineClientStore } from './machine-clients/typeorm-machine-client.store';

/** Controllers whose routes live under `routePrefix` (default `auth`). */
const PREFIXED_CONTROLLERS: Type[] = [AccountController, SessionController, HandoffController, MachineTokenController, OAuthController];

/**
 * Puts the prefixed controllers under the configured `routePrefix`. Decorators run before the
 * options are known (`forRootAsync`), so the path metadata is set here, while providers are
 * created and before Nest registers any route.
 */
const ROUTE_PREFIX_PROVIDER: Provider = {
  provide: Symbol('SOCIAL_AUTH:ROUTE_PREFIX'),
  inject: [AUTH_OPTIONS],
  useFactory: (options: ResolvedAuthOptions) => {
    for (const controller of PREFIXED_CONTROLLERS) Reflect.defineMetadata(PATH_METADATA, options.routePrefix, controller);
    return options.routePrefix;
  },
};

const CORE_PROVIDERS: Provider[] = [
  AuthSetupChecks,
  AuthHttpPlatform,
  { provide: AUTH_OPTIONS, inject: [AUTH_MODULE_OPTIONS], useFactory: (raw: AuthModuleOptions) => resolveAuthOptions(raw) },
  AuthDatabase,
  DatabaseAvailability,
  AuthSchemaCheck,
  AuthPaths,
  Clock,
  AccessTokenService,
  SessionService,
  AuthCookies,
  JwtAuthGuard,
  ROUTE_PREFIX_PROVIDER,
  { provide: AuthUserStore, useClass: TypeOrmUserStore },
  AuthEvents,
  AccountLinkingService,
  AccountService,
  ProviderHttpClient,
  { provide: SingleUseStore, useClass: TypeOrmSingleUseStore },
  OAuthTransactionService,
  IdentityProviderRegistry,
  OAuthFlowService,
  HandoffService,
  { provide: MachineClientStore, useClass: TypeOrmMachineClientStore },
  MachineClientService,
  FastifyFormBody,
];

const EXPORTS = [AUTH_OPTIONS, AuthHttpPlatform, AuthDatabase, DatabaseAvailability, Clock, AccessTokenService, SessionService, AuthCookies, JwtAuthGuard, AuthUserStore, AuthEvents, AccountLinkingService, AccountService, SingleUseStore, IdentityProviderRegistry, MachineClientService, MachineClientStore];

// Order matters: controllers with fixed paths (/auth/me, /auth/providers, /auth/sessions, …) are
// registered before the OAuth controller's /auth/:provider routes so a fixed path never reads as a
// provider id.
const CONTROLLERS: Type[] = [AccountController, SessionController, JwksController, HandoffController, MachineTokenController, OAuthController];

/**
 * Social login for a Nest monolith: Google and GitHub sign-in (Authorization Code + PKCE),
 * account linking, and short-lived JWT sessions checked by a global guard.
 *
 * The host owns TypeORM (add `AUTH_ENTITIES` and `AUTH_MIGRATIONS`) and `ThrottlerModule`.
 * Configure it once. The app refuses to start, with an `InvalidAuthOptionsError` or an
 * `AuthSetupError` saying what to change, when an option is wrong, the module is configured twice,
 * the HTTP platform is not Express, or the module's entities or tables are missing.
 * @example
 * AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => ({ appUrl: c.get('APP_URL'), tokens: { secret: c.get('AUTH_JWT_SECRET') }, providers: { google: { clientId, clientSecret } } }) })
 * @publicApi
 */
@Module({
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
  controllers: CONTROLLERS,
  providers: CORE_PROVIDERS,
  exports: EXPORTS,
})
export class AuthModule extends ConfigurableModuleClass {
  /** Configures the module with static options. Options are validated at boot. */
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withMachineClientStore(withSingleUseStore(withUserStore(withGlobalGuard(super.forRoot(options), options.globalGuard), options.userStore), options.singleUseStore), options.machineClientStore);
  }

  /** Configures the module from a factory, class or existing provider (`ConfigService`, …). */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMachineClientStore(withSingleUseStore(withUserStore(withGlobalGuard(super.forRootAsync(options), options.globalGuard), options.userStore), options.singleUseStore), options.machineClientStore);
  }
}

function withGlobalGuard(definition: DynamicModule, globalGuard: boolean | undefined): DynamicModule {
  if (globalGuard === false) return definition;
  return { ...definition, providers: [...(definition.providers ?? []), { provide: APP_GUARD, useExisting: JwtAuthGuard }] };
}

/**
 * Binds the host's user store (extra `userStore`) in place of the default `TypeOrmUserStore`.
 * Providers of the dynamic definition are registered after the module's own, so this binding wins.
 */
function withUserStore(definition: DynamicModule, userStore: Type<AuthUserStore> | undefined): DynamicModule {
  if (!userStore) return definition;
  return { ...definition, providers: [...(definition.providers ?? []), { provide: AuthUserStore, useClass: userStore }] };
}

/** Binds the host's single-use store (extra `singleUseStore`) in place of `TypeOrmSingleUseStore`, like `userStore`. */
function withSingleUseStore(definition: DynamicModule, singleUseStore: Type<SingleUseStore> | undefined): DynamicModule {
  if (!singleUseStore) return definition;
  return { ...definition, providers: [...(definition.providers ?? []), { provide: SingleUseStore, useClass: singleUseStore }] };
}

/** Binds the host's machine-client store (extra `machineClientStore`) in place of `TypeOrmMachineClientStore`, like `userStore`. */
function withMachineClientStore(definition: DynamicModule, store: Type<MachineClientStore> | undefined): DynamicModule {
  if (!store) return definition;
  return { ...definition, providers: [...(definition.providers ?? []), { provide: MachineClientStore, useClass: store }] };
}
