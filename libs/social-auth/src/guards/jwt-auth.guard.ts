import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../auth.constants';
import { REQUEST_USER_KEY } from '../auth.internal-constants';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';
import { type AuthenticatedClient, isAuthenticatedClient } from '../machine-clients/authenticated-client';
import { MachineClientService } from '../machine-clients/machine-client.service';
import { ScopeRequirement, machineTokenAllowed, userTokenAllowed } from '../machine-clients/machine-client.policy';
import { REQUEST_CLIENT_KEY, SCOPES_KEY } from '../machine-clients/scopes.decorator';
import type { AuthHttp, AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform, authHttpOf } from '../platform/auth-http.provider';
import { AccessTokenService } from '../tokens/access-token.service';
import { AuthCookies, CookieConflictError } from '../tokens/auth-cookies';
import type { AuthMethod, AuthenticatedUser } from '../tokens/authenticated-user';
import { SessionService } from '../tokens/session.service';
import { assertSameOriginForCookieAuth } from './csrf';

/** An access token and where the request carried it. @publicApi */
export interface AccessCredential {
  token: string;
  method: AuthMethod;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Marks a request this guard has fully checked (token, session, CSRF); private to this module. */
const AUTHENTICATED = Symbol('social-auth:authenticated');

/** `@Public()` answers by controller class, then handler. */
const publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();

/** `@Scopes()` requirements by controller class, then handler (undefined: none). */
const scopedRoutes = new WeakMap<object, WeakMap<object, ScopeRequirement | undefined>>();

/**
 * The global guard: every route needs a valid access token unless it is `@Public()`.
 *
 * Invariants (threat model D5, D6, F2, F3):
 * - Default-deny: anything not marked `@Public()` needs a verified token whose session is still
 *   live; a non-HTTP context (RPC, WebSocket) that is not public is refused.
 * - Ambiguous credentials are refused, never resolved first-wins: two `Authorization` headers,
 *   the access cookie sent twice (`401 cookie_conflict`, every copy expired on the answer), or a
 *   bearer token and an access cookie that differ.
 * - Cookie-authenticated unsafe requests must pass the origin check (`403 csrf_rejected`).
 * - Revocation: the token's `sid` is checked against the session store through a cache whose
 *   answers live at most `tokens.revocationCacheTtl` seconds.
 *
 * Customise by subclassing: `isPublic`, `extractCredential`, `checkSession`, `checkCsrf` and
 * `handleNonHttp` are protected hooks (like ThrottlerGuard's).
 * @example @UseGuards(JwtAuthGuard) // only when `globalGuard: false`
 * @publicApi
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  /** The app's HTTP platform seam (property-injected so subclasses' constructors stay as they are). */
  @Optional() @Inject(AuthHttpPlatform) protected readonly http?: AuthHttpPlatform;

  /** Machine clients (client credentials), property-injected like `http`; absent: machine tokens are refused. */
  @Optional() @Inject(MachineClientService) protected readonly machineClients?: MachineClientService;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly tokens: AccessTokenService,
    protected readonly sessions: SessionService,
    protected readonly cookies: AuthCookies,
    @InjectAuthOptions() protected readonly options: ResolvedAuthOptions,
  ) {}

  /**
   * Answers synchronously when the session's liveness is already known in this process (all but
   * one request per session and revocation-cache period), so the common request pays no promise;
   * otherwise a promise. Token verification itself is synchronous either way.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    if (context.getType() !== 'http') return this.handleNonHttp(context);
    const request = context.switchToHttp().getRequest<AuthRequest>();
    // The module's own signed-in routes also carry @UseGuards(JwtAuthGuard) so they stay protected
    // with `globalGuard: false`; with the global guard on, one request meets the guard twice, and
    // the second pass has nothing left to check.
    if ((request as unknown as Record<symbol, unknown>)[AUTHENTICATED] === true) return true;
    const credential = this.credentialOrExpire(context, request);
    if (!credential) throw new AuthError('unauthorized');
    const principal = this.tokens.verifyPrincipal(credential.token);
    // A machine client's token (client credentials) branches off here; a user's goes on as before,
    // except on a `@Scopes()` route that does not accept users.
    if (isAuthenticatedClient(principal)) return this.admitClient(context, request, principal, credential.method);
    if (!userTokenAllowed(this.scopeRequirement(context))) throw this.insufficientScope(context);
    const user = this.withSession({ ...principal, authMethod: credential.method });
    return user instanceof Promise ? user.then((u) => this.admit(request, u), (error: unknown) => this.refuse(context, error)) : this.admit(request, user);
  }

  /**
   * Rethrows a refusal found after a database read, with its headers (`Retry-After` of a `503
   * service_unavailable` while the database is unreachable) already on the response: on a host
   * route without `AuthErrorFilter`, Nest's own handler sends no error headers.
   */
  private refuse(context: ExecutionContext, error: unknown): never {
    throw error instanceof AuthError ? this.withHeadersOnResponse(context, error) : error;
  }

  /** `error`, its headers already set on the response (see {@link refuse}). */
  private withHeadersOnResponse(context: ExecutionContext, error: AuthError): AuthError {
    const entries = Object.entries(error.headers);
    if (entries.length === 0) return error;
    const response = context.switchToHttp().getResponse<AuthResponse>();
    const http = this.http ?? authHttpOf(response);
    for (const [name, value] of entries) http.setHeader(response, name, value);
    return error;
  }

  /**
   * Authenticates a request from its bearer token or access cookie, without the CSRF check.
   * Throws (rejects with) `AuthError` (`unauthorized`, `token_expired`) when it cannot.
   */
  async authenticate(request: AuthRequest): Promise<AuthenticatedUser> {
    return this.authenticateNow(request);
  }

  private authenticateNow(request: AuthRequest): AuthenticatedUser | Promise<AuthenticatedUser> {
    const credential = this.extractCredential(request);
    if (!credential) throw new AuthError('unauthorized');
    return this.withSession({ ...this.tokens.verify(credential.token), authMethod: credential.method });
  }

  /**
   * {@link extractCredential}, and when the access cookie was sent twice (a planted copy), every
   * copy is expired on this answer, whoever renders the error.
   */
  private credentialOrExpire(context: ExecutionContext, request: AuthRequest): AccessCredential | undefined {
    try {
      return this.extractCredential(request);
    } catch (error) {
      if (error instanceof CookieConflictError) this.cookies.expireEveryCopy(request, context.switchToHttp().getResponse(), error.cookieNames);
      throw error;
    }
  }

  private withSession(user: AuthenticatedUser): AuthenticatedUser | Promise<AuthenticatedUser> {
    const pending = this.checkSession(user);
    return pending instanceof Promise ? pending.then(() => user) : user;
  }

  /**
   * A machine client's token: only as a bearer token, only on a `@Scopes()` route whose scopes it
   * carries (`403 insufficient_scope` otherwise), only while the client is enabled (checked through
   * the same revocation-bounded cache rule as sessions). Puts the client on the request for
   * `@CurrentClient()`; `@CurrentUser()` stays undefined.
   */
  private admitClient(context: ExecutionContext, request: AuthRequest, client: AuthenticatedClient, method: AuthMethod): boolean | Promise<boolean> {
    const machineClients = this.machineClients;
    if (!machineClients?.enabled || method !== 'bearer') throw new AuthError('unauthorized');
    if (!machineTokenAllowed(this.scopeRequirement(context), client.scopes)) throw this.insufficientScope(context);
    const admit = (live: boolean): true => {
      if (!live) throw new AuthError('unauthorized');
      (request as unknown as Record<string, unknown>)[REQUEST_CLIENT_KEY] = client;
      (request as unknown as Record<symbol, unknown>)[AUTHENTICATED] = true;
      return true;
    };
    const known = machineClients.knownClientLiveness(client.clientId);
    return known !== undefined ? admit(known) : machineClients.isClientLive(client.clientId).then(admit, (error: unknown) => this.refuse(context, error));
  }

  /** The `@Scopes()` requirement of the handler or its controller (read once per handler and class). */
  protected scopeRequirement(context: ExecutionContext): ScopeRequirement | undefined {
    const handler = context.getHandler();
    const type = context.getClass();
    let byHandler = scopedRoutes.get(type);
    if (byHandler === undefined) scopedRoutes.set(type, (byHandler = new WeakMap()));
    if (!byHandler.has(handler)) byHandler.set(handler, this.reflector.getAllAndOverride<ScopeRequirement | undefined>(SCOPES_KEY, [handler, type]));
    return byHandler.get(handler);
  }

  /** `403 insufficient_scope`, with the RFC 6750 §3 challenge naming the scopes the route asks for. */
  private insufficientScope(context: ExecutionContext): AuthError {
    const requirement = this.scopeRequirement(context);
    const scope = requirement ? [...new Set([...requirement.anyOf, ...requirement.allOf])].join(' ') : '';
    const challenge = `Bearer error="insufficient_scope"${scope ? `, scope="${scope}"` : ''}`;
    return this.withHeadersOnResponse(context, new AuthError('insufficient_scope', { headers: { 'WWW-Authenticate': challenge } }));
  }

  private admit(request: AuthRequest, user: AuthenticatedUser): true {
    if (user.authMethod === 'cookie') this.checkCsrf(request);
    (request as unknown as Record<string, unknown>)[REQUEST_USER_KEY] = user;
    (request as unknown as Record<symbol, unknown>)[AUTHENTICATED] = true;
    return true;
  }

  /** Whether the handler or its controller is `@Public()` (read once per handler and class: metadata is fixed at boot). */
  protected isPublic(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const type = context.getClass();
    let byHandler = publicRoutes.get(type);
    if (byHandler === undefined) publicRoutes.set(type, (byHandler = new WeakMap()));
    let answer = byHandler.get(handler);
    if (answer === undefined) {
      answer = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [handler, type]) === true;
      byHandler.set(handler, answer);
    }
    return answer;
  }

  /**
   * Where the token comes from: `Authorization: Bearer` (scheme case-insensitive, RFC 9110 §11.1)
   * or the access cookie. Throws on ambiguity; returns undefined when there is none.
   */
  protected extractCredential(request: AuthRequest): AccessCredential | undefined {
    // Node keeps the first of repeated Authorization headers in `headers`: absent there means
    // absent; present means the raw headers must say whether it came more than once.
    const authorizations = request.headers.authorization === undefined ? [] : this.httpOf(request).headerValues(request, 'authorization');
    if (authorizations.length > 1) throw new AuthError('unauthorized');
    let bearer: string | undefined;
    if (authorizations.length === 1 && /^bearer(\s|$)/i.test(authorizations[0])) {
      const match = BEARER.exec(authorizations[0]);
      if (!match) throw new AuthError('unauthorized');
      bearer = match[1];
    }
    const cookie = this.cookies.read(request, 'access');
    if (cookie.status === 'ambiguous') throw this.cookies.conflict(request, undefined, ['access']);
    const cookieToken = cookie.status === 'present' ? cookie.value : undefined;
    if (bearer !== undefined && cookieToken !== undefined && bearer !== cookieToken) throw new AuthError('unauthorized');
    if (bearer !== undefined) return { token: bearer, method: 'bearer' };
    if (cookieToken !== undefined) return { token: cookieToken, method: 'cookie' };
    return undefined;
  }

  /**
   * Refuses a token whose session was revoked or has expired (within the revocation bound): throws
   * at once when the answer is cached in this process, else returns a promise that rejects.
   * An override may be `async`.
   */
  protected checkSession(user: AuthenticatedUser): void | Promise<void> {
    const known = this.sessions.knownSessionLiveness(user.sessionId, user.id);
    if (known === true) return;
    if (known === false) throw new AuthError('unauthorized');
    return this.sessions.isSessionLive(user.sessionId, user.id).then((live) => {
      if (!live) throw new AuthError('unauthorized');
    });
  }

  /** The CSRF rule for cookie-authenticated requests. */
  protected checkCsrf(request: AuthRequest): void {
    assertSameOriginForCookieAuth(request, this.options, this.httpOf(request));
  }

  private httpOf(request: AuthRequest): AuthHttp {
    return this.http ?? authHttpOf(request);
  }

  /** Non-HTTP handlers (microservices, gateways) are refused unless public; override to authenticate them. */
  protected handleNonHttp(_context: ExecutionContext): boolean | Promise<boolean> {
    return false;
  }
}
