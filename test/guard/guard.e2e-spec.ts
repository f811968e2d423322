import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AUTH_OPTIONS, AuthSession, SessionService, deriveKey } from '@nest-social-auth/core';
import { createTestApp, TestApp } from '../support/test-app';
import { createSessionsApp, SessionsApp } from '../sessions/sessions-app';
import { accessCookie, shiftClock, signIn } from '../sessions/session-fixtures';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** GET `path` with raw header lines (so a header can be sent twice). */
function rawGet(url: string, path: string, headers: Array<[string, string]>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const grouped: Record<string, string[]> = {};
    for (const [name, value] of headers) (grouped[name] ??= []).push(value);
    const req = httpRequest(`${url}${path}`, { method: 'GET', headers: grouped }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the global guard on the demo app (threat model D1–D5)', () => {
  let t: TestApp;
  let hsKey: Buffer;
  let kid: string;
  let claims: (over?: Record<string, unknown>) => Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestApp();
    const options = t.app.get(AUTH_OPTIONS);
    hsKey = deriveKey(options, 'social-auth/access-token');
    const { tokens, userId } = await signIn(t);
    kid = JSON.parse(Buffer.from(tokens.accessToken.split('.')[0], 'base64url').toString()).kid;
    const now = Math.floor(Date.now() / 1000);
    claims = (over = {}) => ({ sub: userId, sid: tokens.sessionId, iat: now, exp: now + 600, iss: options.tokens.issuer, aud: options.tokens.audience, jti: 'j', ...over });
  });

  afterAll(async () => {
    await t?.close();
  });

  const me = (authorization: string) => t.http.get('/me').set('Authorization', authorization);
  const mac = (key: Buffer | string, header: unknown, payload: unknown) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };

  it('accepts a hand-forged control token MACed with the derived key (so each refusal below is about one change)', async () => {
    await me(`Bearer ${mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid }, claims())}`).expect(200);
  });

  it.each([
    ['alg none', () => `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims())}.`],
    ['RS256 with our kid', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid })}.${b64(claims())}`;
      return `${input}.${createSign('sha256').update(input).sign(privateKey).toString('base64url')}`;
    }],
    ['kid path traversal', () => mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid: '../../../../dev/null' }, claims())],
    ['kid with SQL', () => mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid: "' OR 1=1 --" }, claims())],
    ['jku pointing at an attacker', () => mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid, jku: 'https://evil.test/jwks' }, claims())],
    ['MAC with the raw AUTH_JWT_SECRET', () => mac(t.config.jwtSecret!, { alg: 'HS256', typ: 'at+jwt', kid }, claims())],
  ])('D1: refuses %s', async (_name, token) => {
    const res = await me(`Bearer ${token()}`).expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'unauthorized', message: expect.any(String) });
  });

  it('D2: refuses a payload changed after signing, a stripped signature, duplicate members', async () => {
    const [h, , s] = mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid }, claims()).split('.');
    await me(`Bearer ${h}.${b64(claims({ sub: 'someone-else' }))}.${s}`).expect(401);
    await me(`Bearer ${h}.${b64(claims())}.`).expect(401);
    const dup = JSON.stringify(claims()).replace(/^\{/, '{"sub":"someone-else",');
    await me(`Bearer ${mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid }, dup)}`).expect(401);
  });

  it('D3: refuses expired (token_expired), nbf-future, iat-future and over-long tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'HS256', typ: 'at+jwt', kid };
    expect((await me(`Bearer ${mac(hsKey, header, claims({ iat: now - 700, exp: now - 60 }))}`).expect(401)).body.error).toBe('token_expired');
    await me(`Bearer ${mac(hsKey, header, claims({ exp: undefined }))}`).expect(401);
    await me(`Bearer ${mac(hsKey, header, claims({ nbf: now + 120 }))}`).expect(401);
    await me(`Bearer ${mac(hsKey, header, claims({ iat: now + 3600, exp: now + 3900 }))}`).expect(401);
    await me(`Bearer ${mac(hsKey, header, claims({ exp: now + 3600 }))}`).expect(401);
  });

  it('D3: a real token expires after accessTtl on the app clock', async () => {
    const { tokens } = await signIn(t);
    const clock = shiftClock(t);
    try {
      clock.advance(611_000);
      expect((await me(`Bearer ${tokens.accessToken}`).expect(401)).body.error).toBe('token_expired');
    } finally {
      clock.reset();
    }
  });

  it('D4: refuses wrong typ, iss or aud, a refresh token, and a token MACed with the transaction key', async () => {
    const { tokens } = await signIn(t);
    await me(`Bearer ${mac(hsKey, { alg: 'HS256', typ: 'JWT', kid }, claims())}`).expect(401);
    await me(`Bearer ${mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid }, claims({ iss: 'https://other.test' }))}`).expect(401);
    await me(`Bearer ${mac(hsKey, { alg: 'HS256', typ: 'at+jwt', kid }, claims({ aud: 'https://other.test' }))}`).expect(401);
    await me(`Bearer ${tokens.refreshToken}`).expect(401);
    const tx = deriveKey(t.app.get(AUTH_OPTIONS), 'social-auth/transaction');
    await me(`Bearer ${mac(tx, { alg: 'HS256', typ: 'at+jwt', kid }, claims())}`).expect(401);
  });

  it.each([
    ['empty bearer', 'Bearer '],
    ['bearer without a space', 'Bearerabc.def.ghi'],
    ['two segments', 'Bearer abc.def'],
    ['bad base64', 'Bearer @@@.###.$$$'],
    ['8 kB token', `Bearer ${'a'.repeat(4000)}.${'b'.repeat(4000)}.c`],
    ['Basic credentials', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('D5: %s answers 401, never 500', async (_name, authorization) => {
    await me(authorization).expect(401);
  });

  it('D5: a 16 kB header is refused before it reaches the app, never with a 500', async () => {
    const res = await me(`Bearer ${'a'.repeat(8000)}.${'b'.repeat(8000)}.c`);
    expect([401, 431]).toContain(res.status);
  });

  it('D5: the Bearer scheme is case-insensitive (RFC 9110 §11.1), as documented', async () => {
    const { tokens } = await signIn(t);
    await me(`bearer ${tokens.accessToken}`).expect(200);
    await me(`BEARER ${tokens.accessToken}`).expect(200);
  });

  it('D5: two Authorization headers are ambiguous (Node would keep only the first)', async () => {
    const { tokens } = await signIn(t);
    const res = await rawGet(t.url, '/me', [['Authorization', `Bearer ${tokens.accessToken}`], ['Authorization', 'Bearer x.y.z']]);
    expect(res.status).toBe(401);
    const ok = await rawGet(t.url, '/me', [['Authorization', `Bearer ${tokens.accessToken}`]]);
    expect(ok.status).toBe(200);
  });

  it('D5: an access cookie for user A with a bearer for user B is refused; the same token in both is fine', async () => {
    const a = await signIn(t);
    const b = await signIn(t);
    await t.http.get('/me').set('Cookie', accessCookie(t, a.tokens.accessToken)).set('Authorization', `Bearer ${b.tokens.accessToken}`).expect(401);
    await t.http.get('/me').set('Cookie', accessCookie(t, a.tokens.accessToken)).set('Authorization', `Bearer ${a.tokens.accessToken}`).expect(200);
    const cookieOnly = await t.http.get('/me').set('Cookie', accessCookie(t, a.tokens.accessToken)).expect(200);
    expect(cookieOnly.body.id).toBe(a.userId);
  });

  it('D5 / F2: the access cookie sent twice, or with malformed percent-encoding, is refused', async () => {
    const a = await signIn(t);
    await t.http.get('/me').set('Cookie', `${accessCookie(t, a.tokens.accessToken)}; ${accessCookie(t, 'x.y.z')}`).expect(401);
    await t.http.get('/me').set('Cookie', `${accessCookie(t, a.tokens.accessToken)}; ${accessCookie(t, a.tokens.accessToken)}`).expect(401);
    await t.http.get('/me').set('Cookie', accessCookie(t, '%E0%A4%A')).expect(401);
  });

  describe('revocation the guard sees', () => {
    it('a session revoked on this instance is refused at once', async () => {
      const { tokens } = await signIn(t);
      await me(`Bearer ${tokens.accessToken}`).expect(200);
      await t.app.get(SessionService).revoke(tokens.sessionId, 'logout');
      await me(`Bearer ${tokens.accessToken}`).expect(401);
    });

    it('a session revoked elsewhere (another instance) is refused within tokens.revocationCacheTtl (5 s)', async () => {
      const { tokens } = await signIn(t);
      const clock = shiftClock(t);
      try {
        await me(`Bearer ${tokens.accessToken}`).expect(200);
        await t.dataSource.getRepository(AuthSession).update({ id: tokens.sessionId }, { revokedAt: new Date(), revokedReason: 'logout' });
        await me(`Bearer ${tokens.accessToken}`).expect(200); // cached "live", within the bound
        clock.advance(5_001);
        await me(`Bearer ${tokens.accessToken}`).expect(401);
      } finally {
        clock.reset();
      }
    });

    it("a token whose sid names no session, or another user's session, is refused", async () => {
      const a = await signIn(t);
      const b = await signIn(t);
      const header = { alg: 'HS256', typ: 'at+jwt', kid };
      const now = Math.floor(Date.now() / 1000);
      const options = t.app.get(AUTH_OPTIONS);
      const base = { iat: now, exp: now + 600, iss: options.tokens.issuer, aud: options.tokens.audience, jti: 'j' };
      await me(`Bearer ${mac(hsKey, header, { ...base, sub: a.userId, sid: '00000000-0000-4000-8000-000000000000' })}`).expect(401);
      await me(`Bearer ${mac(hsKey, header, { ...base, sub: a.userId, sid: b.tokens.sessionId })}`).expect(401);
    });
  });
});

describe('the guard on a host route (bearer vs cookie, CSRF)', () => {
  let s: SessionsApp;

  beforeAll(async () => {
    s = await createSessionsApp({ allowedOrigins: ['https://admin.example.test'] });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('@CurrentUser() carries the user, the session and how the request was authenticated', async () => {
    const { tokens, userId } = await signIn(s);
    const bearer = await s.http.get('/probe').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
    expect(bearer.body).toMatchObject({ id: userId, sessionId: tokens.sessionId, authMethod: 'bearer' });
    const cookie = await s.http.get('/probe').set('Cookie', accessCookie(s, tokens.accessToken)).expect(200);
    expect(cookie.body.authMethod).toBe('cookie');
  });

  it('F3: cookie-authenticated POST/DELETE need an allowed Origin or Referer; bearer ones do not', async () => {
    const { tokens } = await signIn(s);
    const cookie = accessCookie(s, tokens.accessToken);
    for (const method of ['post', 'delete'] as const) {
      expect((await s.http[method]('/probe').set('Cookie', cookie).expect(403)).body.error).toBe('csrf_rejected');
      await s.http[method]('/probe').set('Cookie', cookie).set('Origin', 'https://evil.test').expect(403);
      await s.http[method]('/probe').set('Cookie', cookie).set('Origin', 'null').expect(403);
      await s.http[method]('/probe').set('Cookie', cookie).set('Origin', s.url).expect(200);
      await s.http[method]('/probe').set('Cookie', cookie).set('Origin', 'https://admin.example.test').expect(200);
      await s.http[method]('/probe').set('Cookie', cookie).set('Referer', `${s.url}/settings`).expect(200);
      await s.http[method]('/probe').set('Authorization', `Bearer ${tokens.accessToken}`).set('Origin', 'https://evil.test').expect(200);
    }
    await s.http.post('/probe').set('Cookie', cookie).set('Origin', 'https://evil.test').set('Content-Type', 'text/plain').send('x').expect(403);
  });

  it('F3: no CORS: a preflight from another origin gets no Access-Control-Allow-Origin', async () => {
    const res = await s.http.options('/probe').set('Origin', 'https://evil.test').set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('the guard never opens a route on its own: a public route stays public, everything else needs a token', async () => {
    await s.http.get('/probe/open').expect(200);
    await s.http.get('/probe').expect(401);
    await s.http.post('/probe').set('Origin', s.url).expect(401);
  });
});
