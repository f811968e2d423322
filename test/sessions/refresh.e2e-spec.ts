import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AccessTokenService, AuditEvent, AuthSession, RefreshToken, SessionService, UserAccount } from '@nest-social-auth/core';
import { quietBackgroundWork, statementsOf, TRANSACTION_CONTROL } from '../support/sql-statements';
import { createTestApp, TestApp } from '../support/test-app';
import { createSessionsApp, SessionsApp } from './sessions-app';
import { AppUnderTest, cookieNames, cookieValue, createUser, refreshCookie, setCookies, shiftClock, signIn } from './session-fixtures';

/** POST /auth/refresh with the refresh cookie, from the app's own origin. */
function refreshWithCookie(t: AppUnderTest, token: string) {
  return t.http.post('/auth/refresh').set('Origin', t.url).set('Cookie', refreshCookie(t, token));
}

/** The successor refresh token a cookie refresh answered with. */
function successorOf(t: AppUnderTest, res: { headers: Record<string, unknown> }): string | undefined {
  return cookieValue(res, cookieNames(t).refresh);
}

async function tokensOf(t: AppUnderTest, sessionId: string): Promise<RefreshToken[]> {
  return t.dataSource.getRepository(RefreshToken).find({ where: { sessionId } });
}

async function sessionRow(t: AppUnderTest, sessionId: string): Promise<AuthSession> {
  return t.dataSource.getRepository(AuthSession).findOneByOrFail({ id: sessionId });
}

describe('refresh tokens on the demo app (threat model E1–E4, C9)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => jest.restoreAllMocks());
  beforeEach(() => quietBackgroundWork());

  it('rotates on every use: a new access token and a new refresh token, no-store, cookies replaced', async () => {
    const { tokens, userId } = await signIn(t);
    const res = await refreshWithCookie(t, tokens.refreshToken).expect(200);
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 600 });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    const successor = successorOf(t, res)!;
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(successor).not.toBe(tokens.refreshToken);
    expect(cookieValue(res, cookieNames(t).access)).toBe(res.body.accessToken);
    const me = await t.http.get('/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200);
    expect(me.body).toEqual({ id: userId, sessionId: tokens.sessionId });
    await refreshWithCookie(t, successor).expect(200);
  });

  it('a rotation costs two statements on PostgreSQL (token by hash, then one all-or-nothing rotation); a transaction elsewhere', async () => {
    const { tokens } = await signIn(t);
    const statements = await statementsOf(t.dataSource, () => refreshWithCookie(t, tokens.refreshToken).expect(200));
    const dialect = (process.env.DATABASE_URL ?? 'sqlite:').split(':')[0];
    if (dialect === 'postgres') {
      expect(statements).toHaveLength(2);
      expect(statements[1]).toMatch(/^WITH s AS \( UPDATE auth_sessions/);
    } else {
      expect(statements[0]).toMatch(TRANSACTION_CONTROL);
      expect(statements.at(-1)).toMatch(/^COMMIT/i);
    }
    expect(await tokensOf(t, tokens.sessionId)).toHaveLength(2);
  });

  it('issued access tokens live at most 15 minutes (exp - iat = accessTtl)', async () => {
    const { tokens } = await signIn(t);
    const payload = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1], 'base64url').toString());
    expect(payload.exp - payload.iat).toBe(600);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(900);
  });

  it('E1: replaying a rotated token after the retry window revokes the family', async () => {
    const clock = shiftClock(t);
    try {
      const { tokens } = await signIn(t);
      const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
      // Past tokens.refreshRetryWindow (300 s): not a retry of a lost answer any more, whatever rt2's state.
      clock.advance(301_000);
      const replay = await refreshWithCookie(t, tokens.refreshToken).expect(401);
      expect(replay.body).toEqual({ statusCode: 401, error: 'refresh_token_reused', message: expect.any(String) });
      const again = await refreshWithCookie(t, rt2).expect(401);
      expect(again.body.error).toBe('refresh_token_invalid');
      expect((await sessionRow(t, tokens.sessionId)).revokedReason).toBe('refresh_token_reused');
      // Revoked on this instance: the family's access tokens stop at once, not after the cache bound.
      await t.http.get('/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(401);
      expect((await tokensOf(t, tokens.sessionId)).every((r) => r.successorSealed === null)).toBe(true);
    } finally {
      clock.reset();
    }
  });

  it('grace: the immediate predecessor replayed within the window gets the same successor, and the chain goes on', async () => {
    const { tokens } = await signIn(t);
    const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
    const replay = await refreshWithCookie(t, tokens.refreshToken).expect(200);
    expect(successorOf(t, replay)).toBe(rt2);
    const rt3 = successorOf(t, await refreshWithCookie(t, rt2).expect(200))!;
    expect(rt3).not.toBe(rt2);
    await refreshWithCookie(t, rt3).expect(200);
    expect((await sessionRow(t, tokens.sessionId)).revokedAt).toBeNull();
  });

  it('grace covers only the immediate predecessor: a token two generations old is reuse, even within the window', async () => {
    const { tokens } = await signIn(t);
    const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
    await refreshWithCookie(t, rt2).expect(200);
    const replay = await refreshWithCookie(t, tokens.refreshToken).expect(401);
    expect(replay.body.error).toBe('refresh_token_reused');
    expect((await sessionRow(t, tokens.sessionId)).revokedReason).toBe('refresh_token_reused');
  });

  it('grace is not given once the successor itself was used', async () => {
    const { tokens } = await signIn(t);
    const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
    const rt3 = successorOf(t, await refreshWithCookie(t, rt2).expect(200))!;
    const replay = await refreshWithCookie(t, rt2).expect(200); // rt2 is rt3's immediate predecessor, rt3 unused
    expect(successorOf(t, replay)).toBe(rt3);
    await refreshWithCookie(t, rt3).expect(200);
    const late = await refreshWithCookie(t, rt2).expect(401);
    expect(late.body.error).toBe('refresh_token_reused');
  });

  it('E8: a lost answer retried after the grace window (rotation committed, answer never delivered) keeps the family', async () => {
    const clock = shiftClock(t);
    try {
      const { tokens } = await signIn(t);
      // The crash: the rotation commits, then the process dies before the answer leaves (here: the
      // access token cannot be signed after the commit, so the client gets no successor).
      jest.spyOn(t.app.get(AccessTokenService), 'sign').mockImplementationOnce(() => {
        throw new Error('process died after the commit');
      });
      const lost = await refreshWithCookie(t, tokens.refreshToken);
      expect(lost.status).toBe(500);
      expect(successorOf(t, lost)).toBeUndefined();
      const rows = await tokensOf(t, tokens.sessionId);
      expect(rows).toHaveLength(2);
      const undelivered = rows.find((r) => r.parentId !== null)!;
      expect(rows.find((r) => r.parentId === null)!.usedAt).not.toBeNull();
      // The client retries with the token it still has, after a restart longer than the grace window.
      clock.advance(8_000);
      const retry = await refreshWithCookie(t, tokens.refreshToken).expect(200);
      const fresh = successorOf(t, retry)!;
      expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fresh).not.toBe(tokens.refreshToken);
      expect((await sessionRow(t, tokens.sessionId)).revokedAt).toBeNull();
      await t.http.get('/me').set('Authorization', `Bearer ${retry.body.accessToken}`).expect(200);
      // The undelivered successor is dead (marked used, no successor of its own); a duplicate of the
      // retry within the grace window gets the same fresh successor; the chain goes on.
      const after = await tokensOf(t, tokens.sessionId);
      expect(after.find((r) => r.id === undelivered.id)!.usedAt).not.toBeNull();
      expect(after.filter((r) => r.usedAt === null)).toHaveLength(1);
      expect(successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))).toBe(fresh);
      const next = successorOf(t, await refreshWithCookie(t, fresh).expect(200))!;
      await refreshWithCookie(t, next).expect(200);
      expect((await sessionRow(t, tokens.sessionId)).revokedAt).toBeNull();
    } finally {
      clock.reset();
    }
  });

  it('E8: a replay past the grace window after the successor was used is reuse: the family is revoked', async () => {
    const clock = shiftClock(t);
    try {
      const { tokens } = await signIn(t);
      const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
      const rt3 = successorOf(t, await refreshWithCookie(t, rt2).expect(200))!;
      clock.advance(8_000);
      // rt2 is rt3's immediate predecessor but rt3 was used: no retry.
      await refreshWithCookie(t, rt3).expect(200);
      expect((await refreshWithCookie(t, rt2).expect(401)).body.error).toBe('refresh_token_reused');
      expect((await sessionRow(t, tokens.sessionId)).revokedReason).toBe('refresh_token_reused');
    } finally {
      clock.reset();
    }
  });

  it('E8: a thief replaying the predecessor within the retry window takes a fresh token, and the real client\'s next refresh revokes the family', async () => {
    const clock = shiftClock(t);
    try {
      const { tokens } = await signIn(t);
      // The real client rotated and holds rt2 (unused); a thief has the old token.
      const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
      clock.advance(60_000);
      const stolen = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
      expect(stolen).not.toBe(rt2);
      // The real client comes back: its token was replaced, so this is reuse, and nobody keeps the family.
      expect((await refreshWithCookie(t, rt2).expect(401)).body.error).toBe('refresh_token_reused');
      expect((await sessionRow(t, tokens.sessionId)).revokedReason).toBe('refresh_token_reused');
      expect((await refreshWithCookie(t, stolen).expect(401)).body.error).toBe('refresh_token_invalid');
    } finally {
      clock.reset();
    }
  });

  it('E2: 50 concurrent refreshes of one token leave exactly one successor chain', async () => {
    const { tokens } = await signIn(t);
    const answers = await Promise.all(Array.from({ length: 50 }, () => refreshWithCookie(t, tokens.refreshToken)));
    const ok = answers.filter((r) => r.status === 200);
    expect(answers.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
    const successors = new Set(ok.map((r) => successorOf(t, r)));
    expect(successors.size).toBe(1);
    // Within the grace window every duplicate is answered with that same successor.
    expect(ok).toHaveLength(50);
    const rows = await tokensOf(t, tokens.sessionId);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.usedAt === null)).toHaveLength(1);
    const [successor] = [...successors];
    expect(rows.find((r) => r.usedAt === null)!.tokenHash).toBe(sha256(successor!));
    await refreshWithCookie(t, successor!).expect(200);
  });

  it('E2: a failure between "mark used" and "insert successor" rolls back: the old token still works, no half state', async () => {
    const { tokens } = await signIn(t);
    const insert = EntityManager.prototype.insert;
    jest.spyOn(EntityManager.prototype, 'insert').mockImplementation(function (this: EntityManager, target: unknown, values: unknown) {
      if (target === RefreshToken && (values as RefreshToken).parentId) throw new Error('injected failure');
      return insert.call(this, target as never, values as never);
    });
    // The one-statement rotation (PostgreSQL) inserts the successor in SQL: fail that statement too.
    const query = DataSource.prototype.query;
    jest.spyOn(DataSource.prototype, 'query').mockImplementation(function (this: DataSource, sql: string, ...rest: unknown[]) {
      if (/INSERT INTO auth_refresh_tokens/.test(sql) && /UPDATE auth_sessions/.test(sql)) return Promise.reject(new Error('injected failure'));
      return query.call(this, sql, ...(rest as [])) as never;
    });
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const failed = await refreshWithCookie(t, tokens.refreshToken).expect(500);
    expect(failed.body).toEqual({ statusCode: 500, error: 'internal_error', message: expect.any(String) });
    // Threat model I4: the failure is logged without the token or the driver's message.
    expect(logged).toHaveBeenCalled();
    const lines = JSON.stringify(logged.mock.calls);
    expect(lines).not.toContain(tokens.refreshToken);
    expect(lines).not.toContain('injected failure');
    jest.restoreAllMocks();
    const rows = await tokensOf(t, tokens.sessionId);
    expect(rows).toHaveLength(1);
    expect(rows[0].usedAt).toBeNull();
    expect(rows[0].successorId).toBeNull();
    await refreshWithCookie(t, tokens.refreshToken).expect(200);
  });

  it('E3: a family idle past refreshIdleTtl is refused', async () => {
    const clock = shiftClock(t);
    try {
      const { tokens } = await signIn(t);
      clock.advance(14 * 24 * 3600 * 1000 + 1000);
      const res = await refreshWithCookie(t, tokens.refreshToken).expect(401);
      expect(res.body.error).toBe('refresh_token_invalid');
    } finally {
      clock.reset();
    }
  });

  it('E4: only a SHA-256 of the 256-bit token is stored, with the family and parent links', async () => {
    const { tokens } = await signIn(t);
    const rt2 = successorOf(t, await refreshWithCookie(t, tokens.refreshToken).expect(200))!;
    expect(Buffer.from(tokens.refreshToken, 'base64url')).toHaveLength(32);
    const rows = await tokensOf(t, tokens.sessionId);
    const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM auth_refresh_tokens'));
    expect(dump).not.toContain(tokens.refreshToken);
    expect(dump).not.toContain(rt2);
    const first = rows.find((r) => r.tokenHash === sha256(tokens.refreshToken))!;
    const second = rows.find((r) => r.tokenHash === sha256(rt2))!;
    expect(first.parentId).toBeNull();
    expect(second.parentId).toBe(first.id);
    expect(first.successorId).toBe(second.id);
    // The grace-window copy of the successor is sealed, not stored in clear.
    expect(first.successorSealed).not.toBeNull();
    expect(first.successorSealed).not.toContain(rt2);
  });

  it('refuses unknown, malformed and absent refresh tokens with refresh_token_invalid and clears the cookies', async () => {
    for (const token of ['A'.repeat(43), 'short', 'x'.repeat(600), '%00%ff']) {
      const res = await refreshWithCookie(t, token).expect(401);
      expect(res.body.error).toBe('refresh_token_invalid');
      expect(setCookies(res).some((c) => c.startsWith(`${cookieNames(t).refresh}=;`) && /Max-Age=0/.test(c))).toBe(true);
    }
    const none = await t.http.post('/auth/refresh').set('Origin', t.url).expect(401);
    expect(none.body.error).toBe('refresh_token_invalid');
  });

  it('an access token is not a refresh token (D4)', async () => {
    const { tokens } = await signIn(t);
    await refreshWithCookie(t, tokens.accessToken).expect(401);
    const body = await t.http.post('/auth/refresh').send({ refreshToken: tokens.accessToken }).expect(401);
    expect(body.body.error).toBe('refresh_token_invalid');
  });

  it('C9: a disabled user gets no session, and their existing family is revoked on its next refresh', async () => {
    const disabled = await createUser(t, { disabled: true });
    await expect(t.app.get(SessionService).open(disabled, {})).rejects.toMatchObject({ code: 'account_disabled' });
    await expect(t.app.get(SessionService).open('no-such-user', {})).rejects.toMatchObject({ code: 'account_disabled' });
    expect(await t.dataSource.getRepository(AuthSession).countBy({ userId: disabled })).toBe(0);

    const { tokens, userId } = await signIn(t);
    await t.dataSource.getRepository(UserAccount).update({ id: userId }, { disabled: true });
    const res = await refreshWithCookie(t, tokens.refreshToken).expect(403);
    expect(res.body.error).toBe('account_disabled');
    expect((await sessionRow(t, tokens.sessionId)).revokedReason).toBe('account_disabled');
    await t.dataSource.getRepository(UserAccount).update({ id: userId }, { disabled: false });
    await refreshWithCookie(t, tokens.refreshToken).expect(401);
  });

  describe('JSON body form (native apps)', () => {
    it('rotates without cookies and without an Origin, answering the successor in the body', async () => {
      const { tokens } = await signIn(t);
      const res = await t.http.post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
      expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 600, refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      await t.http.post('/auth/refresh').send({ refreshToken: res.body.refreshToken }).expect(200);
    });

    it.each([
      ['a number', { refreshToken: 123 }],
      ['an array', { refreshToken: ['a', 'b'] }],
      ['an unknown field', { refreshToken: 'x', admin: true }],
    ])('answers 400 invalid_request for %s', async (_name, body) => {
      const res = await t.http.post('/auth/refresh').send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'invalid_request', message: expect.any(String) });
    });

    it('refuses a form-encoded token (a cross-site HTML form could send it and plant a session)', async () => {
      const { tokens } = await signIn(t);
      const res = await t.http.post('/auth/refresh').type('form').send({ refreshToken: tokens.refreshToken }).expect(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });
});

describe('refresh tokens with options the demo does not expose', () => {
  let s: SessionsApp;

  afterEach(async () => {
    await s?.close();
  });

  it('E2 without a grace window: of 50 concurrent refreshes at most one succeeds, and duplicates revoke the family', async () => {
    s = await createSessionsApp({ tokens: { refreshReuseGrace: 0 } as never, linking: { audit: true } });
    const { tokens } = await signIn(s);
    const answers = await Promise.all(Array.from({ length: 50 }, () => refreshWithCookie(s, tokens.refreshToken)));
    expect(answers.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    // The first duplicate is detected as reuse; the rest find the family already revoked.
    const refused = answers.filter((r) => r.status === 401).map((r) => r.body.error as string);
    expect(refused.length).toBeGreaterThanOrEqual(49);
    expect(refused).toContain('refresh_token_reused');
    expect(refused.every((code) => code === 'refresh_token_reused' || code === 'refresh_token_invalid')).toBe(true);
    const rows = await tokensOf(s, tokens.sessionId);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.every((r) => r.successorSealed === null)).toBe(true);
    expect((await sessionRow(s, tokens.sessionId)).revokedReason).toBe('refresh_token_reused');
    for (const r of ok) await refreshWithCookie(s, successorOf(s, r)!).expect(401);
    // E1: the reuse is audited (without any token in the row).
    const events = await s.dataSource.getRepository(AuditEvent).findBy({ type: 'refresh_token_reused' });
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(events)).not.toContain(tokens.refreshToken);
  });

  it('E3: refreshing every 5 minutes does not outlive the absolute lifetime', async () => {
    s = await createSessionsApp({ tokens: { refreshIdleTtl: 600, refreshAbsoluteTtl: 3600 } as never });
    const clock = shiftClock(s);
    try {
      const { tokens } = await signIn(s);
      let current = tokens.refreshToken;
      for (let elapsed = 300; elapsed < 3600; elapsed += 300) {
        clock.advance(300_000);
        current = successorOf(s, await refreshWithCookie(s, current).expect(200))!;
      }
      clock.advance(300_000);
      const res = await refreshWithCookie(s, current).expect(401);
      expect(res.body.error).toBe('refresh_token_invalid');
    } finally {
      clock.reset();
    }
  });

  it('E3: the refresh cookie expires with the family (idle, capped by absolute)', async () => {
    s = await createSessionsApp({ tokens: { refreshIdleTtl: 600, refreshAbsoluteTtl: 3600 } as never });
    const { tokens } = await signIn(s);
    const res = await refreshWithCookie(s, tokens.refreshToken).expect(200);
    const line = setCookies(res).find((c) => c.startsWith(`${cookieNames(s).refresh}=`))!;
    const maxAge = Number(/Max-Age=(\d+)/.exec(line)![1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);
  });
});

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
