import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createVerifier } from 'fast-jwt';
import { BENCH_CONFIG, BenchServerConfig } from './bench-config';

type Verify = (token: string) => Record<string, unknown>;

/**
 * Reference: verification done right and nothing else. A minimal guard applied per route on
 * fast-jwt's verifier with its verified-token cache (key built once, algorithm, issuer and audience
 * pinned, expiry checked on every hit), reading `Authorization: Bearer` only. It checks less than
 * the module's guard (no session liveness, no credential ambiguity, no cookie/CSRF path), so the
 * module matching its cost means the module's extra checks cost nothing measurable.
 */
@Injectable()
export class ReferenceAuthGuard implements CanActivate {
  private readonly verify: Verify;

  constructor(@Inject(BENCH_CONFIG) config: BenchServerConfig) {
    this.verify = createVerifier({ key: config.secret, algorithms: ['HS256'], allowedIss: config.appUrl, allowedAud: config.appUrl, cache: 10_000 }) as Verify;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: unknown }>();
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) throw new UnauthorizedException();
    try {
      request.user = this.verify(header.slice(7));
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }
}
