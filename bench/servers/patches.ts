/**
 * Proposed hot-path fixes, emulated on a live instance so they can be measured next to the
 * shipped code before they land in the library. Bench-only: they reach into private fields.
 */
import type { JwtService } from '@nestjs/jwt';
import { KeyObject, createPrivateKey, createPublicKey, createSecretKey, randomUUID } from 'node:crypto';
import { AuthError } from '@app/social-auth';
import type { ExecutionContext } from '@nestjs/common';
import type { AccessTokenService, IssuedTokens, JwtAuthGuard, SessionContext, SessionService } from '@app/social-auth';
import { hashRefreshToken, newRefreshToken } from '@app/social-auth/tokens/session.service';

type Secret = string | Buffer | KeyObject | undefined;

/**
 * Fix 1: hand jsonwebtoken KeyObjects, built once, instead of a Buffer/PEM per call.
 * jsonwebtoken 9 turns every non-KeyObject key into one on every sign/verify; for an HMAC secret
 * it first tries `createPublicKey(secret)`, which throws and costs ~0.4 ms per call. The library fix
 * is to build the KeyObjects in AccessTokenService's constructor (createSecretKey for HS256,
 * createPublicKey/createPrivateKey for ES256) and pass them to JwtService.
 */
export function withCachedKeyObjects(service: AccessTokenService): AccessTokenService {
  const jwt = (service as unknown as { jwt: JwtService }).jwt;
  if (!jwt || typeof jwt.verify !== 'function') throw new Error('AccessTokenService no longer holds a JwtService in `jwt`: update bench/servers/patches.ts');
  const secrets = new Map<string | Buffer, KeyObject>();
  const cached = (key: Secret, make: (k: string | Buffer) => KeyObject): Secret => {
    if (key === undefined || key instanceof KeyObject) return key;
    let object = secrets.get(key);
    if (!object) {
      object = make(key);
      secrets.set(key, object);
    }
    return object;
  };
  const secret = (k: string | Buffer) => createSecretKey(typeof k === 'string' ? Buffer.from(k) : k);
  const verify = jwt.verify.bind(jwt);
  const sign = jwt.sign.bind(jwt);
  type VerifyOptions = Parameters<JwtService['verify']>[1] & { secret?: Secret; publicKey?: Secret };
  type SignOptions = Parameters<JwtService['sign']>[1] & { secret?: Secret; privateKey?: Secret };
  (jwt as unknown as { verify: (t: string, o: VerifyOptions) => unknown }).verify = (token, options) =>
    verify(token, { ...options, secret: cached(options.secret, secret), publicKey: cached(options.publicKey, createPublicKey) } as never);
  (jwt as unknown as { sign: (p: object, o: SignOptions) => string }).sign = (payload, options) =>
    sign(payload, { ...options, secret: cached(options.secret, secret), privateKey: cached(options.privateKey as Secret, createPrivateKey) } as never);
  return service;
}

/** Most verified tokens remembered at once (fix 2). ~0.6 KB each: a few MB at the bound. */
export const VERIFIED_TOKEN_CACHE_MAX = 10_000;

/**
 * Fix 2: remember tokens that verified, so the next request with the same token (the common case:
 * a client reuses its access token for up to 10 minutes) skips base64/JSON/HMAC work.
 * Keyed by the exact token string, so only a byte-identical token that already passed every check
 * hits; expiry is still enforced on every hit (with the same clock tolerance), and a miss or an
 * expired entry falls back to the full verification (which throws the right error). Insertion-
 * ordered Map, oldest dropped beyond the bound. Keys never change while the service lives (they
 * are fixed at construction), so no invalidation is needed.
 */
export function withVerifiedTokenCache(service: AccessTokenService, clockTolerance: number, max = VERIFIED_TOKEN_CACHE_MAX): AccessTokenService {
  type User = ReturnType<AccessTokenService['verify']>;
  const cache = new Map<string, User>();
  const clock = (service as unknown as { clock: { seconds(): number } }).clock;
  const verify = service.verify.bind(service);
  service.verify = (token: unknown): User => {
    if (typeof token === 'string') {
      const hit = cache.get(token);
      if (hit !== undefined && clock.seconds() < hit.expiresAt + clockTolerance) return hit;
    }
    const user = Object.freeze(verify(token));
    cache.set(token as string, user);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return user;
  };
  return service;
}

/**
 * Fix 3: the refresh happy path in three round trips instead of ten (START TRANSACTION, 7
 * statements, COMMIT). (1) find the presented token by hash, unlocked; (2) one statement that
 * rotates atomically: it slides the session (locking its row first, the shipped lock order),
 * marks the token used only if it still is unused, inserts the successor and drops older sealed
 * successors, and returns the session only if all of that happened; (3) the user-store check.
 * Anything else (unknown, used, revoked, expired token) falls back to the shipped transaction,
 * which decides between invalid, reuse and the grace answer. PostgreSQL only (MariaDB has no
 * data-modifying CTEs; SQLite is serialised anyway).
 */
const ROTATE_SQL = `
WITH s AS (
  UPDATE auth_sessions SET last_used_at = $3, idle_expires_at = LEAST($7::timestamp, absolute_expires_at)
  WHERE id = $1 AND revoked_at IS NULL AND idle_expires_at > $3 AND absolute_expires_at > $3
    AND EXISTS (SELECT 1 FROM auth_refresh_tokens WHERE id = $2 AND used_at IS NULL)
  RETURNING id, user_id, idle_expires_at, absolute_expires_at
), t AS (
  UPDATE auth_refresh_tokens SET used_at = $3, successor_id = $4, successor_sealed = $6
  WHERE id = $2 AND session_id = $1 AND used_at IS NULL AND EXISTS (SELECT 1 FROM s)
  RETURNING id
), n AS (
  INSERT INTO auth_refresh_tokens (id, session_id, token_hash, parent_id, created_at, used_at, successor_id, successor_sealed)
  SELECT $4, $1, $5, t.id, $3, NULL, NULL, NULL FROM t
  RETURNING id
), c AS (
  UPDATE auth_refresh_tokens SET successor_sealed = NULL
  WHERE session_id = $1 AND id <> $2 AND successor_sealed IS NOT NULL AND EXISTS (SELECT 1 FROM t)
)
SELECT s.id, s.user_id, s.idle_expires_at, s.absolute_expires_at FROM s WHERE EXISTS (SELECT 1 FROM n)`;

interface SessionInternals {
  db: { dialect: string; dataSource: { query(sql: string, params?: unknown[]): Promise<unknown> } };
  users: { findById(id: string): Promise<{ disabled: boolean } | null> };
  clock: { now(): Date };
  options: { tokens: { refreshIdleTtl: number; refreshReuseGrace: number } };
  seal(successorToken: string, predecessorId: string): string;
  issue(session: { id: string; userId: string; idleExpiresAt: Date; absoluteExpiresAt: Date }, refreshToken: string): IssuedTokens;
}

export function withShortRotation(service: SessionService): SessionService {
  const internals = service as unknown as SessionInternals;
  for (const member of ['db', 'users', 'clock', 'options', 'seal', 'issue'] as const) {
    if (!(internals as unknown as Record<string, unknown>)[member]) throw new Error(`SessionService has no ${member}: update bench/servers/patches.ts`);
  }
  if (internals.db.dialect !== 'postgres') return service;
  const shipped = service.refresh.bind(service);
  const query = <T>(sql: string, params: unknown[]) => internals.db.dataSource.query(sql, params) as Promise<T[]>;
  service.refresh = async (raw: string, context?: SessionContext): Promise<IssuedTokens> => {
    if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(raw)) return shipped(raw, context);
    const [found] = await query<{ id: string; session_id: string }>('SELECT id, session_id FROM auth_refresh_tokens WHERE token_hash = $1', [hashRefreshToken(raw)]);
    if (!found) return shipped(raw, context);
    const now = internals.clock.now();
    const { refreshIdleTtl, refreshReuseGrace } = internals.options.tokens;
    const successor = newRefreshToken();
    const successorId = randomUUID();
    const sealed = refreshReuseGrace > 0 ? internals.seal(successor, found.id) : null;
    const idle = new Date(now.getTime() + refreshIdleTtl * 1000);
    const [row] = await query<{ id: string; user_id: string; idle_expires_at: Date; absolute_expires_at: Date }>(ROTATE_SQL, [
      found.session_id,
      found.id,
      now,
      successorId,
      hashRefreshToken(successor),
      sealed,
      idle,
    ]);
    if (!row) return shipped(raw, context);
    const user = await internals.users.findById(row.user_id);
    if (!user || user.disabled) {
      await service.revoke(row.id, 'account_disabled');
      throw new AuthError('account_disabled');
    }
    const expires = row.idle_expires_at.getTime() <= row.absolute_expires_at.getTime() ? row.idle_expires_at : row.absolute_expires_at;
    return internals.issue({ id: row.id, userId: row.user_id, idleExpiresAt: expires, absoluteExpiresAt: row.absolute_expires_at }, successor);
  };
  return service;
}

interface GuardInternals {
  isPublic(context: ExecutionContext): boolean;
  extractCredential(request: unknown): { token: string; method: 'bearer' | 'cookie' } | undefined;
  checkCsrf(request: unknown): void;
  tokens: AccessTokenService;
  sessions: SessionService;
}

interface LivenessInternals {
  liveness: { entries: Map<string, { live: boolean; userId: string | null; expires: number }> };
}

/**
 * Fix 4: a synchronous guard when nothing needs waiting for. As shipped, every request (public
 * ones too) goes through three nested async functions (canActivate → authenticate →
 * checkSession → isSessionLive), four promises and their microtasks, although the revocation
 * cache answers all but one request per session every `revocationCacheTtl` seconds. The library
 * change: `canActivate` returns `boolean | Promise<boolean>`, `SessionService` answers a cached
 * liveness synchronously (`isSessionLiveCached(sid, uid): boolean | undefined`), and only a
 * cache miss takes the async path. Emulated here by reading the cache's entries; a miss, an
 * error or anything unusual falls back to the shipped `canActivate`.
 */
export function withSynchronousGuard(guardClass: typeof JwtAuthGuard, sessions: SessionService): void {
  // The global guard is its own JwtAuthGuard instance (not the one app.get() returns), so the
  // patch goes on the prototype; it only ever runs in the server that asked for it.
  const entries = (sessions as unknown as LivenessInternals).liveness?.entries;
  if (!(entries instanceof Map)) throw new Error('SessionService has no liveness cache: update bench/servers/patches.ts');
  const proto = guardClass.prototype as unknown as { canActivate(this: GuardInternals, context: ExecutionContext): boolean | Promise<boolean> };
  const shipped = proto.canActivate;
  proto.canActivate = function (this: GuardInternals, context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    if (context.getType() !== 'http') return shipped.call(this, context);
    const request = context.switchToHttp().getRequest<Record<string, unknown>>();
    const credential = this.extractCredential(request);
    if (!credential) return shipped.call(this, context);
    const user = this.tokens.verify(credential.token);
    const cached = entries.get(user.sessionId);
    if (!cached || cached.expires <= Date.now() || !cached.live || cached.userId !== user.id) return shipped.call(this, context);
    if (credential.method === 'cookie') this.checkCsrf(request);
    request.user = { ...user, authMethod: credential.method };
    return true;
  };
}

const PUBLIC_KEY_CACHE = new WeakMap<object, Map<object, boolean>>();
const BEARER_TOKEN = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Fix 5: the guard's remaining per-request work, trimmed. (a) `@Public()` is static metadata, so
 * the answer per (handler, class) is computed once instead of two reflect-metadata walks per
 * request; (b) the credential is read in one pass over the raw headers comparing lengths before
 * lower-casing, and the cookie header is parsed only when there is one. Same rules as shipped: two
 * Authorization headers, a malformed bearer, a doubled access cookie or a bearer/cookie mismatch
 * are refused.
 */
export function withLeanGuard(guardClass: typeof JwtAuthGuard): void {
  const proto = guardClass.prototype as unknown as {
    isPublic(this: { reflector: { getAllAndOverride(key: unknown, targets: unknown[]): unknown } }, context: ExecutionContext): boolean;
    extractCredential(this: { cookies: { read(req: unknown, kind: 'access'): { status: string; value?: string } } }, request: { rawHeaders: string[]; headers: { cookie?: string } }): { token: string; method: 'bearer' | 'cookie' } | undefined;
  };
  const shippedIsPublic = proto.isPublic;
  proto.isPublic = function (context) {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = PUBLIC_KEY_CACHE.get(handler);
    if (!byClass) PUBLIC_KEY_CACHE.set(handler, (byClass = new Map()));
    let answer = byClass.get(cls);
    if (answer === undefined) byClass.set(cls, (answer = shippedIsPublic.call(this, context)));
    return answer;
  };
  proto.extractCredential = function (request) {
    const raw = request.rawHeaders;
    let authorization: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
      if (authorization !== undefined) throw new AuthError('unauthorized');
      authorization = raw[i + 1];
    }
    let bearer: string | undefined;
    if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization)) {
      const match = BEARER_TOKEN.exec(authorization);
      if (!match) throw new AuthError('unauthorized');
      bearer = match[1];
    }
    let cookieToken: string | undefined;
    if (request.headers.cookie !== undefined) {
      const cookie = this.cookies.read(request, 'access');
      if (cookie.status === 'ambiguous') throw new AuthError('unauthorized');
      cookieToken = cookie.status === 'present' ? cookie.value : undefined;
    }
    if (bearer !== undefined && cookieToken !== undefined && bearer !== cookieToken) throw new AuthError('unauthorized');
    if (bearer !== undefined) return { token: bearer, method: 'bearer' };
    if (cookieToken !== undefined) return { token: cookieToken, method: 'cookie' };
    return undefined;
  };
}
