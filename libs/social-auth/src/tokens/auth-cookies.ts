import { Injectable, Optional } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthPaths } from '../controllers/auth-paths';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { AuthHttp, AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform, authHttpOf } from '../platform/auth-http.provider';
import { formatSetCookie, SetCookieAttributes } from '../platform/set-cookie';
import { Clock } from './clock';
import { AuthCookieNames, authCookieNames } from './cookie-names';
import type { IssuedTokens } from './session.types';

/**
 * What the `Cookie` header says about one cookie name.
 * `ambiguous` means the name appears more than once (cookie tossing, threat model F2): such a
 * credential is never read, whichever copy is genuine.
 * @publicApi
 */
export type CookieRead = { status: 'absent' } | { status: 'ambiguous' } | { status: 'present'; value: string };

/**
 * Writes and reads the session cookies: the access token (`Path=/`) and the refresh token
 * (`Path=` where the auth routes are served, `/<routePrefix>` by default, so it only ever travels
 * to them; see `refreshPath`).
 *
 * Invariants:
 * - Every cookie is `HttpOnly`, `SameSite=Lax`, host-only (no `Domain`), and `Secure` with the
 *   `__Host-`/`__Secure-` name prefixes whenever cookies are secure (see `authCookieNames`).
 * - Reading never trusts cookie-parser (which keeps the first of duplicate names): the raw
 *   `Cookie` header is parsed here and a name sent twice reads as `ambiguous`, never first-wins.
 * - Values are never percent-decoded: our tokens are URL-safe, so anything needing decoding is
 *   not ours and fails verification instead of throwing.
 * @publicApi
 */
@Injectable()
export class AuthCookies {
  /** The cookie names in use. */
  readonly names: AuthCookieNames;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
    // Built by hand (no Nest app), the routes are those of an app without a global prefix.
    private readonly paths: AuthPaths = new AuthPaths(options),
    // The app's HTTP platform; built by hand, each response is recognised by its shape.
    @Optional() private readonly http?: AuthHttpPlatform,
  ) {
    this.names = authCookieNames(options);
  }

  /** Sets the access and refresh cookies of a freshly opened or refreshed session. */
  setSession(res: AuthResponse, tokens: IssuedTokens): void {
    const now = this.clock.now().getTime();
    this.set(res, this.names.access, tokens.accessToken, { ...this.base('/'), maxAge: tokens.expiresIn * 1000 });
    const refreshMs = Math.max(0, tokens.refreshExpiresAt.getTime() - now);
    this.set(res, this.names.refresh, tokens.refreshToken, { ...this.base(this.refreshPath), maxAge: refreshMs });
  }

  /** Expires both session cookies (`Max-Age=0`, same name, path and attributes as when set). */
  clear(res: AuthResponse): void {
    this.set(res, this.names.access, '', { ...this.base('/'), maxAge: 0 });
    this.set(res, this.names.refresh, '', { ...this.base(this.refreshPath), maxAge: 0 });
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

  /** Reads one of the session cookies from the raw `Cookie` header, telling absent from ambiguous. */
  read(req: AuthRequest, kind: 'access' | 'refresh'): CookieRead {
    return readCookie(req.headers.cookie, this.names[kind]);
  }

  /**
   * The only path the refresh cookie is sent to: where the refresh and logout routes are served,
   * `appUrl`'s path and the app's global prefix included (`/auth` by default, `/api/auth` with
   * `app.setGlobalPrefix('api')`).
   */
  get refreshPath(): string {
    return this.paths.refreshCookiePath;
  }

  private base(path: string): Omit<SetCookieAttributes, 'maxAge'> {
    return { httpOnly: true, sameSite: 'lax', secure: this.options.cookies.secure, path };
  }

  private set(res: AuthResponse, name: string, value: string, attributes: SetCookieAttributes): void {
    const http: AuthHttp = this.http ?? authHttpOf(res);
    http.appendSetCookie(res, formatSetCookie(name, value, attributes));
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
  if (count > 1) return { status: 'ambiguous' };
  return found ? { status: 'present', value: found } : { status: 'absent' };
}
