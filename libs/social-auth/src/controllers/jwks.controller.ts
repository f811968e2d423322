import { Controller, Get, Res, UseFilters } from '@nestjs/common';
import { Public } from '../decorators/public.decorator';
import { AuthErrorFilter } from '../errors/auth-error.filter';
import { AuthError } from '../errors/auth.error';
import type { AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import { AccessTokenService, PublicJwk } from '../tokens/access-token.service';

/** How long other services may cache the key set. Key rotation waits at least this long (see docs). @internal */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * Public keys of the access tokens, so other services verify them offline. Served only when
 * tokens are signed with ES256; with HS256 there is nothing public to serve (404 `not_found`).
 * @publicApi
 */
@Controller('.well-known')
@UseFilters(AuthErrorFilter)
export class JwksController {
  constructor(
    private readonly tokens: AccessTokenService,
    private readonly http: AuthHttpPlatform,
  ) {}

  /** The current signing key first, then the previous keys still accepted during rotation. */
  @Public()
  @Get('jwks.json')
  jwks(@Res({ passthrough: true }) res: AuthResponse): { keys: PublicJwk[] } {
    const keys = this.tokens.publicJwks();
    if (keys.length === 0) throw new AuthError('not_found');
    this.http.setHeader(res, 'Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return { keys };
  }
}
