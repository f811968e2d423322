import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC_KEY } from '../auth.constants';
import { REQUEST_USER_KEY } from '../auth.internal-constants';
import { AuthError } from '../errors/auth.error';
import { AccessTokenService } from '../tokens/access-token.service';

/**
 * The global guard: every route needs a valid access token unless it is `@Public()`.
 * Default-deny: a route the guard cannot classify is protected.
 * @publicApi
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const token = this.extractToken(request);
    if (!token) throw new AuthError('unauthorized');
    (request as unknown as Record<string, unknown>)[REQUEST_USER_KEY] = this.tokens.verify(token);
    return true;
  }

  /** Where the token comes from. Override to read it elsewhere. */
  protected extractToken(request: Request): string | undefined {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) return header.slice(7);
    return undefined;
  }
}
