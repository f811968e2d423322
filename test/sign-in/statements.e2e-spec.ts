import { AccountService } from '@nest-social-auth/core';
import { githubUsers, googleUsers } from '@nest-social-auth/testing';
import { quietBackgroundWork, statementsOf, TRANSACTION_CONTROL } from '../support/sql-statements';
import { expectRefused, expectSignedIn } from './support/refusals';
import { useSignInApp } from './support/sign-in-app';

/**
 * The database work of one sign-in, counted statement by statement (BENCHMARKS.md target: a returning user's
 * sign-in in at most 3 statements on PostgreSQL), and proof that the short path writes what the
 * transactional one did, and nothing when it refuses.
 */
describe('sign-in: statements a returning and a new user cost', () => {
  const dialect = (process.env.DATABASE_URL ?? 'sqlite:').split(':')[0];

  const app = useSignInApp();
  beforeEach(() => quietBackgroundWork());

  async function identityRow(provider: string, subject: string): Promise<Record<string, unknown>> {
    const rows = (await app().t.dataSource.query(
      dialect === 'postgres'
        ? 'SELECT email, display_name, last_login_at FROM auth_identities WHERE provider = $1 AND subject = $2'
        : 'SELECT email, display_name, last_login_at FROM auth_identities WHERE provider = ? AND subject = ?',
      [provider, subject],
    )) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it.each([
    ['google', () => app().google.signInAs(googleUsers.alice()), () => app().google.signInAs(googleUsers.alice({ email: 'alice@new.example', name: 'Alice Renamed' })), googleUsers.alice().sub],
    ['github', () => app().github.signInAs(githubUsers.octo()), () => app().github.signInAs(githubUsers.octo({ name: 'Octo Renamed' })), String(githubUsers.octo().id)],
  ] as const)('%s: a returning sign-in refreshes the identity, opens one session, and costs the documented statements', async (provider, first, renamed, subject) => {
    first();
    expectSignedIn((await app().browser().signIn(provider)).callback);
    const before = await app().rows();
    const touched = new Date((await identityRow(provider, subject)).last_login_at as string).getTime();

    renamed();
    const browser = app().browser();
    const statements = await statementsOf(app().t.dataSource, async () => expectSignedIn((await browser.signIn(provider)).callback));

    expect(await app().rows()).toEqual({ users: before.users, identities: before.identities, sessions: before.sessions + 1 });
    const row = await identityRow(provider, subject);
    expect(row.display_name).toMatch(/Renamed/);
    expect(new Date(row.last_login_at as string).getTime()).toBeGreaterThanOrEqual(touched);
    expect((await browser.get('/me')).status).toBe(200);

    const data = statements.filter((s) => !TRANSACTION_CONTROL.test(s));
    // PostgreSQL: the single-use marker, the identity refreshed with its user returned, the session
    // with its first refresh token. MariaDB runs the same work in transactions (it has no
    // UPDATE … RETURNING); SQLite also wraps the marker (one shared connection) and TypeORM
    // re-reads each inserted row's created_at there.
    const expected = { postgres: [3, 3], mysql: [10, 6], sqlite: [14, 8] }[dialect as 'postgres' | 'mysql' | 'sqlite'];
    expect([statements.length, data.length]).toEqual(expected);
    expect(statements.some((s) => /auth_single_use/.test(s))).toBe(true);
  });

  it.each([
    // Fresh subjects and emails: an email shared with an existing account would be a link or a refusal, not a sign-up.
    ['google', () => app().google.signInAs(googleUsers.alice({ sub: '100000000000000000777', email: 'newcomer@example.com' }))],
    ['github', () => app().github.signInAs(githubUsers.octo({ id: 7777, login: 'newcomer', email: 'newcomer@example.org', emails: [{ email: 'newcomer@example.org', primary: true, verified: true, visibility: 'public' }] }))],
  ] as const)('%s: a new user\'s first sign-in creates one user, one identity and one session in the documented statements', async (provider, as) => {
    as();
    const before = await app().rows();
    const browser = app().browser();
    const statements = await statementsOf(app().t.dataSource, async () => expectSignedIn((await browser.signIn(provider)).callback));

    expect(await app().rows()).toEqual({ users: before.users + 1, identities: before.identities + 1, sessions: before.sessions + 1 });
    expect((await browser.get('/me')).status).toBe(200);
    const data = statements.filter((s) => !TRANSACTION_CONTROL.test(s));
    // PostgreSQL (BENCHMARKS.md target: at most 5): the single-use marker, the returning-user
    // statement (finds nothing), the policy's facts in one read, the user with its identity in one
    // statement, the session with its first refresh token. MariaDB and SQLite run the linking
    // transaction (identity, email match, user, identity) instead.
    const expected = { postgres: [5, 5], mysql: [11, 7], sqlite: [17, 11] }[dialect as 'postgres' | 'mysql' | 'sqlite'];
    expect([statements.length, data.length]).toEqual(expected);
  });

  it('a returning user who was disabled is refused by the short path with nothing written', async () => {
    app().google.signInAs(googleUsers.dana());
    const browser = app().browser();
    expectSignedIn((await browser.signIn('google')).callback);
    const me = (await browser.get('/me')).body as { id: string };
    await app().t.app.get(AccountService).disable(me.id);
    const identity = await identityRow('google', googleUsers.dana().sub);
    const before = await app().rows();

    app().google.signInAs(googleUsers.dana({ name: 'Dana Renamed' }));
    expectRefused((await app().browser().signIn('google')).callback, 'account_disabled');
    expect(await app().rows()).toEqual(before);
    expect(await identityRow('google', googleUsers.dana().sub)).toEqual(identity);
  });
});
