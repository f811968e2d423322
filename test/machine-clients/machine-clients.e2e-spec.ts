import { createHmac, createPublicKey, createSign, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessTokenService, MachineClient, MachineClientService } from '@nest-social-auth/core';
import { mintMachineToken } from '@nest-social-auth/testing';
import { run as operatorCommand } from '../../scripts/machine-client';
import { createTestApp, TestApp } from '../support/test-app';
import { accessCookie, shiftClock, signIn } from '../sessions/session-fixtures';

const CLIENT_ID = 'billing-worker';
const CLIENT_SECRET = 'billing-worker-secret-0123456789-abcdefghij';
const TOKEN = '/auth/oauth/token';
const FORM = 'application/x-www-form-urlencoded';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as Record<string, unknown>;

/** A JWS signed with `key` (ES256 or RS256), or with an HMAC secret for HS256. */
function sign(alg: string, key: KeyObject | Buffer | string, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64({ alg, ...header })}.${b64(payload)}`;
  if (alg === 'HS256') return `${input}.${createHmac('sha256', key as Buffer).update(input).digest('base64url')}`;
  const signature = createSign('sha256').update(input).sign(alg === 'ES256' ? { key: key as KeyObject, dsaEncoding: 'ieee-p1363' } : (key as KeyObject));
  return `${input}.${signature.toString('base64url')}`;
}

describe('machine clients: the client-credentials grant and @Scopes() routes (threat model M)', () => {
  let t: TestApp;
  let clients: MachineClientService;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_MACHINE_CLIENT_ID: CLIENT_ID, AUTH_MACHINE_CLIENT_SECRET: CLIENT_SECRET, AUTH_MACHINE_CLIENT_SCOPES: 'reports:read orders:read' });
    clients = t.app.get(MachineClientService);
  });

  afterAll(async () => {
    await t?.close();
  });

  const tokenRequest = (authorization: string | undefined, body: Record<string, string> | string, type = FORM) => {
    const req = t.http.post(TOKEN).set('Content-Type', type);
    if (authorization) req.set('Authorization', authorization);
    return req.send(typeof body === 'string' ? body : type === FORM ? new URLSearchParams(body).toString() : JSON.stringify(body));
  };
  const getToken = async (id = CLIENT_ID, secret = CLIENT_SECRET, extra: Record<string, string> = {}) => {
    const res = await tokenRequest(basic(id, secret), { grant_type: 'client_credentials', ...extra }).expect(200);
    return res.body.access_token as string;
  };

  describe('the token endpoint (RFC 6749 §4.4)', () => {
    it('client_secret_basic with a form body: a Bearer token, no refresh token, no-store', async () => {
      const res = await tokenRequest(basic(CLIENT_ID, CLIENT_SECRET), { grant_type: 'client_credentials' }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'reports:read orders:read' });
      expect(headerOf(res.body.access_token)).toMatchObject({ typ: 'at+jwt' });
      const claims = claimsOf(res.body.access_token);
      expect(claims).toMatchObject({ sub: CLIENT_ID, client_id: CLIENT_ID, scope: 'reports:read orders:read' });
      expect(claims.sid).toBeUndefined();
      expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(900);
    });

    it('accepts a JSON body and grants exactly the requested scopes', async () => {
      const res = await tokenRequest(basic(CLIENT_ID, CLIENT_SECRET), { grant_type: 'client_credentials', scope: 'orders:read' }, 'application/json').expect(200);
      expect(res.body.scope).toBe('orders:read');
      expect(claimsOf(res.body.access_token).scope).toBe('orders:read');
    });

    const ok = { grant_type: 'client_credentials' };
    it.each<[string, number, string, string | undefined, Record<string, string> | string, string]>([
      ['no client authentication', 401, 'invalid_client', undefined, ok, FORM],
      ['a wrong secret', 401, 'invalid_client', basic(CLIENT_ID, 'not-the-secret-not-the-secret-0000'), ok, FORM],
      ['an unknown client', 401, 'invalid_client', basic('nobody', CLIENT_SECRET), ok, FORM],
      ['a malformed Basic header', 401, 'invalid_client', 'Basic !!!', ok, FORM],
      ['the secret in the body (client_secret_post is not offered)', 401, 'invalid_client', undefined, { ...ok, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, FORM],
      ['no grant_type', 400, 'invalid_request', basic(CLIENT_ID, CLIENT_SECRET), {}, FORM],
      ['grant_type=password', 400, 'unsupported_grant_type', basic(CLIENT_ID, CLIENT_SECRET), { grant_type: 'password', username: 'a', password: 'b' }, FORM],
      ['grant_type=authorization_code', 400, 'unsupported_grant_type', basic(CLIENT_ID, CLIENT_SECRET), { grant_type: 'authorization_code', code: 'x' }, FORM],
      ['grant_type twice', 400, 'invalid_request', basic(CLIENT_ID, CLIENT_SECRET), 'grant_type=client_credentials&grant_type=client_credentials', FORM],
      ['a text/plain body', 400, 'invalid_request', basic(CLIENT_ID, CLIENT_SECRET), 'grant_type=client_credentials', 'text/plain'],
      ['two authentication methods', 400, 'invalid_request', basic(CLIENT_ID, CLIENT_SECRET), { ...ok, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c' }, FORM],
      ['a body client_id naming another client', 400, 'invalid_request', basic(CLIENT_ID, CLIENT_SECRET), { ...ok, client_id: 'someone-else' }, FORM],
      ['a scope the client may not have', 400, 'invalid_scope', basic(CLIENT_ID, CLIENT_SECRET), { ...ok, scope: 'reports:read admin' }, FORM],
      ['a malformed scope', 400, 'invalid_scope', basic(CLIENT_ID, CLIENT_SECRET), { ...ok, scope: 'reports:read  orders:read' }, FORM],
    ])('%s: %d %s', async (_name, status, error, authorization, body, type) => {
      const res = await tokenRequest(authorization, body, type).expect(status);
      expect(res.body).toMatchObject({ error });
      expect(res.body.access_token).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      if (error === 'invalid_client') expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    });

    it('M3: a failed authentication takes as long for an unknown client as for a wrong secret', async () => {
      const time = async (authorization: string) => {
        const start = process.hrtime.bigint();
        await tokenRequest(authorization, { grant_type: 'client_credentials' }).expect(401);
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 5; i++) {
        unknown.push(await time(basic(`ghost-${i}`, CLIENT_SECRET)));
        wrong.push(await time(basic(CLIENT_ID, `wrong-secret-wrong-secret-wrong-${i}`)));
      }
      const median = (list: number[]) => [...list].sort((a, b) => a - b)[2];
      // Each attempt costs two scrypt hashes (~tens of ms); without the dummy hash an unknown id answers in ~1 ms.
      expect(median(unknown) / median(wrong)).toBeGreaterThan(0.4);
      expect(median(unknown) / median(wrong)).toBeLessThan(2.5);
    });
  });

  describe('@Scopes() routes and the guard', () => {
    it('a machine token with the scope calls the scoped route; @CurrentClient() is the client', async () => {
      const res = await t.http.get('/reports').set('Authorization', `Bearer ${await getToken()}`).expect(200);
      expect(res.body).toMatchObject({ client: CLIENT_ID, scopes: ['reports:read', 'orders:read'] });
    });

    it('M5: a machine token without the scope gets 403 insufficient_scope with the RFC 6750 challenge', async () => {
      const token = await getToken(CLIENT_ID, CLIENT_SECRET, { scope: 'orders:read' });
      const res = await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(403);
      expect(res.body).toMatchObject({ error: 'insufficient_scope' });
      expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="reports:read"');
    });

    it('M6: a machine token on a route without @Scopes() is refused (default deny)', async () => {
      const res = await t.http.get('/me').set('Authorization', `Bearer ${await getToken()}`).expect(403);
      expect(res.body).toMatchObject({ error: 'insufficient_scope' });
    });

    it('M6: a machine token is not a user to the module either (sessions, logout)', async () => {
      const token = await getToken();
      await t.http.get('/auth/sessions').set('Authorization', `Bearer ${token}`).expect(403);
      await t.http.post('/auth/logout').set('Authorization', `Bearer ${token}`).expect(401);
    });

    it('M7: a user token never satisfies a machine-only route', async () => {
      const { tokens } = await signIn(t);
      await t.http.get('/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
      const res = await t.http.get('/reports').set('Authorization', `Bearer ${tokens.accessToken}`).expect(403);
      expect(res.body).toMatchObject({ error: 'insufficient_scope' });
    });

    it("the testing kit's mintMachineToken: a token the guard accepts on the scoped route, and only with the scope", async () => {
      const token = await mintMachineToken(clients, { clientId: 'kit-client', scopes: ['reports:read'] });
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(200);
      const narrow = await mintMachineToken(clients, { clientId: 'kit-client-2', scopes: ['orders:read'] });
      await t.http.get('/reports').set('Authorization', `Bearer ${narrow}`).expect(403);
    });

    it('M6: a machine token is accepted as a bearer token only, never from the access cookie', async () => {
      const token = await getToken();
      await t.http.get('/reports').set('Cookie', accessCookie(t, token)).expect(401);
    });

    it('a route with allowUserTokens takes both: the user as @CurrentUser(), the client as @CurrentClient()', async () => {
      const { userId, tokens } = await signIn(t);
      expect((await t.http.get('/reports/summary').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200)).body).toEqual({ caller: { user: userId } });
      expect((await t.http.get('/reports/summary').set('Authorization', `Bearer ${await getToken()}`).expect(200)).body).toEqual({ caller: { client: CLIENT_ID } });
      const narrow = await getToken(CLIENT_ID, CLIENT_SECRET, { scope: 'orders:read' });
      await t.http.get('/reports/summary').set('Authorization', `Bearer ${narrow}`).expect(403);
    });

    it('no token on a scoped route: 401 unauthorized', async () => {
      await t.http.get('/reports').expect(401);
    });
  });

  describe('rotation and disabling', () => {
    it('rotation: both secrets work until the previous one is retired', async () => {
      await clients.register({ id: 'rotating', name: 'Rotating', scopes: ['reports:read'], clientSecret: 'first-secret-first-secret-first-secret' });
      const { clientSecret: second } = await clients.rotateSecret('rotating');
      expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await getToken('rotating', 'first-secret-first-secret-first-secret');
      await getToken('rotating', second);
      await clients.retirePreviousSecret('rotating');
      await tokenRequest(basic('rotating', 'first-secret-first-secret-first-secret'), { grant_type: 'client_credentials' }).expect(401);
      await getToken('rotating', second);
      // An operator-given secret reads the same URL-encoded or not: no '+', '%', ':' or spaces.
      await expect(clients.register({ id: 'plus', name: 'Plus', scopes: ['reports:read'], clientSecret: `a+b%c:${'x'.repeat(32)}` })).rejects.toMatchObject({ code: 'invalid_request' });
      // Only hashes are stored.
      const row = await t.dataSource.getRepository(MachineClient).findOneByOrFail({ id: 'rotating' });
      expect(row.secretHash).toMatch(/^scrypt\$/);
      expect(JSON.stringify(row)).not.toContain(second);
    });

    it('M8: disabling a client refuses its tokens at once on this instance and its new token requests', async () => {
      const { clientSecret } = await clients.register({ id: 'to-disable', name: 'Disabled soon', scopes: ['reports:read'] });
      const token = await getToken('to-disable', clientSecret!);
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(200);
      await clients.disable('to-disable');
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(401);
      await tokenRequest(basic('to-disable', clientSecret!), { grant_type: 'client_credentials' }).expect(401);
      await clients.enable('to-disable');
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('the operator script (scripts/machine-client.ts): register prints the secret once, rotate, disable, show', async () => {
      const out: string[] = [];
      await operatorCommand(clients, 'register', ['ops-job', 'Ops job', 'reports:read'], (line) => out.push(line));
      const { clientSecret } = JSON.parse(out[0]) as { clientSecret: string };
      const token = await getToken('ops-job', clientSecret);
      await operatorCommand(clients, 'rotate', ['ops-job'], (line) => out.push(line));
      await getToken('ops-job', (JSON.parse(out[1]) as { clientSecret: string }).clientSecret);
      await operatorCommand(clients, 'disable', ['ops-job'], (line) => out.push(line));
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(401);
      await operatorCommand(clients, 'show', ['ops-job'], (line) => out.push(line));
      expect(JSON.parse(out[2])).toMatchObject({ id: 'ops-job', enabled: false, secrets: 2, scopes: ['reports:read'] });
      expect(out[2]).not.toContain('scrypt');
      await expect(operatorCommand(clients, 'show', ['nobody'])).rejects.toMatchObject({ code: 'not_found' });
    });

    it('M8: a client disabled elsewhere (another instance) is refused within tokens.revocationCacheTtl', async () => {
      const { clientSecret } = await clients.register({ id: 'disabled-elsewhere', name: 'Elsewhere', scopes: ['reports:read'] });
      const token = await getToken('disabled-elsewhere', clientSecret!);
      await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(200);
      await t.dataSource.getRepository(MachineClient).update({ id: 'disabled-elsewhere' }, { enabled: false });
      const clock = shiftClock(t);
      try {
        clock.advance(6_000);
        await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(401);
      } finally {
        clock.reset();
      }
    });
  });

  describe('private_key_jwt (RFC 7523)', () => {
    let ecKey: KeyObject;
    let rsaKey: KeyObject;
    let audience: string;
    const assertion = (over: Record<string, unknown> = {}, id = 'signed-es') => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: id, sub: id, aud: audience, iat: now, exp: now + 60, jti: randomUUID(), ...over };
    };
    const withAssertion = (jwt: string, extra: Record<string, string> = {}) =>
      tokenRequest(undefined, { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt, ...extra });

    beforeAll(async () => {
      audience = `${t.url}/auth/oauth/token`;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      ecKey = ec.privateKey;
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      rsaKey = rsa.privateKey;
      await clients.register({ id: 'signed-es', name: 'ES256 client', scopes: ['reports:read'], jwks: { keys: [{ ...(ec.publicKey.export({ format: 'jwk' }) as { kty: string }), kid: 'es-1' }] } });
      await clients.register({ id: 'signed-rs', name: 'RS256 client', scopes: ['reports:read'], jwks: { keys: [{ ...(rsa.publicKey.export({ format: 'jwk' }) as { kty: string }), kid: 'rs-1' }] } });
    });

    it('an ES256 assertion gets a token that calls the scoped route', async () => {
      const res = await withAssertion(sign('ES256', ecKey, { kid: 'es-1', typ: 'JWT' }, assertion())).expect(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'reports:read' });
      await t.http.get('/reports').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    });

    it('an RS256 assertion, with client_id in the body too', async () => {
      await withAssertion(sign('RS256', rsaKey, { kid: 'rs-1' }, assertion({}, 'signed-rs')), { client_id: 'signed-rs' }).expect(200);
    });

    it('keys from a jwksUri (fetched and cached), and a key the URL does not serve is refused', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      let fetches = 0;
      const server = createServer((_req, res) => {
        fetches++;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
        res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'remote-1', alg: 'ES256', use: 'sig' }] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        await clients.register({ id: 'signed-remote', name: 'Remote keys', scopes: ['reports:read'], jwksUri: `http://127.0.0.1:${port}/jwks` });
        const remote = (over: Record<string, unknown> = {}) => assertion(over, 'signed-remote');
        await withAssertion(sign('ES256', privateKey, { kid: 'remote-1' }, remote())).expect(200);
        await withAssertion(sign('ES256', privateKey, { kid: 'remote-1' }, remote())).expect(200);
        expect(fetches).toBe(1);
        await withAssertion(sign('ES256', ecKey, { kid: 'remote-1' }, remote())).expect(401);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('M2: a replayed assertion is refused', async () => {
      const jwt = sign('ES256', ecKey, { kid: 'es-1' }, assertion());
      await withAssertion(jwt).expect(200);
      const res = await withAssertion(jwt).expect(401);
      expect(res.body).toMatchObject({ error: 'invalid_client' });
    });

    const publicPem = () => createPublicKey(ecKey).export({ format: 'pem', type: 'spki' });
    it.each<[string, () => string]>([
      ['alg none', () => `${b64({ alg: 'none', kid: 'es-1' })}.${b64(assertion())}.`],
      ['HS256 keyed with the public JWK', () => sign('HS256', Buffer.from(JSON.stringify({ ...createPublicKey(ecKey).export({ format: 'jwk' }), kid: 'es-1' })), { kid: 'es-1' }, assertion())],
      ['HS256 keyed with a PEM', () => sign('HS256', Buffer.from(String(publicPem())), { kid: 'es-1' }, assertion())],
      ['another audience', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ aud: 'https://elsewhere.example/token' }))],
      ['the audience of another path', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ aud: `${t.url}/auth/token` }))],
      ['an expired assertion', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ exp: Math.floor(Date.now() / 1000) - 60 }))],
      ['an assertion valid for an hour', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ exp: Math.floor(Date.now() / 1000) + 3600 }))],
      ['no jti', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ jti: undefined }))],
      ['iss and sub that differ', () => sign('ES256', ecKey, { kid: 'es-1' }, assertion({ sub: 'signed-rs' }))],
      ['a key of another client', () => sign('RS256', rsaKey, { kid: 'rs-1' }, assertion())],
      ['a key the client never registered', () => sign('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { kid: 'es-1' }, assertion())],
    ])('M4: refuses %s with 401 invalid_client', async (_name, jwt) => {
      const res = await withAssertion(jwt()).expect(401);
      expect(res.body).toMatchObject({ error: 'invalid_client' });
      expect(res.body.access_token).toBeUndefined();
    });
  });
});

describe('machine clients off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the token endpoint answers 404 not_found and a validly signed machine token is refused', async () => {
    await t.http.post(TOKEN).set('Authorization', basic(CLIENT_ID, CLIENT_SECRET)).type('form').send({ grant_type: 'client_credentials' }).expect(404);
    const { token } = t.app.get(AccessTokenService).signForClient(CLIENT_ID, ['reports:read'], 300);
    const res = await t.http.get('/reports').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body).toMatchObject({ error: 'unauthorized' });
  });
});

describe('machine clients: rate limits (threat model M9)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AUTH_MACHINE_CLIENTS: 'true', AUTH_RATE_LIMIT_TOKEN: '4', AUTH_RATE_LIMIT_MACHINE_CLIENT: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('per client id, then per address: 429 rate_limited with Retry-After', async () => {
    const attempt = (id: string) => t.http.post(TOKEN).set('Authorization', basic(id, 'x'.repeat(40))).type('form').send({ grant_type: 'client_credentials' });
    await attempt('client-a').expect(401);
    await attempt('client-a').expect(401);
    const perClient = await attempt('client-a').expect(429);
    expect(perClient.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(perClient.headers['retry-after'])).toBeGreaterThan(0);
    // Another client id from the same address still has budget there (4th request of the address)...
    await attempt('client-b').expect(401);
    // ...until the address's own budget is spent.
    await attempt('client-c').expect(429);
  });
});
