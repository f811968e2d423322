import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { JwtService } from '@nestjs/jwt';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { AccessTokenService, AuthCookies, Clock, JwtAuthGuard, ResolvedAuthOptions, SessionService, resolveAuthOptions } from '@app/social-auth';
import { SessionLivenessCache } from '@app/social-auth/tokens/session-liveness.cache';
import { withCachedKeyObjects, withVerifiedTokenCache } from '../servers/patches';
import { median } from '../lib/stats';

export interface MicroRow {
  operation: string;
  /** Median over batches, microseconds of CPU per call (single thread, no I/O). */
  micros: number;
}

export interface MicroResult {
  rows: MicroRow[];
}

async function timeAsync(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(iterations, 500); i++) await fn();
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    batches.push(Number(process.hrtime.bigint() - started) / 1e3 / iterations);
  }
  return median(batches);
}

class MicroController {
  handler(): void {}
}

/**
 * One `canActivate` of the kit's guard on a Bearer request, with the real token service, cookie
 * reader and revocation cache (warm: the session's answer is cached, as for all but one request
 * per session every `revocationCacheTtl` seconds).
 */
function guardFor(options: ResolvedAuthOptions, tokens: AccessTokenService): JwtAuthGuard {
  const clock = new Clock();
  const liveness = new SessionLivenessCache(options.tokens.revocationCacheTtl * 1000, () => Date.now());
  const sessions = {
    isSessionLive: (sessionId: string, userId: string) => liveness.isLive(sessionId, userId, async () => ({ live: true, userId, until: Number.POSITIVE_INFINITY })),
  } as unknown as SessionService;
  return new JwtAuthGuard(new Reflector(), tokens, sessions, new AuthCookies(options, clock), options);
}

function time(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 500); i++) fn();
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    batches.push(Number(process.hrtime.bigint() - started) / 1e3 / iterations);
  }
  return median(batches);
}

/**
 * CPU cost of one access-token verification and signature, shipped vs with the proposed fix,
 * next to what the baselines' verification costs (jsonwebtoken with a string secret).
 */
export async function microSuite(options: { iterations: number }): Promise<MicroResult> {
  const n = options.iterations;
  const appUrl = 'http://127.0.0.1:3000';
  const secret = randomBytes(32).toString('base64url');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const hs = resolveAuthOptions({ appUrl, production: false, tokens: { secret } });
  const es = resolveAuthOptions({ appUrl, production: false, tokens: { privateKey: pem } });
  const clock = new Clock();
  const rows: MicroRow[] = [];
  for (const [label, options] of [['HS256', hs], ['ES256', es]] as const) {
    const shipped = new AccessTokenService(options, clock);
    const fixed = withCachedKeyObjects(new AccessTokenService(options, clock));
    const token = shipped.sign(randomUUID(), randomUUID()).token;
    rows.push({ operation: `kit verify ${label} (shipped)`, micros: time(() => shipped.verify(token), label === 'HS256' ? n : n / 4) });
    rows.push({ operation: `kit verify ${label} + cached KeyObject`, micros: time(() => fixed.verify(token), n) });
    const cachedTokens = withVerifiedTokenCache(withCachedKeyObjects(new AccessTokenService(options, clock)), options.tokens.clockTolerance);
    // Each request brings its own copy of the token string (its hash is computed afresh), as over HTTP.
    const copies = Array.from({ length: 1024 }, () => Buffer.from(token).toString());
    let c = 0;
    rows.push({ operation: `kit verify ${label} + KeyObject + verified-token cache (hit)`, micros: time(() => cachedTokens.verify(copies[c++ & 1023]), n * 4) });
    const request = { headers: { host: '127.0.0.1:3000', authorization: `Bearer ${token}` }, rawHeaders: ['Host', '127.0.0.1:3000', 'Authorization', `Bearer ${token}`] };
    const context = new ExecutionContextHost([request, {}, () => undefined], MicroController, MicroController.prototype.handler);
    context.setType('http');
    for (const [variant, tokens] of [['shipped', shipped], ['+ both fixes', cachedTokens]] as const) {
      const guard = guardFor(options, tokens);
      rows.push({ operation: `kit guard canActivate ${label} (${variant})`, micros: await timeAsync(() => guard.canActivate(context), variant === 'shipped' && label === 'ES256' ? n / 4 : n) });
    }
    rows.push({ operation: `kit sign ${label} (shipped)`, micros: time(() => shipped.sign('user', 'session'), n / 4) });
    rows.push({ operation: `kit sign ${label} + cached KeyObject`, micros: time(() => fixed.sign('user', 'session'), label === 'HS256' ? n : n / 4) });
  }
  // The baselines: jsonwebtoken via JwtService with the secret as a string, as the docs write it.
  const jwt = new JwtService();
  const baselineToken = jwt.sign({ sub: 'u', sid: 's', iss: appUrl, aud: appUrl, jti: randomUUID() }, { secret, expiresIn: 600 });
  rows.push({
    operation: 'baseline verify HS256 (JwtService, string secret)',
    micros: time(() => jwt.verify(baselineToken, { secret, algorithms: ['HS256'], issuer: appUrl, audience: appUrl }), n / 4),
  });
  return { rows };
}
