import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { JwtService } from '@nestjs/jwt';
import { createVerifier } from 'fast-jwt';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { AccessTokenService, AuthCookies, AuthSession, AuthUserStore, Clock, JwtAuthGuard, ResolvedAuthOptions, SessionService, resolveAuthOptions } from '@nest-social-auth/core';
import type { AuthDatabase } from '@nest-social-auth/core';
import { median } from '../lib/stats';

export interface MicroRow {
  operation: string;
  /** Median over batches, microseconds of CPU per call (single thread, no I/O). */
  micros: number;
}

export interface MicroResult {
  rows: MicroRow[];
}

const BATCHES = 5;

/** Calls `time`/`timeAsync` make for `iterations`: a warm-up, then five batches. Inputs used once per call need this many. */
function callsOf(iterations: number): number {
  return Math.min(iterations, 500) + BATCHES * iterations;
}

/** Median over five batches of the time per call, µs. `fn` gets the call's index (0 … callsOf(iterations) - 1). */
function time(fn: (call: number) => unknown, iterations: number): number {
  let call = 0;
  while (call < Math.min(iterations, 500)) fn(call++);
  const batches: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(call++);
    batches.push(Number(process.hrtime.bigint() - started) / 1e3 / iterations);
  }
  return median(batches);
}

/**
 * As `time`, awaiting a call only when it answers a promise, as Nest's GuardsConsumer does with a
 * guard's answer (a boolean is used at once), so a synchronous answer is timed as Nest pays it.
 */
async function timeAsync(fn: (call: number) => unknown, iterations: number): Promise<number> {
  let call = 0;
  while (call < Math.min(iterations, 500)) {
    const answer = fn(call++);
    if (answer instanceof Promise) await answer;
  }
  const batches: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      const answer = fn(call++);
      if (answer instanceof Promise) await answer;
    }
    batches.push(Number(process.hrtime.bigint() - started) / 1e3 / iterations);
  }
  return median(batches);
}

/** A string with the same text that shares nothing with `text` (no cached hash): what an HTTP parser hands over. */
function copyOf(text: string): string {
  return Buffer.from(text).toString();
}

class MicroController {
  handler(): void {}
}

/**
 * The library's guard with its real token service, cookie reader and SessionService (so its
 * revocation cache and whatever fast path it has are the library's own), over a stub database
 * that knows one live session: the cache asks it once every `revocationCacheTtl` seconds, as a
 * running app asks PostgreSQL.
 */
function guardFor(options: ResolvedAuthOptions, tokens: AccessTokenService, clock: Clock, session: { id: string; userId: string }): JwtAuthGuard {
  const far = new Date(Date.now() + 86_400_000);
  const row = { ...session, provider: 'google', userAgent: null, ip: null, createdAt: new Date(), lastUsedAt: new Date(), idleExpiresAt: far, absoluteExpiresAt: far, revokedAt: null, revokedReason: null } satisfies AuthSession;
  const db = {
    dialect: 'postgres',
    dataSource: { options: { type: 'postgres' }, manager: { findOneBy: async (_entity: unknown, where: { id: string }) => (where.id === session.id ? { ...row } : null) } },
  } as unknown as AuthDatabase;
  const users = { findById: async (id: string) => ({ id, disabled: false }) } as unknown as AuthUserStore;
  const sessions = new SessionService(db, users, tokens, clock, options);
  return new JwtAuthGuard(new Reflector(), tokens, sessions, new AuthCookies(options, clock), options);
}

/** A fresh HTTP request (as the guard meets each request once) carrying `token` as a Bearer credential. */
function bearerContext(token: string): ExecutionContextHost {
  const authorization = copyOf(`Bearer ${token}`);
  const request = { headers: { host: '127.0.0.1:3000', authorization }, rawHeaders: ['Host', '127.0.0.1:3000', 'Authorization', authorization] };
  const context = new ExecutionContextHost([request, {}, () => undefined], MicroController, MicroController.prototype.handler);
  context.setType('http');
  return context;
}

/**
 * CPU cost of the library's access-token verification (a token's first verification and a
 * repeat), its guard's `canActivate` (a token it has not seen, and one it has) and its signature,
 * HS256 and ES256, next to what the baselines' jsonwebtoken calls cost with a string secret.
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
  for (const [label, resolved] of [['HS256', hs], ['ES256', es]] as const) {
    // ES256 verification and signature cost several times HS256's: fewer calls for the same precision.
    const slow = label === 'ES256' ? Math.max(1, Math.floor(n / 4)) : n;
    const userId = randomUUID();
    const sessionId = randomUUID();
    // Every token of one run belongs to one session (distinct by jti), as a client's successive
    // access tokens do: "not seen" then means a new token, not a new session.
    // Tokens come from a separate instance (same keys), so no verifying instance has met them
    // before its first verify, whatever signing does to its own caches.
    const signer = new AccessTokenService(resolved, clock);
    const signed = (count: number) => Array.from({ length: count }, () => signer.sign(userId, sessionId).token);

    // A service per row, so no row starts with another's cache.
    const missing = new AccessTokenService(resolved, clock);
    const fresh = signed(callsOf(slow));
    rows.push({ operation: `library verify ${label}, first verification of a token (cache miss)`, micros: time((i) => missing.verify(fresh[i]), slow) });

    const repeating = new AccessTokenService(resolved, clock);
    const [token] = signed(1);
    const copies = Array.from({ length: callsOf(n) }, () => copyOf(token));
    rows.push({ operation: `library verify ${label}, the same token again (cache hit)`, micros: time((i) => repeating.verify(copies[i]), n) });

    for (const seen of [false, true]) {
      const tokens = new AccessTokenService(resolved, clock);
      const guard = guardFor(resolved, tokens, clock, { id: sessionId, userId });
      const iterations = seen ? n : slow;
      const presented = seen ? new Array<string>(callsOf(iterations)).fill(signed(1)[0]) : signed(callsOf(iterations));
      const contexts = presented.map(bearerContext);
      // Cache the session's liveness before timing, as it is for all but one request per session
      // every revocationCacheTtl; a refusal here means the stub no longer fits the library.
      const allowed = await guard.canActivate(bearerContext(seen ? presented[0] : signed(1)[0]));
      if (allowed !== true) throw new Error(`micro: the library's guard refused a valid ${label} token: update guardFor in bench/suites/micro.ts`);
      rows.push({
        operation: `library guard canActivate ${label}, ${seen ? 'a token it has verified before' : 'a token it has not seen (session known)'}`,
        micros: await timeAsync((i) => guard.canActivate(contexts[i]), iterations),
      });
    }

    const signing = new AccessTokenService(resolved, clock);
    rows.push({ operation: `library sign ${label}`, micros: time(() => signing.sign(userId, sessionId), slow) });
  }
  // The baselines: jsonwebtoken via JwtService with the secret as a string, as the docs write it
  // (jsonwebtoken turns the string into a key on every call).
  const jwt = new JwtService();
  const baselineToken = jwt.sign({ sub: 'u', sid: 's', iss: appUrl, aud: appUrl, jti: randomUUID() }, { secret, expiresIn: 600 });
  const quarter = Math.max(1, Math.floor(n / 4));
  rows.push({
    operation: 'baseline verify HS256 (JwtService, string secret)',
    micros: time(() => jwt.verify(baselineToken, { secret, algorithms: ['HS256'], issuer: appUrl, audience: appUrl }), quarter),
  });
  rows.push({
    operation: 'baseline sign HS256 (JwtService, string secret)',
    micros: time(() => jwt.sign({ sub: 'u', sid: 's', iss: appUrl, aud: appUrl, jti: randomUUID() }, { secret, expiresIn: 600 }), quarter),
  });
  // The guard suite's reference: fast-jwt's verifier with its cache, the same token each call (a
  // fresh copy of the string); its cache key is a SHA-256 of the whole token.
  const reference = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: appUrl, allowedAud: appUrl, cache: 10_000 });
  const referenceCopies = Array.from({ length: callsOf(n) }, () => copyOf(baselineToken));
  rows.push({ operation: 'reference verify HS256 (fast-jwt, cached), the same token again', micros: time((i) => reference(referenceCopies[i]), n) });
  return { rows };
}
