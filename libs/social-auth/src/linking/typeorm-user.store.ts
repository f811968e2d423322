import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { UserAccount } from '../entities/user-account.entity';
import type { AuthUserStore, LocalUser, NewLocalUser } from './user-store.port';

/**
 * Default {@link AuthUserStore}: the module's own `auth_users` table.
 *
 * Invariant: `email_canonical` is written only for verified emails, and `findByVerifiedEmail`
 * also requires `email_verified`, so an unverified address can never be found by email.
 * @publicApi
 */
@Injectable()
export class TypeOrmUserStore implements AuthUserStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return toLocalUser(await manager.findOneBy(UserAccount, { id }));
  }

  async findByVerifiedEmail(canonicalEmail: string, manager: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    const row = await manager.findOne(UserAccount, { where: { emailCanonical: canonicalEmail, emailVerified: true }, order: { createdAt: 'ASC', id: 'ASC' } });
    return toLocalUser(row);
  }

  async create(user: NewLocalUser, manager: EntityManager = this.dataSource.manager): Promise<LocalUser> {
    const row: Omit<UserAccount, 'createdAt' | 'updatedAt'> = {
      id: randomUUID(),
      email: user.email,
      emailVerified: user.emailVerified,
      // Defence in depth: never a canonical form for an unverified email, whatever the caller passed.
      emailCanonical: user.emailVerified ? user.emailCanonical : null,
      displayName: user.displayName,
      avatarUrl: user.avatarUrl,
      disabled: false,
    };
    // Insert a copy: TypeORM merges re-read defaults into the object it inserts, and on MariaDB
    // those arrive as raw 0/1 instead of booleans.
    await manager.insert(UserAccount, { ...row });
    return toLocalUser(row)!;
  }

  async setDisabled(id: string, disabled: boolean, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.update(UserAccount, { id }, { disabled });
  }
}

function toLocalUser(row: Pick<UserAccount, keyof LocalUser> | null): LocalUser | null {
  if (!row) return null;
  return { id: row.id, email: row.email, emailVerified: row.emailVerified, displayName: row.displayName, avatarUrl: row.avatarUrl, disabled: row.disabled };
}
