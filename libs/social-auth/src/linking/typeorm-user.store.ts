import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { UserAccount } from '../entities/user-account.entity';
import type { AuthUserStore, LocalUser, NewLocalUser } from './user-store.port';

/**
 * Default {@link AuthUserStore}: the module's own `auth_users` table.
 * @publicApi
 */
@Injectable()
export class TypeOrmUserStore implements AuthUserStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return manager.findOneBy(UserAccount, { id });
  }

  findByVerifiedEmail(canonicalEmail: string, manager: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return manager.findOneBy(UserAccount, { emailCanonical: canonicalEmail, emailVerified: true });
  }

  async create(user: NewLocalUser, manager: EntityManager = this.dataSource.manager): Promise<LocalUser> {
    const row = manager.create(UserAccount, { id: randomUUID(), ...user, emailCanonical: null, disabled: false });
    return manager.save(row);
  }
}
