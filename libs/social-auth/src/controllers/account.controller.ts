import { Controller, Delete, Get, HttpCode, Param, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { CurrentUser } from '../decorators/current-user.decorator';
import { AuthErrorFilter } from '../errors/auth-error.filter';
import { AuthError } from '../errors/auth.error';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { AccountService, AccountView } from '../linking/account.service';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import type { AuthenticatedUser } from '../tokens/authenticated-user';

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/**
 * The signed-in user's account: `GET /auth/me` and `DELETE /auth/identities/:provider`.
 *
 * Invariants:
 * - Signed-in only, even when the host turned the global guard off (`globalGuard: false`): the
 *   guard is applied here too, so these routes are never public by accident. Cookie-authenticated
 *   DELETE passes the guard's origin check (`403 csrf_rejected`).
 * - A user only ever sees and changes their own identities: the user id comes from the verified
 *   access token, never from the request.
 * - Answers carry `Cache-Control: no-store` (they hold personal data).
 * @publicApi
 */
@Controller('auth')
@UseGuards(JwtAuthGuard)
@UseFilters(AuthErrorFilter)
export class AccountController {
  constructor(
    private readonly accounts: AccountService,
    private readonly http: AuthHttpPlatform,
  ) {}

  /** The current user with their linked identities (`{ id, email, emailVerified, displayName, identities }`). */
  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser, @Res({ passthrough: true }) res: AuthResponse): Promise<AccountView> {
    this.noStore(res);
    return this.accounts.getAccount(user.id);
  }

  /**
   * Disconnects every identity of `:provider` from the current user: 204; 404 `not_found` when none
   * is linked; 409 `last_login_method` when it is the account's only way in. The sessions opened
   * through that provider are revoked with it (the caller's own included); others are kept.
   */
  @Delete('identities/:provider')
  @HttpCode(204)
  async unlink(@CurrentUser() user: AuthenticatedUser, @Param('provider') provider: string, @Req() req: AuthRequest, @Res({ passthrough: true }) res: AuthResponse): Promise<void> {
    this.noStore(res);
    if (!PROVIDER_ID.test(provider)) throw new AuthError('not_found');
    await this.accounts.unlink(user.id, provider, { ip: this.http.clientIp(req) ?? null, userAgent: this.http.header(req, 'user-agent') ?? null });
  }

  private noStore(res: AuthResponse): void {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    this.http.setHeader(res, 'Pragma', 'no-cache');
  }
}
