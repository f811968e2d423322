import { Injectable, Logger, Optional } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';
import type { AuthHttp, AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform, authHttpOf } from '../platform/auth-http.provider';
import { formatSetCookie, SetCookieAttributes } from '../platform/set-cookie';
import { Clock } from './clock';
import { expireEveryCopy } from './cookie-conflict';
import { AUTH_COOKIE_PATH, AuthCookieNames, authCookieNames } from './cookie-names';
import type { IssuedTokens } from './session.types';

/**
 * What the `Cookie` header says about one cookie name.
 * `ambiguous` means the name appears more than once (cookie tossing, threat model F2): such a
 * credential is never read, whichever copy is genuine.
 * @publicApi
 */
export type CookieRead = { status: 'absent' } | { status: 'ambiguous'; count: number } | { status: 'present'; value: string };

/** One of the module's cookies. @publicApi */
export type AuthCookieKind = keyof AuthCookieNames;

/**
 * A request refused because one of the module's cookies came more than once (`401 cookie_conflict`).
 * `cookieNames` says which (names only, never values), so whoever answers can expire every copy
 * ({@link AuthCookies.expireEveryCopy}).
 * @publicApi
 */
export class CookieConflictError extends AuthError {
  constructor(readonly cookieNames: readonly string[]) {
    super('cookie_conflict', { cause: new Error('auth cookie sent more than once') });
  }
}

/**
 * Writes and reads the module's cookies: access token, refresh token (and, through their
 * services, the transaction and login-binding cookies).
 *
 * Invariants (threat model F1, F2):
 * - Every cookie is `HttpOnly`, `SameSite=Lax`, host-only (no `Domain`) and `Path=/`; with secure
 *   cookies it is `Secure` and named `__Host-` (see `authCookieNames`), which a sibling subdomain
 *   cannot set. The refresh cookie therefore travels to every route of the host, not only the
 *   auth routes: the price of a name no sibling can plant (docs/sessions-and-tokens.md).
 * - Reading never trusts cookie-parser (which keeps the first of duplicate names): the raw
 *   `Cookie` header is parsed here and a name sent twice reads as `ambiguous`, never first-wins.
 * - An ambiguous cookie is refused with `401 cookie_conflict`, logged at warn level by name
 *   (never a value), and every copy the browser could have sent is expired on that answer
 *   (`expireEveryCopy`), so the attacker's copy is never left as the only one.
 * - Values are never percent-decoded: our tokens are URL-safe, so anything needing decoding is
 *   not ours and fails verification instead of throwing.
 * @publicApi
 */
@Injectable()
export class AuthCookies {
  /** The cookie names in use. */
  readonly names: AuthCookieNames;
  private readonly logger = new Logger('AuthCookies');
  private readonly host: string;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
    // The app's HTTP platform; built by hand, each response is recognised by its shape.
    @Optional() private readonly http?: AuthHttpPlatform,
  ) {
    this.names = authCookieNames(options);
    this.host = new URL(options.appUrl).hostname.toLowerCase();
  }

  /** Sets the access and refresh cookies of a freshly opened or refreshed session. */
  setSession(res: AuthResponse, tokens: IssuedTokens): void {
    const now = this.clock.now().getTime();
    this.set(res, this.names.access, tokens.accessToken, { ...this.base(), maxAge: tokens.expiresIn * 1000 });
    const refreshMs = Math.max(0, tokens.refreshExpiresAt.getTime() - now);
    this.set(res, this.names.refresh, tokens.refreshToken, { ...this.base(), maxAge: refreshMs });
  }

  /** Expires both session cookies (`Max-Age=0`, same name, path and attributes as when set). */
  clear(res: AuthResponse): void {
    this.set(res, this.names.access, '', { ...this.base(), maxAge: 0 });
    this.set(res, this.names.refresh, '', { ...this.base(), maxAge: 0 });
  }

  /** Sets cookie `kind` host-only at `Path=/` with the module's attributes for `maxAgeMs` (0 expires it). */
  write(res: AuthResponse, kind: AuthCookieKind, value: string, maxAgeMs: number): void {
    this.set(res, this.names[kind], value, { ...this.base(), maxAge: maxAgeMs });
  }

  /** The access-token cookie, or undefined when absent or sent more than once. */
  readAccess(req: AuthRequest): string | undefined {
    const read = this.read(req, 'access');
    return read.status === 'present' ? read.value : undefined;
  }

  /** The refresh-token cookie, or undefined when absent or sent more than once. */
  readRefresh(req: AuthRequest): string | undefined {
    const read = this.read(req, 'refresh');
    return read.status === 'present' ? read.value : undefined;
  }

  /** Reads one of the module's cookies from the raw `Cookie` header, telling absent from ambiguous. */
  read(req: AuthRequest, kind: AuthCookieKind): CookieRead {
    return readCookie(req.headers.cookie, this.names[kind]);
  }

  /**
   * The refusal of a request that sent cookies `kinds` more than once: logs each name at warn
   * level (never a value) and, when `res` is given, expires every copy of them on it. A caller
   * without the response (a guard's credential hook) passes none and hands the error to whoever
   * has it (`expireEveryCopy(req, res, error.cookieNames)`).
   */
  conflict(req: AuthRequest, res: AuthResponse | undefined, kinds: readonly AuthCookieKind[]): CookieConflictError {
    const names = kinds.map((kind) => this.names[kind]);
    for (const name of names) {
      const read = readCookie(req.headers.cookie, name);
      const count = read.status === 'ambiguous' ? read.count : 1;
      this.logger.warn(`cookie ${name} sent ${count} times: a planted or duplicate copy; request refused (cookie_conflict), every copy expired`);
    }
    if (res) this.expireEveryCopy(req, res, names);
    return new CookieConflictError(names);
  }

  /**
   * Expires every copy of cookies `names` the browser could have sent with `req`, whoever set it
   * (see `expireEveryCopy` in `cookie-conflict.ts`): host-only and, for names a sibling can set
   * (http), with `Domain=` the app's host and each parent domain, for every path matching the
   * request's. The app's host is `appUrl`'s, never the request's `Host` header.
   */
  expireEveryCopy(req: AuthRequest, res: AuthResponse, names: readonly string[]): void {
    const http = this.httpOf(res);
    const scope = { host: this.host, requestPath: http.requestPath(req), secure: this.options.cookies.secure };
    for (const name of names) for (const line of expireEveryCopy(name, scope)) http.appendSetCookie(res, line);
  }

  /**
   * `Path` of the refresh cookie: `/`, like every module cookie (a `__Host-` cookie cannot be
   * path-scoped; see `authCookieNames`).
   */
  get refreshPath(): string {
    return AUTH_COOKIE_PATH;
  }

  private base(): Omit<SetCookieAttributes, 'maxAge'> {
    return { httpOnly: true, sameSite: 'lax', secure: this.options.cookies.secure, path: AUTH_COOKIE_PATH };
  }

  private httpOf(res: AuthResponse): AuthHttp {
    return this.http ?? authHttpOf(res);
  }

  private set(res: AuthResponse, name: string, value: string, attributes: SetCookieAttributes): void {
    this.httpOf(res).appendSetCookie(res, formatSetCookie(name, value, attributes));
  }
}

/**
 * Looks `name` up in a raw `Cookie` header (Node joins repeated `Cookie` headers with `; `).
 * @internal
 */
export function readCookie(header: string | undefined, name: string): CookieRead {
  if (!header) return { status: 'absent' };
  let found: string | undefined;
  let count = 0;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    count += 1;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    found = value;
  }
  if (count === 0) return { status: 'absent' };
  if (count > 1) return { status: 'ambiguous', count };
  return found ? { status: 'present', value: found } : { status: 'absent' };
}
