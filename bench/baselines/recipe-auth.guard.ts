import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import { BENCH_CONFIG, BenchServerConfig } from './bench-config';

/**
 * Baseline 1: the guard of the NestJS docs recipe (docs.nestjs.com/security/authentication,
 * "Implementing the authentication guard"), verbatim except that it pins the same checks the kit
 * makes (algorithm, issuer, audience) so both do the same work.
 */
@Injectable()
export class RecipeAuthGuard implements CanActivate {
  constructor(
    private jwtService: JwtService,
    @Inject(BENCH_CONFIG) private readonly config: BenchServerConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest();
    const token = this.extractTokenFromHeader(request);
    if (!token) {
      throw new UnauthorizedException();
    }
    try {
      const payload = await this.jwtService.verifyAsync(token, {
        secret: this.config.secret,
        algorithms: ['HS256'],
        issuer: this.config.appUrl,
        audience: this.config.appUrl,
      });
      // 💡 We're assigning the payload to the request object here
      // so that we can access it in our route handlers
      request['user'] = payload;
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }

  private extractTokenFromHeader(request: Request): string | undefined {
    const [type, token] = request.headers.authorization?.split(' ') ?? [];
    return type === 'Bearer' ? token : undefined;
  }
}
