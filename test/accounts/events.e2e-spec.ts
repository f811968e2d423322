import {
  AccountLinkingService,
  AccountService,
  AUTH_EVENTS,
  AuditEvent,
  AuthEvent,
  AuthEvents,
  IdentityLinkedEvent,
  SessionService,
  SignInFailedEvent,
  SignInSucceededEvent,
  UserCreatedEvent,
} from '@nest-social-auth/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AccountsApp, bearer, githubIdentity, googleIdentity, setPolicy, startAccountsApp } from './support/accounts-fixture';

/** Domain events through the demo's EventEmitterModule, and the audit table behind `linking.audit`. */
describe('accounts: domain events and the audit table', () => {
  let t: AccountsApp;
  let linking: AccountLinkingService;
  let received: AuthEvent[];
  const listener = (event: AuthEvent) => received.push(event);

  beforeAll(async () => {
    t = await startAccountsApp();
    linking = t.app.get(AccountLinkingService);
    t.app.get(EventEmitter2).onAny((_name: string | string[], event: unknown) => {
      if (event instanceof AuthEvent) listener(event);
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    setPolicy(t);
    received = [];
    await t.dataSource.getRepository(AuditEvent).clear();
  });

  const names = () => received.map((e) => e.name);
  const audit = () => t.dataSource.getRepository(AuditEvent).find({ order: { createdAt: 'ASC' } });

  it('a first sign-in emits user created, identity linked (sign-up), sign-in succeeded, in that order, after commit', async () => {
    const identity = googleIdentity(t, { email: 'events@example.com' });
    const user = await linking.signIn(identity, { ip: '203.0.113.7', userAgent: 'jest' });
    expect(names()).toEqual([AUTH_EVENTS.userCreated, AUTH_EVENTS.identityLinked, AUTH_EVENTS.signInSucceeded]);
    const [created, linked, succeeded] = received as [UserCreatedEvent, IdentityLinkedEvent, SignInSucceededEvent];
    expect(created).toMatchObject({ userId: user.id, provider: 'google', context: { ip: '203.0.113.7', userAgent: 'jest' } });
    expect(linked).toMatchObject({ userId: user.id, provider: 'google', method: 'sign-up', identityId: expect.any(String) });
    expect(succeeded).toMatchObject({ userId: user.id, provider: 'google', newUser: true });

    received = [];
    await linking.signIn(identity);
    expect(names()).toEqual([AUTH_EVENTS.signInSucceeded]);
    expect((received[0] as SignInSucceededEvent).newUser).toBe(false);
  });

  it('connect, trusted-email link, disconnect, disable and enable each emit their event', async () => {
    const user = await linking.signIn(googleIdentity(t, { email: 'events-2@example.com' }));
    received = [];
    await linking.link(user.id, githubIdentity(t));
    expect(received).toEqual([expect.objectContaining({ name: AUTH_EVENTS.identityLinked, method: 'connect', userId: user.id, provider: 'github' })]);

    received = [];
    setPolicy(t, { trustGithubEmail: true });
    await linking.signIn(githubIdentity(t, { email: 'events-2@example.com' }));
    expect(received).toEqual([
      expect.objectContaining({ name: AUTH_EVENTS.identityLinked, method: 'email', userId: user.id }),
      expect.objectContaining({ name: AUTH_EVENTS.signInSucceeded, newUser: false, userId: user.id }),
    ]);

    received = [];
    const viaGithub = await t.app.get(SessionService).open(user.id, { provider: 'github' });
    await t.http.delete('/auth/identities/github').set('Authorization', await bearer(t, user.id)).expect(204);
    expect(received).toEqual([
      expect.objectContaining({ name: AUTH_EVENTS.identityUnlinked, userId: user.id, provider: 'github', identityIds: expect.arrayContaining([expect.any(String)]), revokedSessionIds: [viaGithub.sessionId] }),
    ]);
    expect((received[0] as unknown as { identityIds: string[] }).identityIds).toHaveLength(2);

    received = [];
    await t.app.get(AccountService).disable(user.id);
    await t.app.get(AccountService).enable(user.id);
    expect(names()).toEqual([AUTH_EVENTS.accountDisabled, AUTH_EVENTS.accountEnabled]);
  });

  it('refusals and rolled-back failures emit nothing from the linking service (the callback reports failures)', async () => {
    await linking.signIn(googleIdentity(t, { email: 'taken@example.com' }));
    received = [];
    await expect(linking.signIn(googleIdentity(t, { email: 'taken@example.com' }))).rejects.toMatchObject({ code: 'account_exists' });
    expect(received).toEqual([]);
  });

  it('AuthEvents.signInFailed: keeps only a configured provider id and a known error code', async () => {
    const events = t.app.get(AuthEvents);
    await events.signInFailed('github', 'account_exists', { ip: '198.51.100.1' });
    await events.signInFailed('<script>alert(1)</script>', 'invalid_state');
    await events.signInFailed('google', 'code=4/0Adeu5BW-secret-looking-value');
    expect(received.map((e) => [(e as SignInFailedEvent).provider, (e as SignInFailedEvent).code])).toEqual([
      ['github', 'account_exists'],
      [null, 'invalid_state'],
      ['google', 'internal_error'],
    ]);
  });

  it('no event carries an email', async () => {
    const user = await linking.signIn(googleIdentity(t, { email: 'private@example.com' }));
    await linking.link(user.id, githubIdentity(t, { email: 'private-gh@example.com' }));
    await t.app.get(AuthEvents).signInFailed('google', 'account_exists', { userId: user.id });
    expect(received.length).toBeGreaterThan(3);
    for (const event of received) expect(JSON.stringify(event)).not.toContain('@');
  });

  describe('audit table (linking.audit)', () => {
    it('off (default): nothing is written', async () => {
      await linking.signIn(googleIdentity(t));
      await t.app.get(AuthEvents).signInFailed('google', 'invalid_state');
      expect(await audit()).toEqual([]);
    });

    it('on: one row per event with ids, provider, code and IP only — never an email or a token', async () => {
      setPolicy(t, { audit: true });
      const user = await linking.signIn(googleIdentity(t, { email: 'audited@example.com' }), { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 secret-ua' });
      await linking.link(user.id, githubIdentity(t, { email: 'audited-gh@example.com' }));
      await t.app.get(AuthEvents).signInFailed('github', 'identity_in_use', { userId: user.id, ip: '203.0.113.9' });
      await t.app.get(AuthEvents).signInFailed('evil-provider', 'not-a-code');

      const rows = await audit();
      // Rows of one operation share a millisecond, so compare without relying on their order.
      expect(rows).toHaveLength(6);
      expect(rows.map((r) => ({ type: r.type, userId: r.userId, provider: r.provider, code: r.code, ip: r.ip }))).toEqual(expect.arrayContaining([
        { type: AUTH_EVENTS.userCreated, userId: user.id, provider: 'google', code: null, ip: '203.0.113.9' },
        { type: AUTH_EVENTS.identityLinked, userId: user.id, provider: 'google', code: 'linked_by_sign_up', ip: '203.0.113.9' },
        { type: AUTH_EVENTS.signInSucceeded, userId: user.id, provider: 'google', code: null, ip: '203.0.113.9' },
        { type: AUTH_EVENTS.identityLinked, userId: user.id, provider: 'github', code: 'linked_by_connect', ip: null },
        { type: AUTH_EVENTS.signInFailed, userId: user.id, provider: 'github', code: 'identity_in_use', ip: '203.0.113.9' },
        { type: AUTH_EVENTS.signInFailed, userId: null, provider: null, code: 'internal_error', ip: null },
      ]));
      const everything = JSON.stringify(rows);
      expect(everything).not.toContain('@');
      expect(everything).not.toContain('secret-ua');
      expect(everything).not.toContain('evil-provider');
    });

    it('a failing audit insert never fails the sign-in', async () => {
      setPolicy(t, { audit: true });
      const repo = t.dataSource.getRepository(AuditEvent);
      const table = repo.metadata.tableName;
      const runner = t.dataSource.createQueryRunner();
      const logged: string[] = [];
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => logged.push(String(chunk)) > 0);
      await runner.renameTable(table, `${table}_away`);
      try {
        const user = await linking.signIn(googleIdentity(t, { email: 'audit-down@example.com' }));
        expect(user.id).toEqual(expect.any(String));
        expect(names()).toContain(AUTH_EVENTS.signInSucceeded);
        expect(logged.join('')).toContain('were not written');
        expect(logged.join('')).not.toContain('audit-down');
      } finally {
        stderr.mockRestore();
        await runner.renameTable(`${table}_away`, table);
        await runner.release();
      }
    });
  });
});
