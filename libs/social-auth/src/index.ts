// The public API of @app/social-auth. Internals (codecs, policies' helpers, internal constants)
// are deliberately not exported.
export { AuthModule } from './auth.module';
export type { AuthModuleExtras } from './auth.module-definition';
export {
  AuthModuleOptions,
  CookieOptions,
  GithubProviderOptions,
  GoogleProviderOptions,
  HttpOptions,
  LinkingOptions,
  ProvidersOptions,
  TokenOptions,
  TransactionOptions,
  resolveAuthOptions,
} from './auth.options';
export type { ResolvedAuthOptions } from './auth.options';
export { AUTH_MODULE_OPTIONS, AUTH_OPTIONS, BUILT_IN_PROVIDERS, IS_PUBLIC_KEY } from './auth.constants';
export type { BuiltInProviderId } from './auth.constants';
export { CurrentUser, InjectAuthOptions, Public } from './decorators';
export { AUTH_ERROR_CODES, AuthError, AuthErrorFilter, InvalidAuthOptionsError, isAuthErrorCode } from './errors';
export type { AuthErrorCode } from './errors';
export { AUTH_ENTITIES, AuditEvent, AuthSession, ExternalIdentity, RefreshToken, SingleUseMarker, UserAccount } from './entities';
export { AUTH_MIGRATIONS } from './migrations';
export { JwtAuthGuard } from './guards/jwt-auth.guard';
export { AccessTokenService } from './tokens/access-token.service';
export type { AuthenticatedUser } from './tokens/authenticated-user';
export type { IssuedTokens, SessionContext } from './tokens/session.types';
export type { SignInIntent, VerifiedIdentity } from './identity-providers/verified-identity';
