import type { AuthUserStore, LocalUser, NewLocalUser } from '@nest-social-auth/core';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Member } from './member.entity';

/**
 * Keeps the module's users in the app's `members` table (the AuthUserStore port, passed to
 * AuthModule as the `userStore` extra). Identities stay in the module's `auth_identities`.
 */
@Injectable()
export class MemberUserStore implements AuthUserStore {
  constructor(private readonly dataSource: DataSource) {}

  // Use the EntityManager you are given: a new member and its first identity commit together.
  async findById(id: string, m: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return toLocalUser(await m.findOneBy(Member, { id }));
  }

  // Never a member whose email is unverified (that is what stops pre-account takeover).
  async findByVerifiedEmail(canonical: string, m: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return toLocalUser(await m.findOne(Member, { where: { emailKey: canonical, emailVerified: true }, order: { createdAt: 'ASC' } }));
  }

  async create(user: NewLocalUser, m: EntityManager = this.dataSource.manager): Promise<LocalUser> {
    const row = m.create(Member, {
      id: randomUUID(),
      email: user.email,
      emailKey: user.emailCanonical,
      emailVerified: user.emailVerified,
      displayName: user.displayName,
      avatarUrl: user.avatarUrl,
      suspended: false,
    });
    await m.insert(Member, row);
    return toLocalUser(row)!;
  }

  async setDisabled(id: string, disabled: boolean, m: EntityManager = this.dataSource.manager): Promise<void> {
    await m.update(Member, { id }, { suspended: disabled });
  }
}

// Real booleans only: the module reads anything but `disabled === false` as disabled.
function toLocalUser(row: Member | null): LocalUser | null {
  return (
    row && {
      id: row.id,
      email: row.email,
      emailVerified: row.emailVerified === true,
      displayName: row.displayName,
      avatarUrl: row.avatarUrl,
      disabled: row.suspended === true,
    }
  );
}
