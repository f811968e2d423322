import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { openEnvelope, sealEnvelope } from '../crypto/sealed-envelope';
import { EntityManager, In, IsNull, ObjectLiteral, EntityTarget } from 'typeorm';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthDatabase } from '../database/auth-database';
import { DatabaseAvailability } from '../database/database-availability';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuditEvent } from '../entities/audit-event.entity';
import { AuthSession } from '../entities/auth-session.entity';
import { RefreshToken } from '../entities/refresh-token.entity';
import { AuthError } from '../errors/auth.error';
import { TypeOrmUserStore } from '../linking/typeorm-user.store';
import { AuthUserStore, LocalUser } from '../linking/user-store.port';
import { AccessTokenService } from './access-token.service';
import { Clock } from './clock';
import { KEY_PURPOSE, deriveKey } from './key-derivation';
import { SessionLivenessCache } from './session-liveness.cache';
import type { IssuedTokens, SessionContext, SessionRevocationReason, SessionSummary } from './session.types';

/** Sessions deleted per purge transaction: bounded locks and statement sizes on big backlogs. */
const PURGE_BATCH = 500;

/** 32 random bytes, base64url: 256 bits, 43 characters. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

type RefreshOutcome =
  | { kind: 'invalid' }
  | { kind: 'disabled'; sessionId: string }
  | { kind: 'reused'; sessionId: string }
  | { kind: 'issued'; session: AuthSession; refreshToken: string };

/**
 * Sessions (refresh-token families) and their rotation.
 *
 * Invariants (threat model C9, E1–E5):
 * - A refresh token is 256 random bits and only its SHA-256 is stored; one sign-in is one family
 *   (`auth_sessions` row), and every use rotates it.
 * - Rotation is one transaction that locks the family's session row, then marks the presented
 *   token used with a conditional `UPDATE … WHERE used_at IS NULL` whose affected-row count
 *   decides the winner, then inserts the successor. Concurrent refreshes of one token therefore
 *   produce at most one successor; a crash between the steps rolls all of them back.
 * - A token already used is reuse: the whole family is revoked (`refresh_token_reused`), except
 *   when it is the immediate predecessor of the current token, presented again within
 *   `tokens.refreshReuseGrace` seconds of its rotation, and its successor is still unused: then
 *   the caller gets that *same* successor (sealed in the row with AES-256-GCM under a derived key,
 *   bound to the row id, and erased once the successor rotates or the family is revoked).
 * - A lost answer is not theft: the immediate predecessor presented again past the grace window
 *   but within `tokens.refreshRetryWindow` of its rotation, while its successor has never been
 *   presented, is a retry. The undelivered successor dies and the caller gets a fresh one; if the
 *   successor had in fact reached someone, that holder's next refresh is reuse and revokes the
 *   family. A predecessor whose successor has been used is reuse, whenever it comes.
 * - A family ends at its idle or absolute expiry, whichever is first; refreshes slide only the idle one.
 * - A missing or disabled user gets no tokens, and a refresh of their family revokes it.
 * @publicApi
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger('SessionService');
  private readonly sealKey: Buffer;
  private readonly liveness: SessionLivenessCache;
  private lastPurge = 0;

  constructor(
    private readonly db: AuthDatabase,
    @Inject(AuthUserStore) private readonly users: AuthUserStore,
    private readonly accessTokens: AccessTokenService,
    private readonly clock: Clock,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    @Optional() private readonly availability?: DatabaseAvailability,
  ) {
    this.sealKey = deriveKey(options, KEY_PURPOSE.refreshSuccessor);
    this.liveness = new SessionLivenessCache(options.tokens.revocationCacheTtl * 1000, () => this.clock.epochMs());
  }

  /** Opens a new session for `userId` (a new refresh family) and issues its first tokens. */
  async open(userId: string, context: SessionContext = {}): Promise<IssuedTokens> {
    return this.openForUser(await this.users.findById(userId), context);
  }

  /**
   * `open` for a user the caller has just read from the user store (the sign-in callback has, from
   * linking), saving a second read. Refuses a missing or disabled user with `account_disabled`.
   */
  async openForUser(user: LocalUser | null, context: SessionContext = {}): Promise<IssuedTokens> {
    if (!user || user.disabled !== false) throw new AuthError('account_disabled');
    const now = this.clock.now();
    this.purgeInBackground(now);
    const { refreshIdleTtl, refreshAbsoluteTtl } = this.options.tokens;
    const absoluteExpiresAt = new Date(now.getTime() + refreshAbsoluteTtl * 1000);
    const session: AuthSession = {
      id: randomUUID(),
      userId: user.id,
      provider: clip(context.provider, 64),
      userAgent: clip(context.userAgent, 255),
      ip: clip(context.ip, 64),
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: earliest(new Date(now.getTime() + refreshIdleTtl * 1000), absoluteExpiresAt),
      absoluteExpiresAt,
      revokedAt: null,
      revokedReason: null,
    };
    const refreshToken = newRefreshToken();
    const first = this.tokenRow(session.id, refreshToken, null, now);
    if (this.db.dialect === 'postgres') {
      // One statement, so one round trip and no explicit transaction: both rows or neither.
      const s = session;
      await this.db.dataSource.query(OPEN_IN_ONE_STATEMENT, [s.id, s.userId, s.provider, s.userAgent, s.ip, now, s.idleExpiresAt, s.absoluteExpiresAt, first.id, first.tokenHash]);
    } else {
      await this.db.transaction(async (m) => {
        await m.insert(AuthSession, session);
        await m.insert(RefreshToken, first);
      });
    }
    return this.issue(session, refreshToken);
  }

  /**
   * Deletes the sessions that ended (expired, or revoked) more than `tokens.endedSessionRetention`
   * seconds ago, with their refresh tokens, and answers how many sessions went. Batches of
   * {@link PURGE_BATCH} sessions, one transaction each, locking the session rows first (the lock
   * order of every refresh and revocation); rows another instance's purge holds are skipped on
   * PostgreSQL and waited for elsewhere, so several instances may purge at once. Runs on its own
   * every `tokens.purgeInterval` seconds; call it from your own scheduler when that is 0.
   */
  async purgeEnded(): Promise<number> {
    const cutoff = new Date(this.clock.epochMs() - this.options.tokens.endedSessionRetention * 1000);
    let purged = 0;
    for (;;) {
      const batch = await this.db.transaction(async (m) => {
        const qb = m
          .createQueryBuilder(AuthSession, 'session')
          .select('session.id', 'id')
          // `idle_expires_at` is never later than `absolute_expires_at` (every write takes the earlier),
          // so these two terms find every ended session, each through its own index
          // (IDX_auth_sessions_revoked, IDX_auth_sessions_idle_expires) instead of a full scan.
          .where('session.revokedAt < :cutoff OR session.idleExpiresAt < :cutoff', { cutoff })
          .limit(PURGE_BATCH);
        if (this.db.dialect !== 'sqlite') qb.setLock('pessimistic_write');
        // SKIP LOCKED needs MariaDB 10.6 / MySQL 8; elsewhere a second purge just waits its turn.
        if (this.db.dialect === 'postgres') qb.setOnLocked('skip_locked');
        const ids = (await qb.getRawMany<{ id: string }>()).map((row) => row.id);
        if (ids.length > 0) {
          await m.delete(RefreshToken, { sessionId: In(ids) });
          await m.delete(AuthSession, { id: In(ids) });
        }
        return ids.length;
      });
      purged += batch;
      if (batch < PURGE_BATCH) return purged;
    }
  }

  /** At most once per `tokens.purgeInterval` on this instance; a failure is logged, never thrown. */
  private purgeInBackground(now: Date): void {
    const interval = this.options.tokens.purgeInterval * 1000;
    if (interval === 0 || now.getTime() - this.lastPurge < interval) return;
    this.lastPurge = now.getTime();
    this.purgeEnded().catch((error: unknown) => {
      // An unreachable database is the outage's one log line, not a line of its own.
      if (this.availability?.unavailable(error)) return;
      this.logger.warn(`purging ended sessions failed (${error instanceof Error ? error.constructor.name : 'error'}); next attempt in ${interval / 1000} s`);
    });
  }

  /**
   * Rotates a refresh token: answers a new access token and the successor refresh token.
   * Throws `refresh_token_invalid` (unknown, expired or revoked), `refresh_token_reused` (the
   * family is now revoked) or `account_disabled`.
   */
  async refresh(rawRefreshToken: string, _context: SessionContext = {}): Promise<IssuedTokens> {
    if (typeof rawRefreshToken !== 'string' || !REFRESH_TOKEN.test(rawRefreshToken)) throw new AuthError('refresh_token_invalid');
    const hash = hashRefreshToken(rawRefreshToken);
    // The common case in two round trips on PostgreSQL (three with a host's user store); anything
    // else goes through `rotate`.
    const fast = this.db.dialect === 'postgres' ? await this.rotateInOneStatement(hash) : undefined;
    if (fast) return fast;
    const outcome = await this.db.transaction((m) => this.rotate(m, hash));
    switch (outcome.kind) {
      case 'invalid':
        throw new AuthError('refresh_token_invalid');
      case 'disabled':
        this.liveness.markRevoked(outcome.sessionId);
        throw new AuthError('account_disabled');
      case 'reused':
        this.liveness.markRevoked(outcome.sessionId);
        this.logger.warn(`refresh token reuse detected: session ${outcome.sessionId} revoked`);
        throw new AuthError('refresh_token_reused');
      case 'issued':
        return this.issue(outcome.session, outcome.refreshToken);
    }
  }

  /** Revokes one session: its refresh family dies now, its access tokens within the revocation bound (this instance: at once). */
  async revoke(sessionId: string, reason: SessionRevocationReason): Promise<void> {
    await this.db.transaction((m) => this.revokeIn(m, [sessionId], reason));
    this.liveness.markRevoked(sessionId);
  }

  /** Revokes every session of `userId` (logout everywhere, account disabled, …). */
  async revokeAllForUser(userId: string, reason: SessionRevocationReason): Promise<void> {
    const ids = await this.db.transaction(async (m) => {
      const live = await m.find(AuthSession, { select: { id: true }, where: { userId, revokedAt: IsNull() } });
      const sessionIds = live.map((s) => s.id);
      await this.revokeIn(m, sessionIds, reason);
      return sessionIds;
    });
    for (const id of ids) this.liveness.markRevoked(id);
  }

  /**
   * Revokes, inside the caller's transaction `m`, every live session of `userId` opened through
   * `provider` (the provider recorded when the session was opened), and answers their ids. Once
   * `m` has committed, pass them to {@link noteRevoked}, so this instance's guard refuses them at
   * once; other instances follow within `tokens.revocationCacheTtl`.
   *
   * Why the provider is enough: a session records the provider of the identity it was opened
   * through, and disconnecting a provider removes every identity of that provider from the user,
   * so the sessions of that user and provider are exactly those opened through a removed identity.
   * @internal
   */
  async revokeOpenedThroughIn(m: EntityManager, userId: string, provider: string, reason: SessionRevocationReason): Promise<string[]> {
    const live = await m.find(AuthSession, { select: { id: true }, where: { userId, provider, revokedAt: IsNull() } });
    const sessionIds = live.map((s) => s.id);
    await this.revokeIn(m, sessionIds, reason);
    return sessionIds;
  }

  /** Records revocations committed by the caller (see {@link revokeOpenedThroughIn}) in this instance's guard cache. @internal */
  noteRevoked(sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.liveness.markRevoked(id);
  }

  /**
   * Revokes session `sessionId` only if it belongs to `userId`. Returns false when there is no
   * such live session of that user (the caller answers 404 without saying whether it exists).
   */
  async revokeOwned(userId: string, sessionId: string, reason: SessionRevocationReason): Promise<boolean> {
    const revoked = await this.db.transaction(async (m) => {
      const session = await lockedOne(this.db, m, AuthSession, { id: sessionId });
      if (!session || session.userId !== userId || !this.isLive(session, this.clock.now())) return false;
      await this.revokeIn(m, [sessionId], reason);
      return true;
    });
    if (revoked) this.liveness.markRevoked(sessionId);
    return revoked;
  }

  /** The live sessions of `userId`, most recently used first. */
  async listForUser(userId: string): Promise<SessionSummary[]> {
    const now = this.clock.now();
    const rows = await this.db.dataSource.manager.find(AuthSession, { where: { userId, revokedAt: IsNull() }, order: { lastUsedAt: 'DESC' } });
    return rows
      .filter((s) => this.isLive(s, now))
      .map((s) => ({
        id: s.id,
        provider: s.provider,
        userAgent: s.userAgent,
        ip: s.ip,
        createdAt: s.createdAt,
        lastUsedAt: s.lastUsedAt,
        expiresAt: earliest(s.idleExpiresAt, s.absoluteExpiresAt),
      }));
  }

  /**
   * The session a refresh token belongs to (used or not), if that session is still live; for
   * logging out with only a refresh cookie. Never rotates anything.
   */
  async findByRefreshToken(rawRefreshToken: string): Promise<{ sessionId: string; userId: string } | undefined> {
    if (typeof rawRefreshToken !== 'string' || !REFRESH_TOKEN.test(rawRefreshToken)) return undefined;
    const m = this.db.dataSource.manager;
    const token = await m.findOneBy(RefreshToken, { tokenHash: hashRefreshToken(rawRefreshToken) });
    if (!token) return undefined;
    const session = await m.findOneBy(AuthSession, { id: token.sessionId });
    if (!session || !this.isLive(session, this.clock.now())) return undefined;
    return { sessionId: session.id, userId: session.userId };
  }

  /**
   * Whether session `sessionId` of `userId` is live, as the guard asks on every request. Answers
   * come from an in-process cache for at most `tokens.revocationCacheTtl` seconds, so a
   * revocation made on another instance takes effect within that bound; revocations made through
   * this service on this instance take effect at once.
   */
  isSessionLive(sessionId: string, userId: string): Promise<boolean> {
    return this.liveness.isLive(sessionId, userId, async () => {
      const session = await this.db.dataSource.manager.findOneBy(AuthSession, { id: sessionId }).catch((error: unknown) => {
        // Host routes have no module filter: the guard's answer must already be the 503.
        throw this.availability?.unavailable(error) ?? error;
      });
      const now = this.clock.now();
      if (!session || !this.isLive(session, now)) return { live: false, userId: session?.userId ?? null, until: Number.POSITIVE_INFINITY };
      return { live: true, userId: session.userId, until: earliest(session.idleExpiresAt, session.absoluteExpiresAt).getTime() };
    });
  }

  /**
   * `isSessionLive`'s answer when this process already knows it (no I/O), else undefined: lets the
   * guard answer synchronously on the common path.
   */
  knownSessionLiveness(sessionId: string, userId: string): boolean | undefined {
    return this.liveness.peek(sessionId, userId);
  }

  /**
   * The happy path on PostgreSQL: find the token (unlocked), then one statement that slides the
   * session (locking its row first, the same lock order as `rotate`), marks the token used only if
   * it still is unused, inserts the successor and clears older sealed successors, all or nothing
   * (with the built-in user store, only for a present and enabled user; a host's store is asked
   * afterwards). Undefined when the token is unknown, already used, its session is not live or its
   * user cannot sign in: `rotate` then decides between invalid, disabled, the grace answer and reuse.
   */
  private async rotateInOneStatement(hash: string): Promise<IssuedTokens | undefined> {
    const ds = this.db.dataSource;
    const [found] = (await ds.query('SELECT id, session_id FROM auth_refresh_tokens WHERE token_hash = $1', [hash])) as Array<{ id: string; session_id: string }>;
    if (!found) return undefined;
    const now = this.clock.now();
    const successorToken = newRefreshToken();
    const successorId = randomUUID();
    const sealed = this.options.tokens.refreshReuseGrace > 0 ? this.seal(successorToken, found.id) : null;
    const idle = new Date(now.getTime() + this.options.tokens.refreshIdleTtl * 1000);
    const params = [found.session_id, found.id, now, successorId, hashRefreshToken(successorToken), sealed, idle];
    // With the built-in user store the statement also requires the user to exist and be enabled
    // (else nothing changes and `rotate` revokes the family); a host's store is asked afterwards.
    const builtInUsers = this.users.constructor === TypeOrmUserStore;
    const [row] = (await ds.query(builtInUsers ? ROTATE_FOR_ENABLED_USER : ROTATE_IN_ONE_STATEMENT, params)) as SessionRow[];
    if (!row) return undefined;
    if (builtInUsers) return this.issue(sessionFromRow(row), successorToken);
    const user = await this.users.findById(row.user_id);
    if (!user || user.disabled) {
      await this.revoke(row.id, 'account_disabled');
      throw new AuthError('account_disabled');
    }
    return this.issue(sessionFromRow(row), successorToken);
  }

  private async rotate(m: EntityManager, hash: string): Promise<RefreshOutcome> {
    const found = await m.findOne(RefreshToken, { select: { id: true, sessionId: true }, where: { tokenHash: hash } });
    if (!found) return { kind: 'invalid' };
    // Lock order is always session row, then token rows: every refresh and revocation of one
    // family queues on the session row, so two of them can never deadlock each other.
    const session = await lockedOne(this.db, m, AuthSession, { id: found.sessionId });
    const now = this.clock.now();
    if (!session || !this.isLive(session, now)) return { kind: 'invalid' };
    const user = await this.users.findById(session.userId, m);
    if (!user || user.disabled) {
      await this.revokeIn(m, [session.id], 'account_disabled');
      return { kind: 'disabled', sessionId: session.id };
    }

    let token = await lockedOne(this.db, m, RefreshToken, { id: found.id });
    if (!token) return { kind: 'invalid' };
    if (token.usedAt === null) {
      const successorToken = newRefreshToken();
      const successorId = randomUUID();
      const sealed = this.options.tokens.refreshReuseGrace > 0 ? this.seal(successorToken, token.id) : null;
      const result = await m
        .createQueryBuilder()
        .update(RefreshToken)
        .set({ usedAt: now, successorId, successorSealed: sealed })
        .where('id = :id AND used_at IS NULL', { id: token.id })
        .execute();
      if (result.affected === 1) {
        await m.insert(RefreshToken, { ...this.tokenRow(session.id, successorToken, token.id, now), id: successorId });
        // Only the immediate predecessor may be replayed in the grace window: older links of the
        // chain lose their sealed successor now.
        await m
          .createQueryBuilder()
          .update(RefreshToken)
          .set({ successorSealed: null })
          .where('session_id = :sessionId AND id <> :id AND successor_sealed IS NOT NULL', { sessionId: session.id, id: token.id })
          .execute();
        await this.slide(m, session, now);
        return { kind: 'issued', session, refreshToken: successorToken };
      }
      // Lost a race the locks should have prevented; read the winner's row and judge it as a replay.
      token = await lockedOne(this.db, m, RefreshToken, { id: found.id });
      if (!token) return { kind: 'invalid' };
    }

    const replay = await this.graceSuccessor(m, token, now);
    if (replay) return { kind: 'issued', session, refreshToken: replay };
    const retried = await this.retrySuccessor(m, session, token, now);
    if (retried) return { kind: 'issued', session, refreshToken: retried };
    await this.revokeIn(m, [session.id], 'refresh_token_reused');
    await this.audit(m, 'refresh_token_reused', session.userId, 'refresh_token_reused', now);
    return { kind: 'reused', sessionId: session.id };
  }

  /**
   * The same successor for a replay of the immediate predecessor within the grace window of the
   * successor's issue (the rotation, or a retry's fresh successor), else undefined.
   */
  private async graceSuccessor(m: EntityManager, token: RefreshToken, now: Date): Promise<string | undefined> {
    const graceMs = this.options.tokens.refreshReuseGrace * 1000;
    if (!token.usedAt || !token.successorId || !token.successorSealed) return undefined;
    const successor = await lockedOne(this.db, m, RefreshToken, { id: token.successorId });
    if (!successor || successor.usedAt !== null) return undefined;
    const issuedAt = Math.max(token.usedAt.getTime(), successor.createdAt.getTime());
    if (now.getTime() - issuedAt > graceMs) return undefined;
    return this.unseal(token.successorSealed, token.id);
  }

  /**
   * A lost answer retried: the immediate predecessor presented again past the grace window but
   * within `tokens.refreshRetryWindow` of its rotation, while its successor has never been
   * presented. That successor dies (presenting it later is reuse, which revokes the family) and the
   * retry gets a fresh one, so a thief replaying the predecessor cannot share the family with the
   * real client: whichever of them comes second is caught. The window counts from the rotation and
   * is not extended by retries. Undefined when the replay is not such a retry.
   */
  private async retrySuccessor(m: EntityManager, session: AuthSession, token: RefreshToken, now: Date): Promise<string | undefined> {
    const windowMs = this.options.tokens.refreshRetryWindow * 1000;
    if (windowMs === 0 || !token.usedAt || !token.successorId) return undefined;
    if (now.getTime() - token.usedAt.getTime() > windowMs) return undefined;
    // The successor row is locked through its session (locked by `rotate`); the conditional
    // UPDATE decides, as in a rotation, so two retries cannot both replace it.
    const killed = await m
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ usedAt: now, successorId: null, successorSealed: null })
      .where('id = :id AND session_id = :sessionId AND used_at IS NULL', { id: token.successorId, sessionId: session.id })
      .execute();
    if (killed.affected !== 1) return undefined;
    const fresh = newRefreshToken();
    const freshId = randomUUID();
    await m.insert(RefreshToken, { ...this.tokenRow(session.id, fresh, token.id, now), id: freshId });
    const sealed = this.options.tokens.refreshReuseGrace > 0 ? this.seal(fresh, token.id) : null;
    await m.update(RefreshToken, { id: token.id }, { successorId: freshId, successorSealed: sealed });
    await this.slide(m, session, now);
    this.logger.log(`refresh retried after a lost answer: session ${session.id} kept, its undelivered refresh token replaced`);
    return fresh;
  }

  /** A refresh slides the session's idle expiry (never past the absolute one). */
  private async slide(m: EntityManager, session: AuthSession, now: Date): Promise<void> {
    session.lastUsedAt = now;
    session.idleExpiresAt = earliest(new Date(now.getTime() + this.options.tokens.refreshIdleTtl * 1000), session.absoluteExpiresAt);
    await m.update(AuthSession, { id: session.id }, { lastUsedAt: session.lastUsedAt, idleExpiresAt: session.idleExpiresAt });
  }

  private async revokeIn(m: EntityManager, sessionIds: string[], reason: SessionRevocationReason): Promise<void> {
    if (sessionIds.length === 0) return;
    const now = this.clock.now();
    await m
      .createQueryBuilder()
      .update(AuthSession)
      .set({ revokedAt: now, revokedReason: reason.slice(0, 32) })
      .where('id IN (:...ids) AND revoked_at IS NULL', { ids: sessionIds })
      .execute();
    await m
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ successorSealed: null })
      .where('session_id IN (:...ids) AND successor_sealed IS NOT NULL', { ids: sessionIds })
      .execute();
  }

  private async audit(m: EntityManager, type: string, userId: string, code: string, now: Date): Promise<void> {
    if (!this.options.linking.audit) return;
    await m.insert(AuditEvent, { id: randomUUID(), type, userId, provider: null, code, ip: null, createdAt: now });
  }

  private isLive(session: AuthSession, now: Date): boolean {
    const t = now.getTime();
    return session.revokedAt === null && t < session.idleExpiresAt.getTime() && t < session.absoluteExpiresAt.getTime();
  }

  private issue(session: AuthSession, refreshToken: string): IssuedTokens {
    const access = this.accessTokens.sign(session.userId, session.id);
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      refreshExpiresAt: earliest(session.idleExpiresAt, session.absoluteExpiresAt),
      sessionId: session.id,
      userId: session.userId,
    };
  }

  private tokenRow(sessionId: string, raw: string, parentId: string | null, now: Date): RefreshToken {
    return { id: randomUUID(), sessionId, tokenHash: hashRefreshToken(raw), parentId, createdAt: now, usedAt: null, successorId: null, successorSealed: null };
  }

  /** The successor token sealed for the grace window, bound (as AAD) to the predecessor's row id. */
  private seal(successorToken: string, predecessorId: string): string {
    return sealEnvelope('rs1', Buffer.from(successorToken, 'utf8'), this.sealKey, Buffer.from(predecessorId, 'utf8'));
  }

  private unseal(sealed: string, predecessorId: string): string | undefined {
    // A value sealed under an older master secret fails to open: no grace, the replay counts as reuse.
    const opened = openEnvelope(sealed, 'rs1', this.sealKey, Buffer.from(predecessorId, 'utf8'), 255);
    if (!opened.ok) return undefined;
    const token = opened.plaintext.toString('utf8');
    return REFRESH_TOKEN.test(token) ? token : undefined;
  }
}

/**
 * $1 session id, $2 user id, $3 provider, $4 user agent, $5 ip, $6 now, $7 idle expiry, $8 absolute
 * expiry, $9 first refresh token id, $10 its hash.
 */
const OPEN_IN_ONE_STATEMENT = `
WITH s AS (
  INSERT INTO auth_sessions (id, user_id, provider, user_agent, ip, created_at, last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoked_reason)
  VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, NULL, NULL)
  RETURNING id
)
INSERT INTO auth_refresh_tokens (id, session_id, token_hash, parent_id, created_at, used_at, successor_id, successor_sealed)
SELECT $9, s.id, $10, NULL, $6, NULL, NULL, NULL FROM s`;

/**
 * $1 session id, $2 presented token id, $3 now, $4 successor id, $5 successor hash, $6 sealed
 * successor (or null), $7 new idle expiry. Returns the slid session, or no row when nothing changed.
 */
const ROTATE_IN_ONE_STATEMENT = `
WITH s AS (
  UPDATE auth_sessions SET last_used_at = $3, idle_expires_at = LEAST($7::timestamp, absolute_expires_at)
  WHERE id = $1 AND revoked_at IS NULL AND idle_expires_at > $3 AND absolute_expires_at > $3
    AND EXISTS (SELECT 1 FROM auth_refresh_tokens WHERE id = $2 AND used_at IS NULL)
  RETURNING *
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
SELECT s.* FROM s WHERE EXISTS (SELECT 1 FROM n)`;

/** {@link ROTATE_IN_ONE_STATEMENT} that also requires the session's user in `auth_users`, enabled. */
const ROTATE_FOR_ENABLED_USER = ROTATE_IN_ONE_STATEMENT.replace(
  'AND EXISTS (SELECT 1 FROM auth_refresh_tokens',
  () => 'AND EXISTS (SELECT 1 FROM auth_users u WHERE u.id = auth_sessions.user_id AND u.disabled = false)\n    AND EXISTS (SELECT 1 FROM auth_refresh_tokens',
);

interface SessionRow {
  id: string;
  user_id: string;
  provider: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
}

function sessionFromRow(row: SessionRow): AuthSession {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    userAgent: row.user_agent,
    ip: row.ip,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    revokedAt: null,
    revokedReason: null,
  };
}

/** A new opaque refresh token: 256 bits from the CSPRNG, base64url. @internal */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a refresh token: hex SHA-256 (the token has 256 bits of entropy, so no salt or stretching is needed). @internal */
export function hashRefreshToken(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

/**
 * One row read with `SELECT … FOR UPDATE` on PostgreSQL and MariaDB. Locking reads also see the
 * latest committed row under MariaDB's REPEATABLE READ, where a plain read would see the
 * transaction's older snapshot. SQLite transactions are serialised in-process (see AuthDatabase).
 */
function lockedOne<T extends ObjectLiteral>(db: AuthDatabase, m: EntityManager, entity: EntityTarget<T>, where: Partial<T>): Promise<T | null> {
  const qb = m.createQueryBuilder(entity, 'row');
  for (const [key, value] of Object.entries(where)) qb.andWhere(`row.${key} = :${key}`, { [key]: value });
  if (db.dialect !== 'sqlite') qb.setLock('pessimistic_write');
  return qb.getOne();
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

function clip(value: string | null | undefined, max: number): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;
}
