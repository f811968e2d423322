import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthDatabase } from '../database/auth-database';
import { ExternalIdentity } from '../entities/external-identity.entity';
import { AuthError } from '../errors/auth.error';
import type { VerifiedIdentity } from '../identity-providers/verified-identity';
import { AuthUserStore, LocalUser } from './user-store.port';

/**
 * Maps a verified external identity to a local account (first version: find by
 * (provider, subject) or create; the accounts work adds the linking policy).
 * @publicApi
 */
@Injectable()
export class AccountLinkingService {
  constructor(
    private readonly db: AuthDatabase,
    @Inject(AuthUserStore) private readonly users: AuthUserStore,
  ) {}

  /** Signs in with `identity`: the linked user, or a new one. */
  signIn(identity: VerifiedIdentity): Promise<LocalUser> {
    return this.db.transaction(async (manager) => {
      const existing = await manager.findOneBy(ExternalIdentity, { provider: identity.provider, subject: identity.subject });
      const user = existing
        ? await this.users.findById(existing.userId, manager)
        : await this.users.create({ email: identity.email, emailVerified: identity.emailVerified, displayName: identity.displayName, avatarUrl: identity.avatarUrl }, manager);
      if (!user) throw new AuthError('internal_error');
      if (user.disabled) throw new AuthError('account_disabled');
      if (!existing) {
        await manager.insert(ExternalIdentity, {
          id: randomUUID(),
          userId: user.id,
          provider: identity.provider,
          issuer: identity.issuer,
          subject: identity.subject,
          email: identity.email,
          emailVerified: identity.emailVerified,
          displayName: identity.displayName,
          lastLoginAt: new Date(),
        });
      }
      return user;
    });
  }

  /** Connects `identity` to the signed-in user `userId`; never moves an identity owned by another user. */
  link(userId: string, identity: VerifiedIdentity): Promise<void> {
    return this.db.transaction(async (manager) => {
      const existing = await manager.findOneBy(ExternalIdentity, { provider: identity.provider, subject: identity.subject });
      if (existing && existing.userId !== userId) throw new AuthError('identity_in_use');
      if (existing) return;
      await manager.insert(ExternalIdentity, {
        id: randomUUID(),
        userId,
        provider: identity.provider,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        emailVerified: identity.emailVerified,
        displayName: identity.displayName,
        lastLoginAt: null,
      });
    });
  }
}
