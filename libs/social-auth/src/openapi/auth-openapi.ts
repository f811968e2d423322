import type { INestApplicationContext, Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCookieAuth,
  ApiExtraModels,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiSecurity,
  ApiTags,
  DocumentBuilder,
  type ApiResponseOptions,
} from '@nestjs/swagger';
import { AccountController } from '../controllers/account.controller';
import { JwksController } from '../controllers/jwks.controller';
import { OAuthController } from '../controllers/oauth.controller';
import { SessionController } from '../controllers/session.controller';
import { HandoffController } from '../handoff/handoff.controller';
import { MachineTokenController } from '../machine-clients/machine-token.controller';
import type { ScopeRequirement } from '../machine-clients/machine-client.policy';
import { SCOPES_KEY } from '../machine-clients/scopes.decorator';
import type { AuthErrorCode } from '../errors/auth-error-codes';
import { AUTH_ERROR_CODES } from '../errors/auth-error-codes';
import {
  AccessTokenAnswerSchema,
  AccountSchema,
  AuthErrorBodySchema,
  ClientCredentialsTokenRequestSchema,
  ClientCredentialsTokenResponseSchema,
  JwksSchema,
  LoginCodeExchangeBodySchema,
  RefreshTokenBodySchema,
  SessionSchema,
  SignInProviderSchema,
} from './auth-openapi.schemas';

/** OpenAPI tag of the module's routes. @publicApi */
export const AUTH_OPENAPI_TAG = 'auth';
/** Security scheme names the module's protected routes refer to (see {@link addAuthSecuritySchemes}). @publicApi */
export const AUTH_OPENAPI_SECURITY = { bearer: 'bearer', cookie: 'access-cookie', machine: 'machine-client' } as const;

type MethodDecorator = (target: object, key: string | symbol, descriptor: PropertyDescriptor) => void;

/** One JSON error answer: every code listed shares the status. */
function errors(...codes: AuthErrorCode[]): MethodDecorator[] {
  const byStatus = new Map<number, AuthErrorCode[]>();
  for (const code of codes) byStatus.set(AUTH_ERROR_CODES[code].status, [...(byStatus.get(AUTH_ERROR_CODES[code].status) ?? []), code]);
  return [...byStatus].map(([status, list]) =>
    ApiResponse({
      status,
      type: AuthErrorBodySchema,
      description: list.map((c) => `\`${c}\`: ${AUTH_ERROR_CODES[c].message}`).join(' '),
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } } } : {}),
    } as ApiResponseOptions),
  );
}

const REDIRECT_HEADERS = { Location: { description: 'Where the browser goes next.', schema: { type: 'string' } } };
const SESSION_COOKIES = 'Sets the HttpOnly access and refresh cookies (`__Host-` names on https, `Path=/`).';
const CALLBACK_ERROR_CODES: AuthErrorCode[] = [
  'invalid_request',
  'invalid_state',
  'state_expired',
  'access_denied',
  'provider_error',
  'provider_unavailable',
  'invalid_id_token',
  'email_not_verified',
  'account_exists',
  'identity_in_use',
  'sign_up_disabled',
  'account_disabled',
  'unauthorized',
  'cookie_conflict',
  'internal_error',
  'service_unavailable',
];
const protectedRoute = (): MethodDecorator[] => [ApiBearerAuth(AUTH_OPENAPI_SECURITY.bearer), ApiCookieAuth(AUTH_OPENAPI_SECURITY.cookie)];
const providerParam = ApiParam({ name: 'provider', description: 'Provider id: `google`, `github`, or a configured OpenID provider id (`GET /auth/providers`).', example: 'google' });
const returnToQuery = ApiQuery({ name: 'returnTo', required: false, description: 'Path of this app (or URL of an allowed origin) to land on after sign-in.', example: '/settings' });
const handoffQueries = [
  ApiQuery({ name: 'code_challenge', required: false, description: 'Login-code hand-off (SPA / native app): PKCE S256 challenge of a client-held verifier (base64url, 43 characters). The callback then lands on `returnTo?login_code=<code>` without setting cookies; redeem it at `POST /auth/token`.' }),
  ApiQuery({ name: 'code_challenge_method', required: false, enum: ['S256'] }),
  ApiQuery({ name: 'client', required: false, enum: ['browser', 'native'], description: 'How `POST /auth/token` hands over the session: cookies (`browser`, default) or a refresh token in the body (`native`).' }),
];

/**
 * What every route of the module answers, by controller method. Kept apart from the controllers
 * so the routes' code stays readable and the description is one table.
 */
const ROUTES: Array<[Type, string, MethodDecorator[]]> = [
  [OAuthController, 'providers', [ApiOperation({ summary: 'List the enabled sign-in providers' }), ApiResponse({ status: 200, type: [SignInProviderSchema] })]],
  [
    OAuthController,
    'start',
    [
      ApiOperation({ summary: 'Start a sign-in', description: 'Redirects to the provider with state, PKCE S256 (and nonce for OpenID providers); sets the short-lived HttpOnly transaction cookie.' }),
      providerParam,
      returnToQuery,
      ...handoffQueries,
      ApiResponse({ status: 302, description: 'To the provider; or to the error page with `?error=provider_error|provider_unavailable` when it cannot be reached.', headers: REDIRECT_HEADERS }),
      ...errors('invalid_request', 'unknown_provider', 'rate_limited'),
    ],
  ],
  [
    OAuthController,
    'link',
    [
      ApiOperation({ summary: 'Connect another provider to the signed-in account', description: 'Like a sign-in, but the callback links the identity to the user (and session) that started it.' }),
      providerParam,
      returnToQuery,
      ...protectedRoute(),
      ApiResponse({ status: 302, description: 'To the provider.', headers: REDIRECT_HEADERS }),
      ...errors('unauthorized', 'token_expired', 'cookie_conflict', 'unknown_provider', 'rate_limited'),
    ],
  ],
  [
    OAuthController,
    'callback',
    [
      ApiOperation({
        summary: 'Finish a sign-in (provider redirect target)',
        description: `Always a redirect for GET. Success: to the stored \`returnTo\`. ${SESSION_COOKIES} Failure: to the error page with \`?error=<code>\` and no auth cookie; codes: ${CALLBACK_ERROR_CODES.map((c) => `\`${c}\``).join(', ')}. Any other method: 405, except POST to the callback of a provider that answers with \`form_post\` (Apple): its cross-site POST gets a 200 HTML page that re-posts the fields same-site, where the transaction cookie is sent, and that re-post finishes like GET.`,
      }),
      providerParam,
      ApiQuery({ name: 'state', required: true }),
      ApiQuery({ name: 'code', required: false }),
      ApiQuery({ name: 'error', required: false }),
      ApiQuery({ name: 'iss', required: false, description: 'RFC 9207 issuer identifier; required when the provider announces it.' }),
      ApiResponse({ status: 302, description: 'To `returnTo` (signed in) or to the error page with `?error=<code>`.', headers: REDIRECT_HEADERS }),
      ApiResponse({ status: 405, type: AuthErrorBodySchema, description: '`invalid_request`: the callback accepts GET only (and POST for a form_post provider: Apple).' }),
      ...errors('rate_limited'),
    ],
  ],
  [AccountController, 'me', [ApiOperation({ summary: 'The signed-in user with linked identities' }), ...protectedRoute(), ApiResponse({ status: 200, type: AccountSchema }), ...errors('unauthorized', 'token_expired', 'cookie_conflict')]],
  [
    AccountController,
    'unlink',
    [
      ApiOperation({ summary: 'Disconnect a provider from the signed-in account' }),
      providerParam,
      ...protectedRoute(),
      ApiResponse({ status: 204, description: 'Disconnected; the sessions opened through that provider are revoked.' }),
      ...errors('unauthorized', 'token_expired', 'cookie_conflict', 'csrf_rejected', 'not_found', 'last_login_method'),
    ],
  ],
  [
    SessionController,
    'refresh',
    [
      ApiOperation({ summary: 'Rotate the refresh token', description: 'With the refresh cookie (browsers: new cookies are set), or with `{ refreshToken }` in a JSON body (native apps: the new refresh token is in the answer, no cookie).' }),
      ApiBody({ type: RefreshTokenBodySchema, required: false }),
      ApiResponse({ status: 200, type: AccessTokenAnswerSchema }),
      ...errors('invalid_request', 'refresh_token_invalid', 'refresh_token_reused', 'cookie_conflict', 'csrf_rejected', 'account_disabled', 'rate_limited', 'service_unavailable'),
    ],
  ],
  [
    SessionController,
    'logout',
    [
      ApiOperation({ summary: 'Sign out this session', description: 'Authenticated by the access token, the refresh cookie or `{ refreshToken }`; clears the cookies.' }),
      ApiBody({ type: RefreshTokenBodySchema, required: false }),
      ApiResponse({ status: 204, description: 'Signed out (also when the session was already gone).' }),
      ...errors('invalid_request', 'cookie_conflict', 'csrf_rejected'),
    ],
  ],
  [SessionController, 'logoutAll', [ApiOperation({ summary: 'Sign out every session of the user' }), ...protectedRoute(), ApiResponse({ status: 204, description: 'Every session revoked.' }), ...errors('unauthorized', 'token_expired', 'cookie_conflict', 'csrf_rejected')]],
  [SessionController, 'list', [ApiOperation({ summary: "The user's live sessions (devices)" }), ...protectedRoute(), ApiResponse({ status: 200, type: [SessionSchema] }), ...errors('unauthorized', 'token_expired', 'cookie_conflict')]],
  [
    SessionController,
    'revoke',
    [
      ApiOperation({ summary: 'Revoke one session (device) of the user' }),
      ApiParam({ name: 'id', format: 'uuid' }),
      ...protectedRoute(),
      ApiResponse({ status: 204, description: 'Revoked.' }),
      ...errors('invalid_request', 'unauthorized', 'token_expired', 'cookie_conflict', 'csrf_rejected', 'not_found'),
    ],
  ],
  [
    HandoffController,
    'token',
    [
      ApiOperation({
        summary: 'Redeem a login code (SPA / native app hand-off)',
        description: `JSON body only. Native apps get the refresh token in the answer and no cookie; browsers get the session cookies (${SESSION_COOKIES}) and no refresh token in the body. A code is single-use (a wrong verifier burns it) and lives 60 seconds.`,
      }),
      ApiBody({ type: LoginCodeExchangeBodySchema }),
      ApiResponse({ status: 200, type: AccessTokenAnswerSchema }),
      ...errors('invalid_request', 'invalid_login_code', 'cookie_conflict', 'csrf_rejected', 'account_disabled', 'rate_limited'),
    ],
  ],
  [
    MachineTokenController,
    'token',
    [
      ApiOperation({
        summary: 'Get a machine access token (OAuth 2.0 client credentials)',
        description:
          'RFC 6749 §4.4. Client authentication: `Authorization: Basic` (client_secret_basic) or a signed `client_assertion` (private_key_jwt, RFC 7523). Answers carry `Cache-Control: no-store`; there is no refresh token. Served only with `machineClients.enabled` (404 otherwise).',
      }),
      ApiConsumes('application/x-www-form-urlencoded', 'application/json'),
      ApiBody({ type: ClientCredentialsTokenRequestSchema }),
      ApiResponse({ status: 200, type: ClientCredentialsTokenResponseSchema }),
      ApiResponse({ status: 401, type: AuthErrorBodySchema, description: '`invalid_client`: client authentication failed.', headers: { 'WWW-Authenticate': { description: '`Basic realm="oauth"`', schema: { type: 'string' } } } }),
      ...errors('invalid_request', 'invalid_scope', 'unsupported_grant_type', 'not_found', 'rate_limited', 'service_unavailable'),
    ],
  ],
  [JwksController, 'jwks', [ApiOperation({ summary: 'Public keys of access tokens (asymmetric signing only)' }), ApiProduces('application/json'), ApiResponse({ status: 200, type: JwksSchema })]],
];

const EXTRA_ROUTES: Array<[Type, string, MethodDecorator[]]> = [];
let described = false;

/**
 * Attaches the module's OpenAPI description (operations, answers, error codes, security) to its
 * controllers, so `SwaggerModule.createDocument` shows every auth route. Call it before creating
 * the document; calling it again does nothing.
 * @example
 * describeAuthRoutes();
 * const document = SwaggerModule.createDocument(app, addAuthSecuritySchemes(new DocumentBuilder()).build());
 * @publicApi
 */
export function describeAuthRoutes(): void {
  if (described) return;
  described = true;
  for (const [controller, method, decorators] of [...ROUTES, ...EXTRA_ROUTES]) {
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, method);
    if (!descriptor) throw new Error(`describeAuthRoutes: ${controller.name}.${method} does not exist`);
    for (const decorate of decorators) decorate(controller.prototype, method, descriptor);
  }
  const controllers = new Set([...ROUTES, ...EXTRA_ROUTES].map(([c]) => c));
  for (const controller of controllers) {
    ApiTags(AUTH_OPENAPI_TAG)(controller);
    ApiExtraModels(AuthErrorBodySchema)(controller);
  }
}

/**
 * Registers a route description from another part of the module (e.g. the login-code hand-off)
 * before {@link describeAuthRoutes} runs.
 * @internal
 */
export function registerAuthRouteDescription(controller: Type, method: string, decorators: MethodDecorator[]): void {
  EXTRA_ROUTES.push([controller, method, decorators]);
}

/**
 * Describes the host's `@Scopes()` routes: each gets the `oauth2` client-credentials security
 * requirement with its scopes (plus the user schemes when it accepts users' tokens) and the
 * `403 insufficient_scope` answer. Call it before creating the document; returns every scope
 * found, for {@link addMachineClientSecurityScheme}.
 * @example const scopes = describeScopedRoutes(app); addMachineClientSecurityScheme(builder, '/auth/oauth/token', scopes);
 * @publicApi
 */
export function describeScopedRoutes(app: INestApplicationContext): string[] {
  const scopes = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller?.prototype) continue;
      const onClass = Reflect.getMetadata(SCOPES_KEY, controller) as ScopeRequirement | undefined;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name);
        if (name === 'constructor' || typeof descriptor?.value !== 'function') continue;
        const requirement = (Reflect.getMetadata(SCOPES_KEY, descriptor.value as object) as ScopeRequirement | undefined) ?? onClass;
        if (!requirement || describedScoped.has(descriptor.value as object)) continue;
        describedScoped.add(descriptor.value as object);
        const needed = [...new Set([...requirement.anyOf, ...requirement.allOf])];
        needed.forEach((s) => scopes.add(s));
        const decorators: MethodDecorator[] = [
          ApiSecurity(AUTH_OPENAPI_SECURITY.machine, needed),
          ...(requirement.allowUserTokens ? protectedRoute() : []),
          ...errors('unauthorized', 'token_expired', 'cookie_conflict', 'insufficient_scope'),
        ];
        for (const decorate of decorators) decorate(controller.prototype, name, descriptor);
      }
    }
  }
  return [...scopes].sort();
}

const describedScoped = new WeakSet<object>();

/**
 * Adds the `oauth2` client-credentials security scheme machine clients use (named
 * `AUTH_OPENAPI_SECURITY.machine`), with the token URL and the scopes routes ask for.
 * @param tokenUrl the token endpoint as clients reach it (`/auth/oauth/token`, or absolute)
 * @publicApi
 */
export function addMachineClientSecurityScheme(builder: DocumentBuilder, tokenUrl: string, scopes: readonly string[]): DocumentBuilder {
  return builder.addOAuth2(
    { type: 'oauth2', description: 'Machine clients (client credentials; docs/machine-clients.md)', flows: { clientCredentials: { tokenUrl, scopes: Object.fromEntries(scopes.map((s) => [s, s])) } } },
    AUTH_OPENAPI_SECURITY.machine,
  );
}

/**
 * Adds the security schemes the module's protected routes refer to: `Authorization: Bearer` and
 * the HttpOnly access cookie.
 * @param accessCookieName the access cookie's name (`authCookieNames(options).access`)
 * @default accessCookieName 'sa_at'
 * @publicApi
 */
export function addAuthSecuritySchemes(builder: DocumentBuilder, accessCookieName = 'sa_at'): DocumentBuilder {
  return builder
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token (`typ: at+jwt`)' }, AUTH_OPENAPI_SECURITY.bearer)
    .addCookieAuth(accessCookieName, { type: 'apiKey', in: 'cookie', name: accessCookieName, description: 'HttpOnly access-token cookie (browsers)' }, AUTH_OPENAPI_SECURITY.cookie);
}
