import { AccountLinkingService, AuthError, ExternalIdentity, UserAccount } from '@nest-social-auth/core';
import type { EntitySubscriberInterface } from 'typeorm';
import { installIdentityInsertFault } from './support/database-fault';
import { AccountsApp, counts, googleIdentity, identitiesOf, localAccount, setPolicy, startAccountsApp } from './support/accounts-fixture';

/** Throws from `beforeInsert` of ExternalIdentity while armed: a fault between the user insert and the identity insert. */
class IdentityInsertFault implements EntitySubscriberInterface<ExternalIdentity> {
  remaining = 0;

  listenTo(): typeof ExternalIdentity {
    return ExternalIdentity;
  }

  beforeInsert(): void {
    if (this.remaining <= 0) return;
    this.remaining -= 1;
    // The message quotes an email, as driver errors quote statement parameters: it must not reach any log line.
    throw new Error('injected fault: connection lost while inserting fault-victim@example.com');
  }
}

/**
 * Threat model C7 (concurrent first sign-in) and I3 (database failure mid-sign-in). On SQLite the
 * module serialises transactions (one shared connection), so C7 checks the sequential outcome
 * there; on PostgreSQL and MariaDB the ten transactions really race for the unique key.
 */
describe('accounts: concurrent first sign-in and failures mid-sign-in (threat model C7, I3)', () => {
  let t: AccountsApp;
  let linking: AccountLinkingService;
  const fault = new IdentityInsertFault();

  beforeAll(async () => {
    t = await startAccountsApp();
    linking = t.app.get(AccountLinkingService);
    t.dataSource.subscribers.push(fault);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(() => {
    setPolicy(t);
    fault.remaining = 0;
  });

  it('C7: 10 simultaneous first sign-ins of one new identity end in one user and one identity, all signed in to it', async () => {
    const identity = googleIdentity(t);
    const before = await counts(t);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => linking.signIn({ ...identity })));
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    const ids = new Set(results.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id));
    expect(ids.size).toBe(1);
    expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
    const [userId] = [...ids];
    expect(await identitiesOf(t, userId)).toHaveLength(1);
  });

  it('C7: 10 simultaneous first sign-ins that auto-link by trusted email add exactly one identity to the existing account', async () => {
    setPolicy(t, { trustGoogleEmail: true });
    const local = await localAccount(t, 'race-link@example.com', { emailVerified: true });
    const identity = googleIdentity(t, { email: 'race-link@example.com' });
    const before = await counts(t);
    const results = await Promise.all(Array.from({ length: 10 }, () => linking.signIn({ ...identity })));
    expect(new Set(results.map((u) => u.id))).toEqual(new Set([local]));
    expect(await counts(t)).toEqual({ users: before.users, identities: before.identities + 1 });
  });

  it('C7: 10 simultaneous connects of one identity to two users: it ends with exactly one of them, the others get identity_in_use', async () => {
    const a = await linking.signIn(googleIdentity(t));
    const b = await linking.signIn(googleIdentity(t));
    const contested = googleIdentity(t, { provider: 'github', issuer: t.options.providers.github!.apiURL });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => linking.link(i % 2 === 0 ? a.id : b.id, { ...contested })));
    const rows = await t.dataSource.getRepository(ExternalIdentity).findBy({ provider: 'github', subject: contested.subject });
    expect(rows).toHaveLength(1);
    const owner = rows[0].userId;
    results.forEach((r, i) => {
      const asker = i % 2 === 0 ? a.id : b.id;
      if (asker === owner) expect(r.status).toBe('fulfilled');
      else expect(r.status === 'rejected' && (r.reason as AuthError).code).toBe('identity_in_use');
    });
  });

  describe('I3: the identity insert fails after the user insert', () => {
    let output: string[];
    let spies: jest.SpyInstance[];

    beforeEach(() => {
      output = [];
      const capture = (chunk: unknown): boolean => {
        output.push(String(chunk));
        return true;
      };
      spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    });

    afterEach(() => spies.forEach((s) => s.mockRestore()));

    it('rolls back the user (no orphan), answers internal_error (500) without the driver message, and a retry succeeds', async () => {
      const identity = googleIdentity(t, { email: 'fault-victim@example.com' });
      const before = await counts(t);
      // PostgreSQL writes a new user and its identity in one statement, which no subscriber sees:
      // the fault is a trigger there; elsewhere the subscriber between the two inserts.
      const postgres = t.dataSource.options.type === 'postgres';
      const faultsFired = postgres ? await installIdentityInsertFault(t.dataSource, 'fault-victim@example.com') : undefined;
      if (!postgres) fault.remaining = 1;

      const error = await linking.signIn(identity).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).getStatus()).toBe(500);
      expect((error as AuthError).body).toEqual({ statusCode: 500, error: 'internal_error', message: expect.any(String) });
      expect(JSON.stringify((error as AuthError).body)).not.toContain('fault-victim');
      if (faultsFired) expect(await faultsFired()).toBe(1);
      else expect(fault.remaining).toBe(0);
      expect(await counts(t)).toEqual(before);
      expect(await t.dataSource.getRepository(UserAccount).countBy({ email: 'fault-victim@example.com' })).toBe(0);

      const user = await linking.signIn(identity);
      expect(await counts(t)).toEqual({ users: before.users + 1, identities: before.identities + 1 });
      expect(await identitiesOf(t, user.id)).toHaveLength(1);

      const logged = output.join('');
      expect(logged).toContain('sign-in failed and was rolled back');
      expect(logged).not.toContain('fault-victim');
      expect(logged).not.toContain('injected fault');
    });

    it('a failing connect writes nothing and the retry links', async () => {
      const user = await linking.signIn(googleIdentity(t));
      const gh = googleIdentity(t, { provider: 'github', issuer: t.options.providers.github!.apiURL });
      fault.remaining = 1;
      expect(((await linking.link(user.id, gh).catch((e: unknown) => e)) as AuthError).code).toBe('internal_error');
      expect(await identitiesOf(t, user.id)).toHaveLength(1);
      await linking.link(user.id, gh);
      expect(await identitiesOf(t, user.id)).toHaveLength(2);
    });
  });
});
