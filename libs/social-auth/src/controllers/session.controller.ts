import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, PipeTransform, Post, Req, RequestMapping, Res, UseFilters, UseGuards, ValidationPipe } from '@nestjs/common';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { ResolvedAuthOptions } from '../auth.options';
import { CurrentUser } from '../decorators/current-user.decorator';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { Public } from '../decorators/public.decorator';
import { AuthErrorFilter } from '../errors/auth-error.filter';
import { AuthError } from '../errors/auth.error';
import { assertSameOriginForCookieAuth } from '../guards/csrf';
import { AuthRateLimited } from '../guards/auth-throttler.guard';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { AuthCookies } from '../tokens/auth-cookies';
import type { AuthenticatedUser } from '../tokens/authenticated-user';
import { SessionService } from '../tokens/session.service';
import type { SessionContext, SessionSummary } from '../tokens/session.types';
import { AUTH_ROUTES } from './auth-paths';

/** Body of `POST /auth/refresh` and `POST /auth/logout` for clients that keep the refresh token themselves (native apps). @publicApi */
export class RefreshTokenBody {
  /** The refresh token. When present, cookies are neither read nor set. */
  @IsOptional() @IsString() @MaxLength(512)
  refreshToken?: string;
}

/** Answer of `POST /auth/refresh`. `refreshToken` is present only when the request sent it in the body. @publicApi */
export interface RefreshAnswer {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken?: string;
}

/** One entry of `GET /auth/sessions`. @publicApi */
export interface SessionListEntry extends SessionSummary {
  /** True for the session of the access token that asked. */
  current: boolean;
}

/**
 * A body the platform parsed as text (Fastify parses `text/plain`, Express leaves it unread) is no
 * body: only a JSON object can carry `refreshToken` (see `bodyToken`), so both platforms answer alike.
 */
const TEXT_IS_NO_BODY: PipeTransform = { transform: (value: unknown) => (typeof value === 'string' || Buffer.isBuffer(value) ? undefined : value) };
const BODY = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, expectedType: RefreshTokenBody });

/**
 * Refresh, logout and the signed-in user's sessions (devices).
 *
 * Invariants (threat model E1–E6, F1–F4):
 * - Every answer carries `Cache-Control: no-store`.
 * - A refresh or logout authenticated by a cookie passes the origin check before anything else
 *   (`403 csrf_rejected`). The body form (`{ refreshToken }`) is not cookie-authenticated, so it
 *   is exempt, but it must be JSON (a cross-site form cannot send it), and its answer sets no
 *   cookies, so it can never plant a session in a browser (login CSRF).
 * - A refresh that fails clears the session cookies, so a planted or dead cookie is not kept.
 * - A refresh or logout whose access or refresh cookie came more than once answers
 *   `401 cookie_conflict` before anything is read or written, and expires every copy of it
 *   (threat model F2).
 * - There is no GET logout.
 * @publicApi
 */
@Controller('auth')
@UseFilters(AuthErrorFilter)
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: AuthCookies,
    private readonly guard: JwtAuthGuard,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly http: AuthHttpPlatform,
  ) {}

  /** Rotates the refresh token from the refresh cookie, or from `{ refreshToken }` in a JSON body. */
  @AuthRateLimited('refresh')
  @Public()
  @RequestMapping(AUTH_ROUTES.refresh)
  @HttpCode(200)
  async refresh(@Req() req: AuthRequest, @Res({ passthrough: true }) res: AuthResponse, @Body(TEXT_IS_NO_BODY, BODY) body: RefreshTokenBody = {}): Promise<RefreshAnswer> {
    this.noStore(res);
    const fromBody = this.bodyToken(req, body);
    if (fromBody !== undefined) {
      const tokens = await this.sessions.refresh(fromBody, this.contextOf(req));
      return { accessToken: tokens.accessToken, tokenType: 'Bearer', expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken };
    }
    assertSameOriginForCookieAuth(req, this.options, this.http);
    const cookie = this.cookies.read(req, 'refresh');
    if (cookie.status === 'ambiguous') {
      // Neither copy is used, and none is left behind: the next refresh is not decided by a planted one.
      this.cookies.write(res, 'access', '', 0);
      throw this.cookies.conflict(req, res, ['refresh']);
    }
    try {
      if (cookie.status !== 'present') throw new AuthError('refresh_token_invalid');
      const tokens = await this.sessions.refresh(cookie.value, this.contextOf(req));
      this.cookies.setSession(res, tokens);
      return { accessToken: tokens.accessToken, tokenType: 'Bearer', expiresIn: tokens.expiresIn };
    } catch (error) {
      if (error instanceof AuthError && error.getStatus() < 500) this.cookies.clear(res);
      throw error;
    }
  }

  /**
   * Ends the current session: the one of the access token (bearer or cookie), else the one of the
   * refresh cookie or body token. Clears the cookies. 401 when no credential names a live session.
   */
  @Public()
  @RequestMapping(AUTH_ROUTES.logout)
  @HttpCode(204)
  async logout(@Req() req: AuthRequest, @Res({ passthrough: true }) res: AuthResponse, @Body(TEXT_IS_NO_BODY, BODY) body: RefreshTokenBody = {}): Promise<void> {
    this.noStore(res);
    const fromBody = this.bodyToken(req, body);
    let sessionId: string | undefined;
    if (fromBody !== undefined) {
      sessionId = (await this.sessions.findByRefreshToken(fromBody))?.sessionId;
    } else {
      const ambiguous = (['access', 'refresh'] as const).filter((kind) => this.cookies.read(req, kind).status === 'ambiguous');
      if (ambiguous.length > 0) {
        assertSameOriginForCookieAuth(req, this.options, this.http);
        // Which session a planted copy names is unknown: none is revoked, every copy is expired.
        for (const kind of ['access', 'refresh'] as const) if (!ambiguous.includes(kind)) this.cookies.write(res, kind, '', 0);
        throw this.cookies.conflict(req, res, ambiguous);
      }
      const user = await this.guard.authenticate(req).catch(() => undefined);
      const refresh = user ? undefined : this.cookies.readRefresh(req);
      if (user?.authMethod === 'cookie' || refresh !== undefined) assertSameOriginForCookieAuth(req, this.options, this.http);
      sessionId = user?.sessionId ?? (refresh !== undefined ? (await this.sessions.findByRefreshToken(refresh))?.sessionId : undefined);
      if (sessionId || refresh !== undefined) this.cookies.clear(res);
    }
    if (!sessionId) throw new AuthError('unauthorized');
    await this.sessions.revoke(sessionId, 'logout');
  }

  /** Ends every session of the signed-in user, on every device. */
  @Post('logout-all')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async logoutAll(@CurrentUser() user: AuthenticatedUser, @Res({ passthrough: true }) res: AuthResponse): Promise<void> {
    this.noStore(res);
    await this.sessions.revokeAllForUser(user.id, 'logout_all');
    this.cookies.clear(res);
  }

  /** The signed-in user's live sessions, most recently used first. */
  @Get('sessions')
  @UseGuards(JwtAuthGuard)
  async list(@CurrentUser() user: AuthenticatedUser, @Res({ passthrough: true }) res: AuthResponse): Promise<SessionListEntry[]> {
    this.noStore(res);
    const sessions = await this.sessions.listForUser(user.id);
    return sessions.map((s) => ({ ...s, current: s.id === user.sessionId }));
  }

  /** Ends one of the signed-in user's sessions; 404 for any id that is not a live session of theirs. */
  @Delete('sessions/:id')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async revoke(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) res: AuthResponse,
  ): Promise<void> {
    this.noStore(res);
    if (!(await this.sessions.revokeOwned(user.id, id, 'session_revoked'))) throw new AuthError('not_found');
    if (id === user.sessionId) this.cookies.clear(res);
  }

  /** The body's refresh token; only a JSON body counts (a cross-site HTML form cannot send one). */
  private bodyToken(req: AuthRequest, body: RefreshTokenBody): string | undefined {
    if (body?.refreshToken === undefined) return undefined;
    if (!this.http.isJson(req)) throw new AuthError('invalid_request');
    return body.refreshToken;
  }

  private noStore(res: AuthResponse): void {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    this.http.setHeader(res, 'Pragma', 'no-cache');
  }

  private contextOf(req: AuthRequest): SessionContext {
    return { userAgent: this.http.header(req, 'user-agent') ?? null, ip: this.http.clientIp(req) ?? null };
  }
}
