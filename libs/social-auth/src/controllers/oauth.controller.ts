import { Controller, Get, Param, Req, RequestMapping, Res, UseGuards } from '@nestjs/common';
import { Public } from '../decorators/public.decorator';
import { AuthError } from '../errors/auth.error';
import { AuthRateLimited } from '../guards/auth-throttler.guard';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { IdentityProviderRegistry, SignInProvider } from '../identity-providers/identity-provider.registry';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import type { AuthenticatedUser } from '../tokens/authenticated-user';
import { AUTH_ROUTES } from './auth-paths';
import { OAuthFlowService } from './oauth-flow.service';

/**
 * Sign-in routes (prefix `routePrefix`, default `/auth`):
 *
 * - `GET /auth/providers` — public: the enabled providers `[{ id, name, loginUrl }]`.
 * - `GET /auth/:provider?returnTo=/path` — public: 302 to the provider, transaction cookie set;
 *   404 `unknown_provider` for an unknown or disabled provider.
 * - `GET /auth/:provider/link?returnTo=/path` — signed in: connect another provider to the
 *   current account (the flow is bound to this user and session).
 * - `GET /auth/:provider/callback` — public: finishes the flow; always a 302 (to `returnTo` with
 *   session cookies, or to `errorRedirect?error=<code>`). Any other method: 405.
 *
 * Register this controller after controllers with fixed paths under the same prefix (`/auth/me`,
 * `/auth/sessions`, …) so those are never read as a provider id.
 * @internal
 */
@Controller('auth')
export class OAuthController {
  constructor(
    private readonly registry: IdentityProviderRegistry,
    private readonly flow: OAuthFlowService,
    private readonly http: AuthHttpPlatform,
  ) {}

  @Public()
  @Get('providers')
  providers(@Res({ passthrough: true }) res: AuthResponse): SignInProvider[] {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    return this.registry.list();
  }

  @AuthRateLimited('start')
  @Public()
  @RequestMapping(AUTH_ROUTES.start)
  start(@Param('provider') provider: string, @Req() req: AuthRequest, @Res() res: AuthResponse): Promise<void> {
    return this.flow.start(provider, req, res, { kind: 'login' });
  }

  // Protected even when the host turns the global guard off: linking needs a signed-in user.
  @AuthRateLimited('start')
  @UseGuards(JwtAuthGuard)
  @Get(':provider/link')
  link(@Param('provider') provider: string, @Req() req: AuthRequest, @Res() res: AuthResponse): Promise<void> {
    const user = (req as unknown as { user?: AuthenticatedUser }).user;
    if (!user) throw new AuthError('unauthorized');
    return this.flow.start(provider, req, res, { kind: 'link', userId: user.id, sessionId: user.sessionId });
  }

  @AuthRateLimited('callback')
  @Public()
  @RequestMapping(AUTH_ROUTES.callback)
  callback(@Param('provider') provider: string, @Req() req: AuthRequest, @Res() res: AuthResponse): Promise<void> | void {
    // A callback is a top-level GET redirect; anything else (POST replays, HEAD) is refused before
    // the transaction is read or anything is sent to a provider. Only a form_post provider's
    // callback (Apple) takes POST, through the same-origin relay (form-post-relay.ts).
    const formPost = this.registry.answersWithFormPost(provider);
    if (req.method === 'POST' && formPost) return this.flow.formPostCallback(provider, req, res);
    if (req.method !== 'GET') return this.flow.refuseMethod(res, formPost ? 'GET, POST' : 'GET');
    return this.flow.callback(provider, req, res);
  }
}
