import {
  AccountLinkingService,
  AccountService,
  AUTH_ENTITIES,
  AuthModule,
  AuthUserStore,
  canonicalEmail,
  ExternalIdentity,
  LocalUser,
  NewLocalUser,
  SessionService,
  UserAccount,
  VerifiedIdentity,
} from '@nest-social-auth/core';
import { INestApplication, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Column, DataSource, Entity, EntityManager, PrimaryColumn, Table } from 'typeorm';
import { databaseOptions } from '../../src/config/database.config';
import { createPlatformApp, initPlatformApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** The host's own users table, with its own names for everything. */
@Entity({ name: 'members' })
class Member {
  @PrimaryColumn({ name: 'member_id', type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'mail', type: 'varchar', length: 320, nullable: true })
  mail!: string | null;

  @Column({ name: 'mail_key', type: 'varchar', length: 320, nullable: true })
  mailKey!: string | null;

  @Column({ name: 'mail_confirmed', type: 'boolean' })
  mailConfirmed!: boolean;

  @Column({ name: 'full_name', type: 'varchar', length: 200, nullable: true })
  fullName!: string | null;

  @Column({ name: 'suspended', type: 'boolean' })
  suspended!: boolean;

  @Column({ name: 'password_hash', type: 'varchar', length: 200, nullable: true })
  passwordHash!: string | null;
}

/** The documented way to keep users in the host's table (docs/accounts.md). */
@Injectable()
class MemberUserStore implements AuthUserStore {
  constructor(private readonly dataSource: DataSource) {}

  async findById(id: string, m: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return toLocalUser(await m.findOneBy(Member, { id }));
  }

  async findByVerifiedEmail(canonical: string, m: EntityManager = this.dataSource.manager): Promise<LocalUser | null> {
    return toLocalUser(await m.findOne(Member, { where: { mailKey: canonical, mailConfirmed: true }, order: { id: 'ASC' } }));
  }

  async create(user: NewLocalUser, m: EntityManager = this.dataSource.manager): Promise<LocalUser> {
    const row: Member = { id: randomUUID(), mail: user.email, mailKey: user.emailCanonical, mailConfirmed: user.emailVerified, fullName: user.displayName, suspended: false, passwordHash: null };
    await m.insert(Member, { ...row });
    return toLocalUser(row)!;
  }

  async setDisabled(id: string, disabled: boolean, m: EntityManager = this.dataSource.manager): Promise<void> {
    await m.update(Member, { id }, { suspended: disabled });
  }

  async hasOtherSignInMethod(id: string, m: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await m.findOneBy(Member, { id }))?.passwordHash != null;
  }
}

function toLocalUser(row: Member | null): LocalUser | null {
  return row && { id: row.id, email: row.mail, emailVerified: row.mailConfirmed === true, displayName: row.fullName, avatarUrl: null, disabled: row.suspended === true };
}

const ISSUER = 'https://accounts.google.com';

function google(subject: string, email: string, emailVerified = true): VerifiedIdentity {
  return { provider: 'google', issuer: ISSUER, subject, email, emailVerified, displayName: 'Member', avatarUrl: null };
}

/**
 * A host that binds its own user store through the `userStore` extra and registers no
 * EventEmitterModule: the module must use the host's table for users (and never `auth_users`),
 * and work without an event emitter.
 */
describe('accounts: a host with its own users table (userStore extra) and no EventEmitterModule', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let dataSource: DataSource;
  let linking: AccountLinkingService;

  beforeAll(async () => {
    database = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...databaseOptions(database.url, { entities: [...AUTH_ENTITIES, Member] }), migrationsRun: true, retryAttempts: 0 }),
        AuthModule.forRoot({
          appUrl: 'http://127.0.0.1:1',
          tokens: { secret: 'host-secret-host-secret-host-secret-0123456789' },
          providers: { google: { clientId: 'id', clientSecret: 'secret', trustEmail: true } },
          userStore: MemberUserStore,
        }),
      ],
    }).compile();
    app = createPlatformApp(moduleRef, { logger: ['error', 'warn'] });
    await initPlatformApp(app);
    dataSource = app.get(getDataSourceToken());
    const runner = dataSource.createQueryRunner();
    await runner.createTable(
      new Table({
        name: 'members',
        columns: [
          { name: 'member_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'mail', type: 'varchar', length: '320', isNullable: true },
          { name: 'mail_key', type: 'varchar', length: '320', isNullable: true },
          { name: 'mail_confirmed', type: 'boolean' },
          { name: 'full_name', type: 'varchar', length: '200', isNullable: true },
          { name: 'suspended', type: 'boolean' },
          { name: 'password_hash', type: 'varchar', length: '200', isNullable: true },
        ],
      }),
    );
    await runner.release();
    linking = app.get(AccountLinkingService);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('binds the host\'s store and boots without an EventEmitter2', () => {
    expect(app.get(AuthUserStore)).toBeInstanceOf(MemberUserStore);
    expect(() => app.get(EventEmitter2, { strict: false })).toThrow();
  });

  it('a first sign-in creates a member (never an auth_users row), with the canonical key only for a verified email', async () => {
    const user = await linking.signIn(google('host-1', 'New.Member@Example.com'));
    const member = await dataSource.getRepository(Member).findOneByOrFail({ id: user.id });
    expect(member).toMatchObject({ mail: 'New.Member@Example.com', mailKey: 'new.member@example.com', mailConfirmed: true, suspended: false });
    expect(await dataSource.getRepository(UserAccount).count()).toBe(0);
    expect((await dataSource.getRepository(ExternalIdentity).findOneByOrFail({ subject: 'host-1' })).userId).toBe(user.id);
    const unverified = await linking.signIn(google('host-2', 'loose@example.com', false));
    expect(await dataSource.getRepository(Member).findOneByOrFail({ id: unverified.id })).toMatchObject({ mailKey: null, mailConfirmed: false });
  });

  it('a trusted verified email links to the existing member found by the host\'s store', async () => {
    const id = randomUUID();
    await dataSource.getRepository(Member).insert({ id, mail: 'Existing@Example.com', mailKey: canonicalEmail('Existing@Example.com'), mailConfirmed: true, fullName: 'Existing', suspended: false, passwordHash: 'x' });
    expect((await linking.signIn(google('host-3', 'existing@example.com'))).id).toBe(id);
  });

  it('disable() sets the host\'s flag; sign-in and sessions are refused', async () => {
    const user = await linking.signIn(google('host-4', 'suspend-me@example.com'));
    await app.get(AccountService).disable(user.id);
    expect((await dataSource.getRepository(Member).findOneByOrFail({ id: user.id })).suspended).toBe(true);
    await expect(linking.signIn(google('host-4', 'suspend-me@example.com'))).rejects.toMatchObject({ code: 'account_disabled' });
    await expect(app.get(SessionService).open(user.id)).rejects.toMatchObject({ code: 'account_disabled' });
  });

  it('the last identity of a member with a password may be disconnected; without one it may not (hasOtherSignInMethod)', async () => {
    await app.listen(0, '127.0.0.1');
    const http = request(app.getHttpServer());
    const withPassword = randomUUID();
    await dataSource.getRepository(Member).insert({ id: withPassword, mail: null, mailKey: null, mailConfirmed: false, fullName: null, suspended: false, passwordHash: 'argon2id$…' });
    await linking.link(withPassword, google('host-5', 'pw@example.com'));
    const passwordless = await linking.signIn(google('host-6', 'nopw@example.com'));
    const auth = async (id: string) => `Bearer ${(await app.get(SessionService).open(id)).accessToken}`;

    await http.delete('/auth/identities/google').set('Authorization', await auth(passwordless.id)).expect(409);
    await http.delete('/auth/identities/google').set('Authorization', await auth(withPassword)).expect(204);
    expect(await dataSource.getRepository(ExternalIdentity).countBy({ userId: withPassword })).toBe(0);
    const me = await http.get('/auth/me').set('Authorization', await auth(withPassword)).expect(200);
    expect(me.body).toEqual({ id: withPassword, email: null, emailVerified: false, displayName: null, identities: [] });
  });
});
