import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createTestApp, TestApp } from '../support/test-app';
import { signIn } from '../sessions/session-fixtures';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('ES256 access tokens and /.well-known/jwks.json', () => {
  let t: TestApp;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeAll(async () => {
    t = await createTestApp({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('serves the public key (no private part), cacheable, without credentials', async () => {
    const res = await t.http.get('/.well-known/jwks.json').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' });
  });

  it('another service verifies our access tokens offline with the published keys (jose)', async () => {
    const { tokens, userId } = await signIn(t);
    const jwks = createLocalJWKSet((await t.http.get('/.well-known/jwks.json')).body);
    const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, jwks, {
      issuer: t.config.appUrl,
      audience: t.config.appUrl,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: userId, sid: tokens.sessionId });
    await t.http.get('/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
  });

  it('D1: HS256 MACed with our public key (the classic confusion) is refused', async () => {
    const { tokens } = await signIn(t);
    const [h, p] = tokens.accessToken.split('.');
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid;
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid });
    for (const key of [publicPem, JSON.stringify((await t.http.get('/.well-known/jwks.json')).body.keys[0])]) {
      const forged = `${header}.${p}.${createHmac('sha256', key).update(`${header}.${p}`).digest('base64url')}`;
      await t.http.get('/me').set('Authorization', `Bearer ${forged}`).expect(401);
    }
  });
});

describe('HS256 apps publish no keys', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 404 not_found: an HMAC key is never public', async () => {
    const res = await t.http.get('/.well-known/jwks.json').expect(404);
    expect(res.body.error).toBe('not_found');
  });
});
