import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { decodeJwt } from 'jose';
import { FakeApple, appleUsers } from './fake-apple.server';
import { withQuery } from './fake-idp.http';
import { FAKE_MICROSOFT_TENANTS, FakeMicrosoft, microsoftUsers } from './fake-microsoft.server';
import { createPkcePair } from './pkce';

const REDIRECT = 'http://127.0.0.1:9/auth/cb';
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

function es256(pem: string, header: object, payload: object): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: createPrivateKey(pem), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/name="([^"]*)" value="([^"]*)"/g)) out[m[1]] = m[2].replace(/&#(\d+);/g, (_x, c: string) => String.fromCharCode(Number(c)));
  return out;
}

describe('FakeApple', () => {
  let apple: FakeApple;
  beforeAll(async () => {
    apple = await FakeApple.start();
  });
  afterAll(() => apple.stop());
  beforeEach(() => apple.reset());

  async function authorize(scope = 'name email', responseMode = 'form_post') {
    const pkce = createPkcePair();
    const o = apple.providerOptions();
    const res = await fetch(
      withQuery(o.authorizationURL, { client_id: o.clientId, redirect_uri: REDIRECT, response_type: 'code', scope, response_mode: responseMode, state: 's-1', nonce: 'n-1', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' }),
      { redirect: 'manual' },
    );
    return { res, pkce, html: await res.text() };
  }

  function secret(overrides: { header?: object; payload?: object; pem?: string } = {}): string {
    const o = apple.providerOptions();
    const now = Math.floor(Date.now() / 1000);
    return es256(overrides.pem ?? o.privateKey, { alg: 'ES256', kid: o.keyId, ...overrides.header }, { iss: o.teamId, sub: o.clientId, aud: o.issuer, iat: now, exp: now + 3600, ...overrides.payload });
  }

  async function redeem(clientSecret: string) {
    const { html, pkce } = await authorize();
    const { code } = hiddenFields(html);
    const o = apple.providerOptions();
    const res = await fetch(o.tokenURL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: o.clientId, client_secret: clientSecret, code, grant_type: 'authorization_code', redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier }),
    });
    return { res, body: (await res.json()) as Record<string, unknown>, rejected: apple.requestsTo('/auth/token').at(-1)?.rejected };
  }

  it('answers with a form posting code, state and, the first time only, the user field', async () => {
    apple.signInAs(appleUsers.jane());
    const first = await authorize();
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    expect(first.html).toContain(`action="${REDIRECT}"`);
    const fields = hiddenFields(first.html);
    expect(fields).toMatchObject({ state: 's-1', code: expect.any(String) });
    expect(JSON.parse(fields.user)).toEqual({ name: { firstName: 'Jane', lastName: 'Appleseed' }, email: 'jane@example.com' });
    expect(hiddenFields((await authorize()).html).user).toBeUndefined();
  });

  it('requires form_post when a scope is asked', async () => {
    const { res } = await authorize('name email', 'query');
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('accepts a sound ES256 client secret and issues an ID token with string booleans', async () => {
    apple.signInAs(appleUsers.relay());
    const { res, body, rejected } = await redeem(secret());
    expect(res.status).toBe(200);
    expect(rejected).toBeUndefined();
    expect(decodeJwt(body.id_token as string)).toMatchObject({ sub: appleUsers.relay().sub, nonce: 'n-1', email_verified: 'true', is_private_email: 'true' });
  });

  it.each([
    ['signed by another key', () => secret({ pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }), 'client_secret_signature'],
    ['with another kid', () => secret({ header: { kid: 'OTHERKEY01' } }), 'client_secret_header'],
    ['of another team', () => secret({ payload: { iss: 'OTHERTEAM1' } }), 'client_secret_claims'],
    ['for another client', () => secret({ payload: { sub: 'com.example.other' } }), 'client_secret_claims'],
    ['expired', () => secret({ payload: { iat: 1_000, exp: 2_000 } }), 'client_secret_expired'],
    ['living longer than six months', () => secret({ payload: { exp: Math.floor(Date.now() / 1000) + 15_777_001 } }), 'client_secret_expired'],
    ['not a JWT', () => 'plain-secret', 'client_secret_malformed'],
  ])('refuses a client secret %s', async (_name, make, reason) => {
    const { res, body, rejected } = await redeem(make());
    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_client');
    expect(rejected).toBe(reason);
  });
});

describe('FakeMicrosoft', () => {
  let microsoft: FakeMicrosoft;
  beforeAll(async () => {
    microsoft = await FakeMicrosoft.start();
  });
  afterAll(() => microsoft.stop());
  beforeEach(() => microsoft.reset());

  it.each([
    ['common', '{tenantid}'],
    ['organizations', '{tenantid}'],
    ['consumers', FAKE_MICROSOFT_TENANTS.consumers],
    [FAKE_MICROSOFT_TENANTS.contoso, FAKE_MICROSOFT_TENANTS.contoso],
  ])('discovery for %s announces the issuer %s', async (tenant, filled) => {
    const document = (await (await fetch(microsoft.providerOptions(tenant).discoveryURL)).json()) as { issuer: string; jwks_uri: string };
    expect(document.issuer).toBe(`https://fake-microsoft.test/${filled}/v2.0`);
  });

  it('issues ID tokens whose iss is the template filled with the user’s tid, keyed by tid and oid', async () => {
    for (const user of [microsoftUsers.adele(), microsoftUsers.megan(), microsoftUsers.pat()]) {
      microsoft.signInAs(user);
      const o = microsoft.providerOptions('common');
      const pkce = createPkcePair();
      const res = await fetch(
        withQuery(o.authorizationURL, { client_id: o.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email profile', state: 's', nonce: 'n', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' }),
        { redirect: 'manual' },
      );
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
      const token = (await (
        await fetch(o.tokenURL, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: o.clientId, client_secret: o.clientSecret, code, grant_type: 'authorization_code', redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier }),
        })
      ).json()) as { id_token: string };
      expect(decodeJwt(token.id_token)).toMatchObject({ iss: microsoft.issuerFor(user.tid), tid: user.tid, oid: user.oid, nonce: 'n', aud: o.clientId });
    }
  });
});
