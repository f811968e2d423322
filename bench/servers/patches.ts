/**
 * Proposed hot-path fixes, emulated on a live instance so they can be measured next to the
 * shipped code before they land in the library. Bench-only: they reach into private fields.
 */
import type { JwtService } from '@nestjs/jwt';
import { KeyObject, createPrivateKey, createPublicKey, createSecretKey, randomUUID } from 'node:crypto';
import { AuthError } from '@app/social-auth';
import type { AccessTokenService, IssuedTokens, SessionContext, SessionService } from '@app/social-auth';
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
