import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { AuthDatabase } from '../database/auth-database';
import { ExternalIdentity } from '../entities/external-identity.entity';
import { AuthError } from '../errors/auth.error';
import { AuthEvents } from '../events/auth-events.service';
import { AccountDisabledEvent, AccountEnabledEvent, AuthEventContext, IdentityUnlinkedEvent } from '../events/auth.events';
import { SessionService } from '../tokens/session.service';
import { decideUnlink } from './account-linking.policy';
import { runWithRetry } from './linking-transaction';
import { AuthUserStore } from './user-store.port';

/** One provider account linked to the user, as `GET /auth/me` shows it. @publicApi */
export interface LinkedIdentityView {
  /** Provider id (`google`, `github`). */
  provider: string;
  /** The email the provider gave at the last sign-in, or null. */
  email: string | null;
  /** When the identity was linked. */
  linkedAt: Date;
}

/** The signed-in user with their linked identities, as `GET /auth/me` answers. @publicApi */
export interface AccountView {
  id: string;
  email: string | null;
  emailVerified: boolean;
  displayName: string | null;
  /** Oldest first. */
  identities: LinkedIdentityView[];
}

/**
 * The signed-in user's account: what it looks like, disconnecting a provider, and (for the host's
 * administration) disabling and enabling it.
 * @publicApi
 */
@Injectable()
export class AccountService {
  private readonly logger = new Logger('AccountService');

  constructor(
    private readonly db: AuthDatabase,
    @Inject(AuthUserStore) private readonly users: AuthUserStore,
    private readonly sessions: SessionService,
    private readonly events: AuthEvents,
  ) {}

  /**
   * The user and their linked identities.
   * @throws AuthError `unauthorized` when the user no longer exists, `account_disabled` when disabled
   */
  async getAccount(userId: string): Promise<AccountView> {
    return runWithRetry(this.logger, 'account read', () =>
      this.db.transaction(async (m) => {
        const user = await this.users.findById(userId, m);
        if (!user) throw new AuthError('unauthorized');
        if (user.disabled !== false) throw new AuthError('account_disabled');
        const identities = await m.find(ExternalIdentity, { where: { userId }, order: { linkedAt: 'ASC', id: 'ASC' } });
        return {
          id: user.id,
          email: user.email,
          emailVerified: user.emailVerified === true,
          displayName: user.displayName,
          identities: identities.map((i) => ({ provider: i.provider, email: i.email, linkedAt: i.linkedAt })),
        };
      }),
    );
  }

  /**
   * Disconnects every identity of `provider` from the user and revokes the sessions opened
   * through them (revoked reason `identity_unlinked`); sessions opened through another provider
   * stay. A user who disconnects a provider because that account was taken over is not left
   * signed in through it: its refresh tokens stop at once, its access tokens within
   * `tokens.revocationCacheTtl` (on this instance at once). The identities and the revocations are
   * one transaction: both happen or neither.
   *
   * Invariant: the account always keeps a way in. The user's identity rows are locked
   * (`SELECT … FOR UPDATE` on PostgreSQL/MariaDB; SQLite transactions are serialised), so two
   * concurrent disconnects of the user's last two providers cannot both see "another one remains".
   * @throws AuthError `not_found` (no identity of that provider), `last_login_method`
   */
  async unlink(userId: string, provider: string, context: AuthEventContext = {}): Promise<void> {
    const removed = await runWithRetry(this.logger, 'unlink', () =>
      this.db.transaction(async (m) => {
        const user = await this.users.findById(userId, m);
        if (!user) throw new AuthError('unauthorized');
        const identities = await this.lockIdentitiesOf(m, userId);
        const ofProvider = identities.filter((i) => i.provider === provider);
        const others = identities.length - ofProvider.length;
        const decision = decideUnlink({
          identitiesOfProvider: ofProvider.length,
          otherIdentities: others,
          // Asked only when it can change the answer.
          hasOtherSignInMethod: ofProvider.length > 0 && others === 0 && (await this.users.hasOtherSignInMethod?.(userId, m)) === true,
        });
        if (decision.action === 'refuse') throw new AuthError(decision.code);
        const ids = ofProvider.map((i) => i.id);
        await m.delete(ExternalIdentity, { id: In(ids), userId });
        const sessionIds = await this.sessions.revokeOpenedThroughIn(m, userId, provider, 'identity_unlinked');
        return { ids, sessionIds };
      }),
    );
    this.sessions.noteRevoked(removed.sessionIds);
    await this.events.publish(new IdentityUnlinkedEvent(userId, provider, removed.ids, context, removed.sessionIds));
  }

  /**
   * Disables the account: it can no longer sign in (`account_disabled`), and every session is
   * revoked, so its refresh tokens stop working at once and its access tokens within the guard's
   * revocation bound (`tokens.revocationCacheTtl`).
   *
   * The flag is set before the sessions are revoked: a refresh racing with this call either sees
   * the flag (and revokes its own session) or is revoked right after.
   * @throws AuthError `not_found` when there is no such user
   */
  async disable(userId: string, context: AuthEventContext = {}): Promise<void> {
    await this.setDisabled(userId, true);
    await this.sessions.revokeAllForUser(userId, 'account_disabled');
    await this.events.publish(new AccountDisabledEvent(userId, context));
  }

  /**
   * Enables a disabled account again. Sessions revoked by {@link disable} stay revoked; the user
   * signs in anew.
   * @throws AuthError `not_found` when there is no such user
   */
  async enable(userId: string, context: AuthEventContext = {}): Promise<void> {
    await this.setDisabled(userId, false);
    await this.events.publish(new AccountEnabledEvent(userId, context));
  }

  private setDisabled(userId: string, disabled: boolean): Promise<void> {
    return runWithRetry(this.logger, disabled ? 'disable' : 'enable', () =>
      this.db.transaction(async (m) => {
        if (!(await this.users.findById(userId, m))) throw new AuthError('not_found');
        await this.users.setDisabled(userId, disabled, m);
      }),
    );
  }

  private lockIdentitiesOf(m: EntityManager, userId: string): Promise<ExternalIdentity[]> {
    const qb = m.createQueryBuilder(ExternalIdentity, 'identity').where('identity.userId = :userId', { userId }).orderBy('identity.id', 'ASC');
    if (this.db.dialect !== 'sqlite') qb.setLock('pessimistic_write');
    return qb.getMany();
  }
}
