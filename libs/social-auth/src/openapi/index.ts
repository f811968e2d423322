// `@nest-social-auth/core/openapi`: the module's routes and schemas for @nestjs/swagger. A separate
// entry point, so that only hosts that describe their API load @nestjs/swagger.
export { AUTH_OPENAPI_SECURITY, AUTH_OPENAPI_TAG, addAuthSecuritySchemes, addMachineClientSecurityScheme, describeAuthRoutes, describeScopedRoutes } from './auth-openapi';
export {
  AccessTokenAnswerSchema,
  AccountSchema,
  AuthErrorBodySchema,
  ClientCredentialsTokenRequestSchema,
  ClientCredentialsTokenResponseSchema,
  JwksSchema,
  LinkedIdentitySchema,
  LoginCodeExchangeBodySchema,
  RefreshTokenBodySchema,
  SessionSchema,
  SignInProviderSchema,
} from './auth-openapi.schemas';
