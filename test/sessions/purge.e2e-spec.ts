import { In, QueryRunner } from 'typeorm';
import { AuthSession, RefreshToken, SessionService } from '@nest-social-auth/core';
import { createSessionsApp, SessionsApp } from './sessions-app';
import { cookieNames, cookieValue, refreshCookie, shiftClock, signIn } from './session-fixtures';

const DAY = 24 * 3600;

/**
 * Ended sessions do not pile up: `SessionService.purgeEnded` deletes sessions that expired or were
 * revoked more than `tokens.endedSessionRetention` ago, with their refresh tokens, and nothing else;
 * each instance runs it on its own at most every `tokens.purgeInterval` seconds.
 */
describe('purging ended sessions', () => {
  let s: SessionsApp;

  beforeAll(async () => {
    s = await createSessionsApp({ tokens: { secret: 'purge-secret-purge-secret-purge-secret-0123', refreshIdleTtl: 2 * DAY, refreshAbsoluteTtl: 10 * DAY, endedSessionRetention: DAY, purgeInterval: 0 } });
  });

  afterAll(async () => {
    await s?.close();
  });

  afterEach(() => jest.restoreAllMocks());

  const sessions = () => s.app.get(SessionService);
  const exists = async (ids: string[]) => (await s.dataSource.getRepository(AuthSession).findBy({ id: In(ids) })).map((row) => row.id).sort();
  const tokenRows = async (ids: string[]) => s.dataSource.getRepository(RefreshToken).countBy({ sessionId: In(ids) });
  const refresh = (token: string) => s.http.post('/auth/refresh').set('Origin', s.url).set('Cookie', refreshCookie(s, token));

  it('deletes sessions ended longer ago than the retention, with their tokens, and keeps everything else', async () => {
    const clock = shiftClock(s);
    // Ended two days and more before the purge's cutoff: one revoked, one idle-expired (idle TTL 2 days).
    const revokedOld = await signIn(s);
    await sessions().revoke(revokedOld.tokens.sessionId, 'logout');
    const idleOld = await signIn(s);
    clock.advance(4 * DAY * 1000);
    // Live, rotated once; and one revoked an hour before the purge, within the 1-day retention.
    const live = await signIn(s);
    const rotated = await refresh(live.tokens.refreshToken).expect(200);
    const successor = cookieValue(rotated, cookieNames(s).refresh)!;
    const revokedRecently = await signIn(s);
    await sessions().revoke(revokedRecently.tokens.sessionId, 'logout');
    clock.advance(3600 * 1000);

    const all = [revokedOld, idleOld, live, revokedRecently].map((x) => x.tokens.sessionId);
    expect(await tokenRows([live.tokens.sessionId])).toBe(2);
    expect(await sessions().purgeEnded()).toBe(2);
    expect(await exists(all)).toEqual([live.tokens.sessionId, revokedRecently.tokens.sessionId].sort());
    expect(await tokenRows([revokedOld.tokens.sessionId, idleOld.tokens.sessionId])).toBe(0);
    // The live session keeps its whole chain (reuse detection needs the used token) and still refreshes.
    expect(await tokenRows([live.tokens.sessionId])).toBe(2);
    await refresh(successor).expect(200);
    // A purged session's refresh token is now unknown: refused as invalid, nothing revived.
    expect((await refresh(idleOld.tokens.refreshToken).expect(401)).body.error).toBe('refresh_token_invalid');
    expect(await sessions().purgeEnded()).toBe(0);
    clock.reset();
  });

  it('works through a backlog larger than one batch', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 520; i++) {
      const { tokens } = await signIn(s);
      ids.push(tokens.sessionId);
    }
    await s.dataSource.getRepository(AuthSession).update({ id: In(ids) }, { revokedAt: new Date(Date.now() - 2 * DAY * 1000), revokedReason: 'logout' });
    expect(await sessions().purgeEnded()).toBe(520);
    expect(await exists(ids)).toEqual([]);
    expect(await tokenRows(ids)).toBe(0);
  });

  it('runs on its own when a session opens, at most once per purgeInterval', async () => {
    const own = await createSessionsApp({ tokens: { secret: 'purge-secret-purge-secret-purge-secret-0123', purgeInterval: 3600 } });
    try {
      const purge = jest.spyOn(own.app.get(SessionService), 'purgeEnded');
      await signIn(own);
      await signIn(own);
      expect(purge).toHaveBeenCalledTimes(1);
      await purge.mock.results[0].value;
      const clock = shiftClock(own);
      clock.advance(3601 * 1000);
      await signIn(own);
      expect(purge).toHaveBeenCalledTimes(2);
      await purge.mock.results[1].value;
      clock.reset();
    } finally {
      await own.close();
    }
  });
  it('the scan for ended sessions goes through indexes, not the whole table (migration 1796000000002)', async () => {
    // The purge's SELECT, as sent, with its parameters.
    const runner = s.dataSource.createQueryRunner();
    const proto = Object.getPrototypeOf(runner) as QueryRunner;
    await runner.release();
    const query = proto.query;
    let scan: { sql: string; params: unknown[] } | undefined;
    jest.spyOn(proto, 'query').mockImplementation(function (this: QueryRunner, sql: string, params?: unknown, ...rest: unknown[]) {
      if (/^\s*SELECT\b[\s\S]*\bauth_sessions\b/i.test(sql) && /_at\S* < /.test(sql)) scan ??= { sql, params: Array.isArray(params) ? params : [] };
      return (query as (...a: unknown[]) => Promise<unknown>).call(this, sql, params, ...rest) as never;
    });
    await sessions().purgeEnded();
    jest.restoreAllMocks();
    expect(scan).toBeDefined();
    const plan = await explain(scan!.sql, scan!.params);
    // Each term of the OR reads its own index: both must be usable, and no term may force a table scan.
    expect(plan).toContain('IDX_auth_sessions_revoked');
    expect(plan).toContain('IDX_auth_sessions_idle_expires');
  });

  /** The plan of `sql`, as text, with the planner told to avoid full scans where it can be (a test table is tiny). */
  async function explain(sql: string, params: unknown[]): Promise<string> {
    const runner = s.dataSource.createQueryRunner();
    try {
      switch (s.database.kind) {
        case 'sqlite':
          return JSON.stringify(await runner.query(`EXPLAIN QUERY PLAN ${sql}`, params));
        case 'postgres':
          await runner.startTransaction();
          try {
            await runner.query('SET LOCAL enable_seqscan = off');
            return JSON.stringify(await runner.query(`EXPLAIN ${sql}`, params));
          } finally {
            await runner.rollbackTransaction();
          }
        default:
          // MariaDB may still pick a scan for a tiny table; `possible_keys` names the indexes it could use.
          return JSON.stringify((await runner.query(`EXPLAIN ${sql}`, params)).map((row: { possible_keys: string | null; key: string | null }) => [row.possible_keys, row.key]));
      }
    } finally {
      await runner.release();
    }
  }
});
