import { Injectable } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthError } from '../errors/auth.error';
import type { AuthenticatedUser } from './authenticated-user';

/**
 * Signs and verifies the app's access tokens (first version: HS256 only; the tokens issue
 * replaces this with key rotation and asymmetric keys).
 * @publicApi
 */
@Injectable()
export class AccessTokenService {
  constructor(@InjectAuthOptions() private readonly options: ResolvedAuthOptions) {}

  sign(userId: string, sessionId: string): { token: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const { accessTtl, issuer, audience } = this.options.tokens;
    const header = b64(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' }));
    const payload = b64(JSON.stringify({ sub: userId, sid: sessionId, iat: now, exp: now + accessTtl, iss: issuer, aud: audience, jti: randomUUID() }));
    return { token: `${header}.${payload}.${this.mac(`${header}.${payload}`)}`, expiresIn: accessTtl };
  }

  verify(token: string): AuthenticatedUser {
    const parts = token.split('.');
    if (parts.length !== 3) throw new AuthError('unauthorized');
    const expected = Buffer.from(this.mac(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new AuthError('unauthorized');
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    if (header.alg !== 'HS256' || header.typ !== 'at+jwt') throw new AuthError('unauthorized');
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw new AuthError('token_expired');
    if (claims.iss !== this.options.tokens.issuer || claims.aud !== this.options.tokens.audience) throw new AuthError('unauthorized');
    return { id: claims.sub, sessionId: claims.sid, tokenId: claims.jti, issuedAt: claims.iat, expiresAt: claims.exp };
  }

  private mac(input: string): string {
    return createHmac('sha256', this.options.tokens.secret ?? '').update(input).digest('base64url');
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}
