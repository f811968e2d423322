import { Inject, Injectable, Provider } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_OPTIONS, AccessTokenService, AuthCookies, Clock, InjectAuthOptions, JwtAuthGuard, ResolvedAuthOptions, SessionService } from '@app/social-auth';
import { withCachedKeyObjects, withVerifiedTokenCache } from './patches';

/** A second AccessTokenService with the proposed fixes applied (same options and keys as the kit's). */
export const PATCHED_ACCESS_TOKENS = Symbol('BENCH:PATCHED_ACCESS_TOKENS');

export const patchedAccessTokensProvider: Provider = {
  provide: PATCHED_ACCESS_TOKENS,
  inject: [AUTH_OPTIONS, Clock],
  useFactory: (options: ResolvedAuthOptions, clock: Clock) =>
    withVerifiedTokenCache(withCachedKeyObjects(new AccessTokenService(options, clock)), options.tokens.clockTolerance),
};

/**
 * The kit's guard, unchanged, but verifying through the patched AccessTokenService: the proposed
 * fix measured in the same run as the shipped guard. Used on a route that is `@Public()` for the
 * global guard, so it never treats the route as public itself.
 */
@Injectable()
export class PatchedJwtAuthGuard extends JwtAuthGuard {
  constructor(
    reflector: Reflector,
    @Inject(PATCHED_ACCESS_TOKENS) tokens: AccessTokenService,
    sessions: SessionService,
    cookies: AuthCookies,
    @InjectAuthOptions() options: ResolvedAuthOptions,
  ) {
    super(reflector, tokens, sessions, cookies, options);
  }

  protected override isPublic(): boolean {
    return false;
  }
}
