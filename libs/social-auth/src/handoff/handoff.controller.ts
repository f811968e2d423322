import { Controller, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { IsString, Matches, MaxLength, validateSync } from 'class-validator';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { Public } from '../decorators/public.decorator';
import { AuthErrorFilter } from '../errors/auth-error.filter';
import { AuthError } from '../errors/auth.error';
import { AuthRateLimited } from '../guards/auth-throttler.guard';
import { assertSameOriginForCookieAuth } from '../guards/csrf';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import { AuthCookies } from '../tokens/auth-cookies';
import { HandoffService } from './handoff.service';
import { CODE_VERIFIER } from './login-code';

/** JSON body of `POST /auth/token`. @publicApi */
export class LoginCodeExchangeBody {
  /** The `login_code` the sign-in callback appended to `returnTo`. */
  @IsString() @MaxLength(1024)
  code!: string;

  /** The PKCE verifier whose S256 was sent as `code_challenge` when the sign-in started (RFC 7636, 43–128 characters). */
  @IsString() @Matches(CODE_VERIFIER)
  code_verifier!: string;
}

/** Answer of `POST /auth/token`. `refreshToken` only for native apps (browsers get cookies). @publicApi */
export interface LoginCodeExchangeAnswer {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken?: string;
}

/**
 * `POST /auth/token` — public: redeems a login code (see `handoff/login-code.ts`) for a session.
 *
 * Invariants:
 * - Only a JSON body `{ code, code_verifier }` is accepted (`400 invalid_request` otherwise): a
 *   cross-site HTML form cannot send one.
 * - A code minted for a browser sets the session cookies, so the request must come from an
 *   allowed origin (`403 csrf_rejected`, checked before the code is consumed), and must carry the
 *   login-binding cookie set when that browser started the flow (`400 invalid_login_code`
 *   otherwise; `401 cookie_conflict` when sent twice); the refresh token is never in the body.
 *   A code minted for a native app answers the refresh token in the body and sets no cookie.
 * - Every answer carries `Cache-Control: no-store`.
 * @internal
 */
@Controller('auth')
@UseFilters(AuthErrorFilter)
export class HandoffController {
  constructor(
    private readonly handoff: HandoffService,
    private readonly cookies: AuthCookies,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly http: AuthHttpPlatform,
  ) {}

  /** Exchanges `{ code, code_verifier }` for an access token (and a refresh token or the session cookies). */
  @AuthRateLimited('callback')
  @Public()
  @Post('token')
  @HttpCode(200)
  async token(@Req() req: AuthRequest, @Res({ passthrough: true }) res: AuthResponse): Promise<LoginCodeExchangeAnswer> {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    this.http.setHeader(res, 'Pragma', 'no-cache');
    const body = parseBody(req, this.http.isJson(req));
    const browser = this.handoff.peekClient(body.code) === 'browser';
    if (browser) assertSameOriginForCookieAuth(req, this.options, this.http);
    const binding = browser ? this.cookies.read(req, 'loginBinding') : undefined;
    // Two binding cookies: one was planted; the code is not consumed and neither copy is kept.
    if (binding?.status === 'ambiguous') throw this.cookies.conflict(req, res, ['loginBinding']);
    const context = { userAgent: this.http.header(req, 'user-agent') ?? null, ip: this.http.clientIp(req) ?? null };
    const { tokens, client } = await this.handoff.redeem(body.code, body.code_verifier, context, binding);
    const answer: LoginCodeExchangeAnswer = { accessToken: tokens.accessToken, tokenType: 'Bearer', expiresIn: tokens.expiresIn };
    if (client === 'native') return { ...answer, refreshToken: tokens.refreshToken };
    this.handoff.clearBrowserBinding(res);
    this.cookies.setSession(res, tokens);
    return answer;
  }
}

function parseBody(req: AuthRequest & { body?: unknown }, isJson: boolean): LoginCodeExchangeBody {
  if (!isJson || !req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw new AuthError('invalid_request');
  const body = plainToInstance(LoginCodeExchangeBody, req.body as object);
  if (validateSync(body, { whitelist: true, forbidNonWhitelisted: true }).length > 0) throw new AuthError('invalid_request');
  return body;
}
