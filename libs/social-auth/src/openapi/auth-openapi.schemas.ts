import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUTH_ERROR_CODES } from '../errors/auth-error-codes';

/**
 * OpenAPI schemas of the module's answers. They document the JSON the routes already send
 * (see docs/http-api.md); the routes do not use these classes at runtime.
 * @publicApi
 */

/** Every JSON error: `{ statusCode, error, message }`. @publicApi */
export class AuthErrorBodySchema {
  @ApiProperty({ example: 401 })
  statusCode!: number;

  @ApiProperty({ enum: Object.keys(AUTH_ERROR_CODES), example: 'unauthorized', description: 'Stable lowercase snake code (also used in `?error=` redirects).' })
  error!: string;

  @ApiProperty({ example: 'Authentication is required.', description: 'Words for a person; never a token, code or stack trace.' })
  message!: string;
}

/** One enabled sign-in provider. @publicApi */
export class SignInProviderSchema {
  @ApiProperty({ example: 'google', description: 'Provider id: `google`, `github`, or a configured OpenID provider id.' })
  id!: string;

  @ApiProperty({ example: 'Google' })
  name!: string;

  @ApiProperty({ example: '/auth/google', description: 'Starts the sign-in; add `?returnTo=/path`.' })
  loginUrl!: string;
}

/** A provider identity linked to the account. @publicApi */
export class LinkedIdentitySchema {
  @ApiProperty({ example: 'github' })
  provider!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' })
  email!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  linkedAt!: string;
}

/** `GET /auth/me`. @publicApi */
export class AccountSchema {
  @ApiProperty({ example: '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' })
  email!: string | null;

  @ApiProperty()
  emailVerified!: boolean;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  displayName!: string | null;

  @ApiProperty({ type: [LinkedIdentitySchema], description: 'Oldest first.' })
  identities!: LinkedIdentitySchema[];
}

/** Body of `POST /auth/refresh` and `POST /auth/logout` for native apps. @publicApi */
export class RefreshTokenBodySchema {
  @ApiPropertyOptional({ maxLength: 512, description: 'The refresh token. When present, cookies are neither read nor set.' })
  refreshToken?: string;
}

/** Body of `POST /auth/token` (login-code hand-off). @publicApi */
export class LoginCodeExchangeBodySchema {
  @ApiProperty({ maxLength: 1024, description: 'The `login_code` the sign-in callback appended to `returnTo` (single use, 60 seconds).' })
  code!: string;

  @ApiProperty({ minLength: 43, maxLength: 128, pattern: '^[A-Za-z0-9._~-]{43,128}$', description: 'PKCE verifier whose S256 was sent as `code_challenge` at the start.' })
  code_verifier!: string;
}

/** An access token answer (`POST /auth/refresh`, `POST /auth/token`). @publicApi */
export class AccessTokenAnswerSchema {
  @ApiProperty({ description: 'JWT (`typ: at+jwt`), short-lived.' })
  accessToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 600, description: 'Seconds until the access token expires.' })
  expiresIn!: number;

  @ApiPropertyOptional({ description: 'The next refresh token: only when the request carried it in the body (native apps); browsers get it as an HttpOnly cookie.' })
  refreshToken?: string;
}

/** One session (device) of the signed-in user. @publicApi */
export class SessionSchema {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, example: 'google' })
  provider!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUsedAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ description: 'True for the session of the access token that asked.' })
  current!: boolean;
}

/** `GET /.well-known/jwks.json`. @publicApi */
export class JwksSchema {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Public keys; empty when tokens are signed with HS256.' })
  keys!: Array<Record<string, unknown>>;
}

/** Body of `POST /auth/oauth/token` (form or JSON; RFC 6749 §4.4.2, RFC 7523 §2.2). @publicApi */
export class ClientCredentialsTokenRequestSchema {
  @ApiProperty({ enum: ['client_credentials'] })
  grant_type!: string;

  @ApiPropertyOptional({ example: 'reports:read', description: 'Space-separated scopes; every one must be allowed for the client. Omitted: every allowed scope.' })
  scope?: string;

  @ApiPropertyOptional({ enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'], description: '`private_key_jwt` only.' })
  client_assertion_type?: string;

  @ApiPropertyOptional({ description: '`private_key_jwt` only: a JWT signed ES256 or RS256 with `iss` = `sub` = client id, `aud` = this endpoint URL, a short `exp` and a single-use `jti`.' })
  client_assertion?: string;

  @ApiPropertyOptional({ description: 'Optional; must name the authenticated client.' })
  client_id?: string;
}

/** Answer of `POST /auth/oauth/token` (RFC 6749 §5.1). No refresh token. @publicApi */
export class ClientCredentialsTokenResponseSchema {
  @ApiProperty({ description: 'The machine access token (JWT, `typ: at+jwt`, `sub` = `client_id`, `scope`).' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: string;

  @ApiProperty({ example: 300 })
  expires_in!: number;

  @ApiProperty({ example: 'reports:read' })
  scope!: string;
}
