// The public API of @nest-social-auth/core. Internals (codecs, policies' helpers, internal constants)
// are deliberately not exported. Everything here loads with the required peers only: optional
// integrations have their own entry point (`@nest-social-auth/core/openapi` needs @nestjs/swagger)
// or are looked up at start-up (@nestjs/event-emitter), never imported from this file.
export { AuthModule } from './auth.module';
export type { AuthModuleExtras } from './auth.module-definition';
export {
  AuthModuleOptions,
  CookieOptions,
  GithubProviderOptions,
  GoogleProviderOptions,
  HandoffOptions,
  HttpOptions,
  LinkingOptions,
  MachineClientOptions,
  ProvidersOptions,
  TokenOptions,
  TransactionOptions,
  isHandoffRedirectUri,
  resolveAuthOptions,
} from './auth.options';
export type { ResolvedAuthOptions } from './auth.options';
export { OIDC_ID_TOKEN_ALGORITHMS, OidcProviderOptions, RESERVED_PROVIDER_IDS } from './identity-providers/oidc/oidc.options';
export type { ResolvedOidcProviderOptions } from './identity-providers/oidc/oidc.options';
export { MICROSOFT_CONSUMERS_TENANT_ID, MicrosoftProviderOptions } from './identity-providers/microsoft/microsoft.options';
export type { ResolvedMicrosoftOptions } from './identity-providers/microsoft/microsoft.options';
export { APPLE_MAX_CLIENT_SECRET_TTL, AppleProviderOptions } from './identity-providers/apple/apple.options';
export type { ResolvedAppleOptions } from './identity-providers/apple/apple.options';
export { AuthDatabase } from './database/auth-database';
export { DatabaseAvailability } from './database/database-availability';
export { AUTH_MODULE_OPTIONS, AUTH_OPTIONS, BUILT_IN_PROVIDERS, IS_PUBLIC_KEY } from './auth.constants';
export type { BuiltInProviderId } from './auth.constants';
export { CurrentUser, InjectAuthOptions, Public } from './decorators';
export { AUTH_ERROR_CODES, AuthError, AuthErrorFilter, AuthSetupError, InvalidAuthOptionsError, isAuthErrorCode } from './errors';
export type { AuthErrorCode } from './errors';
export { AUTH_ENTITIES, AuditEvent, AuthSession, ExternalIdentity, MachineClient, RefreshToken, SingleUseMarker, UserAccount } from './entities';
export { AUTH_MIGRATIONS } from './migrations';
export { runAuthMigrations } from './migrations/run-auth-migrations';
export type { AuthMigrationRunOptions } from './migrations/run-auth-migrations';
export { JwtAuthGuard } from './guards/jwt-auth.guard';
export type { AuthRequest, AuthResponse } from './platform/auth-http';
export { assertSameOriginForCookieAuth, hasAllowedOrigin, isUnsafeMethod } from './guards/csrf';
export { ACCESS_TOKEN_TYPE, AccessTokenService } from './tokens/access-token.service';
export type { AccessTokenAlgorithm, PublicJwk } from './tokens/access-token.service';
export { AuthCookies, CookieConflictError } from './tokens/auth-cookies';
export type { AuthCookieKind, CookieRead } from './tokens/auth-cookies';
export type { AuthenticatedUser, AuthMethod } from './tokens/authenticated-user';
export { Clock } from './tokens/clock';
export { authCookieNames } from './tokens/cookie-names';
export type { AuthCookieNames } from './tokens/cookie-names';
export { deriveKey } from './tokens/key-derivation';
export { SessionService } from './tokens/session.service';
export type { IssuedTokens, SessionContext, SessionRevocationReason, SessionSummary } from './tokens/session.types';
export type { SignInIntent, VerifiedIdentity } from './identity-providers/verified-identity';
export { AccountLinkingService } from './linking/account-linking.service';
export type { LinkingContext } from './linking/account-linking.service';
export { AccountService } from './linking/account.service';
export type { AccountView, LinkedIdentityView } from './linking/account.service';
export { AuthUserStore } from './linking/user-store.port';
export type { LocalUser, NewLocalUser } from './linking/user-store.port';
export { TypeOrmUserStore } from './linking/typeorm-user.store';
export { canonicalEmail } from './linking/canonical-email';
export { AccountController } from './controllers/account.controller';
export { LoginCodeExchangeBody } from './handoff/handoff.controller';
export type { LoginCodeExchangeAnswer } from './handoff/handoff.controller';
export type { HandoffClient } from './handoff/login-code';
export {
  AUTH_EVENTS,
  AccountDisabledEvent,
  AccountEnabledEvent,
  AuthEvent,
  AuthEvents,
  IdentityLinkedEvent,
  IdentityUnlinkedEvent,
  SignInFailedEvent,
  SignInSucceededEvent,
  UserCreatedEvent,
} from './events';
export type { AuthEventContext, AuthEventName, IdentityLinkMethod } from './events';
export {
  AUTH_FAIL_CLOSED_KINDS,
  AUTH_RATE_LIMITS,
  AUTH_THROTTLER,
  AuthRateLimited,
  AuthThrottlerGuard,
  authThrottler,
  clientAddressKey,
  hasAuthRateLimit,
} from './guards/auth-throttler.guard';
export type { AuthRateLimit, AuthRateLimitKind } from './guards/auth-throttler.guard';
export { RedisSingleUseStore } from './transaction/redis-single-use.store';
export { SingleUseStore } from './transaction/single-use.store';
export { TypeOrmSingleUseStore } from './transaction/typeorm-single-use.store';
export { IdentityProviderRegistry } from './identity-providers/identity-provider.registry';
export type { SignInProvider } from './identity-providers/identity-provider.registry';
export type { RedisSetNxClient } from './transaction/redis-single-use.store';
export { CLIENT_ASSERTION_ALGORITHMS, MachineClientService } from './machine-clients/machine-client.service';
export type { ClientCredentialsTokenResponse, RegisterMachineClient } from './machine-clients/machine-client.service';
export { MachineClientStore } from './machine-clients/machine-client-store.port';
export type { MachineClientRecord } from './machine-clients/machine-client-store.port';
export { TypeOrmMachineClientStore } from './machine-clients/typeorm-machine-client.store';
export { CurrentClient, Scopes } from './machine-clients/scopes.decorator';
export type { ScopesOptions } from './machine-clients/scopes.decorator';
export type { ScopeRequirement } from './machine-clients/machine-client.policy';
export { JWT_BEARER_ASSERTION_TYPE } from './machine-clients/machine-client.policy';
export type { AuthenticatedClient } from './machine-clients/authenticated-client';
