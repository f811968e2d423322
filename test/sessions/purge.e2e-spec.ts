import { In } from 'typeorm';
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
});
