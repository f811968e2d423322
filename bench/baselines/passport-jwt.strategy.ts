import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { BENCH_CONFIG, BenchServerConfig } from './bench-config';

/**
 * Baseline 2: `AuthGuard('jwt')` with the passport-jwt strategy of the NestJS docs
 * ("Implementing Passport JWT"), with the same pinned checks as the kit (algorithm, issuer, audience).
 */
@Injectable()
export class BenchJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(BENCH_CONFIG) config: BenchServerConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: config.secret,
      algorithms: ['HS256'],
      issuer: config.appUrl,
      audience: config.appUrl,
    });
  }

  validate(payload: { sub: string; sid: string }): { userId: string; sessionId: string } {
    return { userId: payload.sub, sessionId: payload.sid };
  }
}
