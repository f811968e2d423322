import { createHash, createHmac, createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, jwtVerify, type JWK } from 'jose';

import { FAKE_GOOGLE_ISSUER, FakeGoogle } from './fake-google.server';
import { googleUsers } from './fake-idp.users';
import { withQuery } from './fake-idp.http';
import { createPkcePair, s256Challenge } from './pkce';

const REDIRECT = 'http://127.0.0.1:9/auth/google/callback';

type Form = Record<string, string | undefined>;

function form(params: Form): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.append(k, v);
  return body;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('FakeGoogle', () => {
  let google: FakeGoogle;

  beforeAll(async () => {
    google = await FakeGoogle.start();
  });
  afterAll(() => google.stop());
  beforeEach(() => google.reset());

  async function authorize(overrides: Form = {}) {
    const pkce = createPkcePair();
    const res = await fetch(
      withQuery(google.endpoints.authorization, {
        client_id: google.clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'openid email profile',
        state: 'state-1',
        nonce: 'nonce-1',
        code_challenge: pkce.codeChallenge,
        code_challenge_method: 'S256',
        ...overrides,
      }),
      { redirect: 'manual' },
    );
    const location = res.headers.get('location');
    return { res, pkce, location: location ? new URL(location) : undefined };
  }

  function exchange(params: Form, headers: Record<string, string> = { Authorization: basic(google.clientId, google.clientSecret) }) {
    return fetch(google.endpoints.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: form(params),
    });
  }

  async function login(overrides: Form = {}) {
    const { location, pkce } = await authorize(overrides);
    const code = location!.searchParams.get('code')!;
    const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier });
    return { res, code, pkce, body: (await res.json()) as Record<string, unknown> };
  }

  it('serves an OIDC discovery document with absolute endpoints and S256 only', async () => {
    const res = await fetch(google.endpoints.discovery);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: FAKE_GOOGLE_ISSUER,
      authorization_endpoint: `${google.url}/authorize`,
      token_endpoint: `${google.url}/token`,
      userinfo_endpoint: `${google.url}/userinfo`,
      jwks_uri: `${google.url}/jwks`,
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(doc).not.toHaveProperty('authorization_response_iss_parameter_supported');
    expect(google.issuer).toBe(FAKE_GOOGLE_ISSUER);
    expect(google.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  // An app keys identities on (provider, issuer, subject): a port-derived issuer would turn the
  // same fake user into another identity on the next run against a kept database.
  it('keeps its issuer whatever the port, and takes another one as an option', async () => {
    const other = await FakeGoogle.start();
    const custom = await FakeGoogle.start({ issuer: 'https://accounts.example.test/' });
    try {
      expect(other.url).not.toBe(google.url);
      expect(other.issuer).toBe(google.issuer);
      const minted = decodeJwt(await other.mintIdToken());
      expect(minted.iss).toBe(FAKE_GOOGLE_ISSUER);
      expect(custom.issuer).toBe('https://accounts.example.test/');
      expect(decodeJwt(await custom.mintIdToken()).iss).toBe('https://accounts.example.test/');
      expect(((await (await fetch(custom.endpoints.discovery)).json()) as { issuer: string }).issuer).toBe('https://accounts.example.test/');
    } finally {
      await Promise.all([other.stop(), custom.stop()]);
    }
  });

  it("gives the module's provider options: its client, its issuer, every endpoint and discovery", () => {
    expect(google.providerOptions()).toEqual({
      clientId: 'fake-google-client',
      clientSecret: 'fake-google-secret',
      issuer: FAKE_GOOGLE_ISSUER,
      authorizationURL: `${google.url}/authorize`,
      tokenURL: `${google.url}/token`,
      userInfoURL: `${google.url}/userinfo`,
      jwksURL: `${google.url}/jwks`,
      discoveryURL: `${google.url}/.well-known/openid-configuration`,
    });
  });

  it('runs authorize → token → userinfo with PKCE, and the ID token verifies against the JWKS', async () => {
    const { location, pkce } = await authorize();
    expect(location!.origin + location!.pathname).toBe(REDIRECT);
    expect(location!.searchParams.get('state')).toBe('state-1');
    expect(location!.searchParams.has('iss')).toBe(false);
    expect(google.authorizations[0]).toMatchObject({ state: 'state-1', nonce: 'nonce-1', codeChallenge: pkce.codeChallenge, redirectUri: REDIRECT });

    const res = await exchange({
      grant_type: 'authorization_code',
      code: location!.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: pkce.codeVerifier,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, string | number>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, scope: 'openid email profile' });

    const { payload, protectedHeader } = await jwtVerify(String(body.id_token), createRemoteJWKSet(new URL(google.endpoints.jwks)), {
      issuer: google.issuer,
      audience: google.clientId,
      algorithms: ['RS256'],
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: google.currentKid, typ: 'JWT' });
    expect(payload).toMatchObject({ sub: googleUsers.alice().sub, azp: google.clientId, email: 'alice@example.com', email_verified: true, nonce: 'nonce-1' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.at_hash).toBe(createHash('sha256').update(String(body.access_token)).digest().subarray(0, 16).toString('base64url'));

    const info = await fetch(google.endpoints.userinfo, { headers: { Authorization: `Bearer ${body.access_token}` } });
    expect(await info.json()).toMatchObject({ sub: googleUsers.alice().sub, email: 'alice@example.com', email_verified: true, given_name: 'Alice' });
    expect(google.requestsTo('/token')).toHaveLength(1);
    expect(google.requestsTo(google.endpoints.userinfo)).toHaveLength(1);
  });

  it('accepts client_secret_post and refuses bad or doubled client authentication', async () => {
    const { location, pkce } = await authorize();
    const code = location!.searchParams.get('code')!;
    const grant = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier };

    const wrong = await exchange(grant, { Authorization: basic(google.clientId, 'nope') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });

    const both = await exchange({ ...grant, client_secret: google.clientSecret });
    expect(both.status).toBe(400);

    const post = await exchange({ ...grant, client_id: google.clientId, client_secret: google.clientSecret }, {});
    expect(post.status).toBe(200);
  });

  it('answers invalid_grant to a wrong code_verifier and burns the code', async () => {
    const { location, pkce } = await authorize();
    const code = location!.searchParams.get('code')!;
    const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: createPkcePair().codeVerifier });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    expect(google.requestsTo('/token')[0].rejected).toBe('pkce_mismatch');

    const retry = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier });
    expect(await retry.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers invalid_grant to a reused code and revokes what the first use issued', async () => {
    const first = await login();
    const again = await exchange({ grant_type: 'authorization_code', code: first.code, redirect_uri: REDIRECT, code_verifier: first.pkce.codeVerifier });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
    expect(google.requestsTo('/token')[1].rejected).toBe('code_reused');

    const info = await fetch(google.endpoints.userinfo, { headers: { Authorization: `Bearer ${first.body.access_token}` } });
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('binds the code to the redirect_uri of the authorization request', async () => {
    const { location, pkce } = await authorize();
    const res = await exchange({
      grant_type: 'authorization_code',
      code: location!.searchParams.get('code')!,
      redirect_uri: `${REDIRECT}/other`,
      code_verifier: pkce.codeVerifier,
    });
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('expires codes after 60 s', async () => {
    const { location, pkce } = await authorize();
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      const res = await exchange({ grant_type: 'authorization_code', code: location!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier });
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      expect(google.requestsTo('/token')[0].rejected).toBe('code_expired');
    } finally {
      clock.mockRestore();
    }
  });

  describe('authorization request validation', () => {
    it.each([
      ['no code_challenge', { code_challenge: undefined, code_challenge_method: undefined }],
      ['plain method', { code_challenge_method: 'plain' }],
      ['no method (defaults to plain)', { code_challenge_method: undefined }],
      ['malformed challenge', { code_challenge: 'short' }],
      ['implicit flow', { response_type: 'token' }],
      ['no scope', { scope: undefined }],
    ])('redirects an error for %s, keeping state', async (_name, overrides) => {
      const { res, location } = await authorize(overrides);
      expect(res.status).toBe(302);
      expect(location!.searchParams.get('error')).toMatch(/^(invalid_request|unsupported_response_type)$/);
      expect(location!.searchParams.get('state')).toBe('state-1');
      expect(location!.searchParams.has('code')).toBe(false);
    });

    it('lets requests without PKCE through with pkceOptional, then refuses a code_verifier (downgrade)', async () => {
      google.scenario.pkceOptional = true;
      const { location } = await authorize({ code_challenge: undefined, code_challenge_method: undefined });
      const code = location!.searchParams.get('code')!;
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: createPkcePair().codeVerifier });
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      expect(google.requestsTo('/token')[0].rejected).toBe('pkce_downgrade');
    });

    it('shows a page, never a redirect, for an unknown client or an unregistered redirect_uri', async () => {
      const unknown = await authorize({ client_id: 'evil' });
      expect(unknown.res.status).toBe(401);
      expect(unknown.location).toBeUndefined();

      google.scenario.allowedRedirectUris = [REDIRECT];
      const mismatch = await authorize({ redirect_uri: 'https://evil.example.com/cb' });
      expect(mismatch.res.status).toBe(400);
      expect(mismatch.location).toBeUndefined();
      const html = await mismatch.res.text();
      expect(html).toContain('redirect_uri_mismatch');
      expect(html).not.toContain(google.clientSecret);
      expect(google.authorizations).toHaveLength(0);
    });

    it('refuses duplicated parameters', async () => {
      const url = new URL(withQuery(google.endpoints.authorization, { client_id: google.clientId, redirect_uri: REDIRECT }));
      url.searchParams.append('state', 'a');
      url.searchParams.append('state', 'b');
      const res = await fetch(url, { redirect: 'manual' });
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    });

    it('forces an error redirect with scenario.authorizeError', async () => {
      google.scenario.authorizeError = { error: 'access_denied', error_description: '<script>alert(1)</script>' };
      const { location } = await authorize();
      expect(location!.searchParams.get('error')).toBe('access_denied');
      expect(location!.searchParams.get('error_description')).toBe('<script>alert(1)</script>');
      expect(location!.searchParams.get('state')).toBe('state-1');
    });

    it('adds RFC 9207 iss when issParameter is on, and lets issOverride replace or drop it', async () => {
      google.scenario.issParameter = true;
      const doc = (await (await fetch(google.endpoints.discovery)).json()) as Record<string, unknown>;
      expect(doc.authorization_response_iss_parameter_supported).toBe(true);
      expect((await authorize()).location!.searchParams.get('iss')).toBe(google.issuer);

      google.scenario.issOverride = 'https://other.example.com';
      expect((await authorize()).location!.searchParams.get('iss')).toBe('https://other.example.com');

      google.scenario.issOverride = null;
      expect((await authorize()).location!.searchParams.has('iss')).toBe(false);
    });
  });

  describe('ID token scenarios', () => {
    const idTokenOf = async () => String((await login()).body.id_token);

    it('merges claims (undefined deletes) and header fields', async () => {
      const now = Math.floor(Date.now() / 1000);
      google.scenario.idToken.claims = { iss: 'https://other', aud: [google.clientId, 'evil'], sub: undefined, exp: now - 3600, email_verified: 'false' };
      google.scenario.idToken.header = { kid: undefined, jku: 'http://evil.example.com/jwks' };
      const token = await idTokenOf();
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ iss: 'https://other', aud: [google.clientId, 'evil'], exp: now - 3600, email_verified: 'false' });
      expect(claims).not.toHaveProperty('sub');
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', jku: 'http://evil.example.com/jwks' });
    });

    it('shifts iat/exp by clockSkewSec and omits id_token on request', async () => {
      google.scenario.clockSkewSec = -300;
      const { iat } = decodeJwt(await idTokenOf());
      expect(Math.abs(iat! - (Math.floor(Date.now() / 1000) - 300))).toBeLessThanOrEqual(2);

      google.scenario.idToken.omit = true;
      expect((await login()).body).not.toHaveProperty('id_token');
    });

    it("'attacker-key' keeps the real kid but does not verify against the JWKS", async () => {
      google.scenario.idToken.signing = 'attacker-key';
      const token = await idTokenOf();
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: google.currentKid });
      await expect(jwtVerify(token, createRemoteJWKSet(new URL(google.endpoints.jwks)))).rejects.toThrow(/signature verification failed/);
      await expect(jwtVerify(token, await importJWK(google.attackerJwk, 'RS256'))).resolves.toBeDefined();
    });

    it("'none' has alg none and an empty signature", async () => {
      google.scenario.idToken.signing = 'none';
      const token = await idTokenOf();
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'none', typ: 'JWT' });
      expect(token.endsWith('.')).toBe(true);
    });

    it("'hs256-with-public-key' is an HMAC keyed with the published key's SPKI PEM", async () => {
      google.scenario.idToken.signing = 'hs256-with-public-key';
      const token = await idTokenOf();
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: google.currentKid });
      const { keys } = (await (await fetch(google.endpoints.jwks)).json()) as { keys: JWK[] };
      const pem = await exportSPKI((await importJWK(keys[0], 'RS256')) as Parameters<typeof exportSPKI>[0]);
      const [h, p, s] = token.split('.');
      expect(createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url')).toBe(s);
    });

    it("'es256' uses a P-256 key that the JWKS publishes only with jwks.publishEcKey", async () => {
      google.scenario.idToken.signing = 'es256';
      const token = await idTokenOf();
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: google.ecJwk.kid });
      await expect(jwtVerify(token, await importJWK(google.ecJwk, 'ES256'))).resolves.toBeDefined();
      const kids = async () => ((await (await fetch(google.endpoints.jwks)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);
      expect(await kids()).not.toContain(google.ecJwk.kid);
      google.scenario.jwks.publishEcKey = true;
      expect(await kids()).toContain(google.ecJwk.kid);
    });

    it("'null-alg' has no alg header but a valid RS256 signature", async () => {
      google.scenario.idToken.signing = 'null-alg';
      const token = await idTokenOf();
      expect(decodeProtectedHeader(token)).toEqual({ kid: google.currentKid, typ: 'JWT' });
      const { keys } = (await (await fetch(google.endpoints.jwks)).json()) as { keys: JWK[] };
      const [h, p, s] = token.split('.');
      const key = createPublicKey({ key: keys[0] as JsonWebKey, format: 'jwk' });
      expect(verifySignature('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))).toBe(true);
    });

    it('rotates keys: new kid, old one dropped unless keepOld', async () => {
      const first = google.currentKid;
      const second = await google.rotateKeys();
      expect(second).not.toBe(first);
      expect(google.publishedKids).toEqual([second]);
      const third = await google.rotateKeys({ keepOld: true });
      expect(google.publishedKids).toEqual([third, second]);
      const { payload } = await jwtVerify(await idTokenOf(), createRemoteJWKSet(new URL(google.endpoints.jwks)));
      expect(payload.sub).toBe(googleUsers.alice().sub);
      expect(decodeProtectedHeader(await idTokenOf()).kid).toBe(third);
    });

    it('mints ID tokens directly with mintIdToken', async () => {
      const token = await google.mintIdToken({ user: googleUsers.dana(), nonce: 'n', claims: { azp: 'other' } });
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(google.endpoints.jwks)), { issuer: google.issuer, audience: google.clientId });
      expect(payload).toMatchObject({ sub: googleUsers.dana().sub, hd: 'example.org', nonce: 'n', azp: 'other' });
    });
  });

  describe('users and scopes', () => {
    it.each([
      ['bob', googleUsers.bob(), { email_verified: false }],
      ['carol', googleUsers.carol(), { email_verified: 'false' }],
      ['dana', googleUsers.dana(), { hd: 'example.org' }],
      ['sub123', googleUsers.sub123(), { sub: '123' }],
    ])('puts %s in the ID token as scripted', async (_name, user, expected) => {
      google.signInAs(user);
      expect(decodeJwt(String((await login()).body.id_token))).toMatchObject(expected);
    });

    it('emits email claims only with the email scope and a user that has one', async () => {
      google.signInAs(googleUsers.noEmail());
      expect(decodeJwt(String((await login()).body.id_token))).not.toHaveProperty('email');
      google.signInAs(googleUsers.alice());
      const claims = decodeJwt(String((await login({ scope: 'openid profile' })).body.id_token));
      expect(claims).not.toHaveProperty('email');
      expect(claims.name).toBe('Alice Example');
    });

    it('gives no id_token without the openid scope', async () => {
      expect((await login({ scope: 'email' })).body).not.toHaveProperty('id_token');
    });

    it('issues a refresh token for access_type=offline; the refreshed ID token has no nonce', async () => {
      const { body } = await login({ access_type: 'offline' });
      expect(String(body.refresh_token)).toMatch(/^1\/\//);
      const res = await exchange({ grant_type: 'refresh_token', refresh_token: String(body.refresh_token) });
      const refreshed = (await res.json()) as Record<string, unknown>;
      expect(refreshed.access_token).not.toBe(body.access_token);
      expect(decodeJwt(String(refreshed.id_token))).not.toHaveProperty('nonce');
    });
  });

  describe('userinfo', () => {
    it('rejects a token in the query string with 401 and records it', async () => {
      const { body } = await login();
      const res = await fetch(`${google.endpoints.userinfo}?access_token=${body.access_token}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fake-google"');
      expect(google.requestsTo('/userinfo')[0]).toMatchObject({ status: 401, rejected: 'token_in_query' });
    });

    it('merges userinfo.claims over the answer', async () => {
      google.scenario.userinfo.claims = { sub: 'someone-else', email: undefined };
      const { body } = await login();
      const info = (await (await fetch(google.endpoints.userinfo, { headers: { Authorization: `Bearer ${body.access_token}` } })).json()) as object;
      expect(info).toMatchObject({ sub: 'someone-else' });
      expect(info).not.toHaveProperty('email');
    });
  });

  describe('endpoint knobs', () => {
    it('overrides status, body and content type, after processing the request', async () => {
      google.scenario.token = { status: 200, body: '<html>oops</html>', contentType: 'text/html' };
      const { res, code, pkce } = await (async () => {
        const a = await authorize();
        const code = a.location!.searchParams.get('code')!;
        const r = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: a.pkce.codeVerifier });
        return { res: r, code, pkce: a.pkce };
      })();
      expect(res.headers.get('content-type')).toBe('text/html');
      expect(await res.text()).toBe('<html>oops</html>');
      google.scenario.token = {};
      const replay = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier });
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('merges token.fields over a successful answer', async () => {
      google.scenario.token.fields = { expires_in: '3599', token_type: 'mac', access_token: undefined };
      const { body } = await login();
      expect(body).toMatchObject({ expires_in: '3599', token_type: 'mac' });
      expect(body).not.toHaveProperty('access_token');
    });

    it('drops the connection and keeps counting', async () => {
      google.scenario.jwks.drop = true;
      await expect(fetch(google.endpoints.jwks)).rejects.toThrow();
      expect(google.requestsTo('/jwks')).toEqual([expect.objectContaining({ status: 0 })]);
    });

    it('stop() returns promptly while a request hangs on delayMs', async () => {
      const slow = await FakeGoogle.start();
      slow.scenario.discovery.delayMs = 60_000;
      const pending = fetch(slow.endpoints.discovery).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await slow.stop();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(String(await pending)).toMatch(/fetch failed/);
    });
  });

  describe('garbage input', () => {
    it.each([
      ['JSON body', { 'Content-Type': 'application/json' }, '{"grant_type":'],
      ['duplicate parameters', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=authorization_code&code=a&code=b'],
      ['no body', {}, undefined],
    ])('answers 400 with an OAuth error JSON for %s', async (_name, headers, body) => {
      const res = await fetch(google.endpoints.token, { method: 'POST', headers: { ...headers, Authorization: basic(google.clientId, google.clientSecret) }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('answers 413 to an oversized body and 404 to unknown paths, and stays up', async () => {
      const big = await fetch(google.endpoints.token, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(1_100_000, 'x') });
      expect(big.status).toBe(413);
      expect((await fetch(`${google.url}/nope`)).status).toBe(404);
      expect((await fetch(google.endpoints.discovery)).status).toBe(200);
    });
  });

  it('consent mode: Allow issues a code, Deny redirects access_denied, a transaction is single-use', async () => {
    const consent = await FakeGoogle.start({ mode: 'consent', appName: 'Demo <App>' });
    try {
      consent.signInAs(googleUsers.dana());
      const open = async () => {
        const res = await fetch(
          withQuery(consent.endpoints.authorization, {
            client_id: consent.clientId,
            redirect_uri: REDIRECT,
            response_type: 'code',
            scope: 'openid email',
            state: 'st',
            code_challenge: s256Challenge(createPkcePair().codeVerifier),
            code_challenge_method: 'S256',
          }),
          { redirect: 'manual' },
        );
        const html = await res.text();
        return { res, html, transaction: /name="transaction" value="([^"]+)"/.exec(html)![1] };
      };
      const decide = (transaction: string, decision: string) =>
        fetch(`${consent.url}/authorize/decision`, { method: 'POST', body: form({ transaction, decision }), redirect: 'manual' });

      const page = await open();
      expect(page.res.status).toBe(200);
      expect(page.html).toContain('Sign in to Demo &#60;App&#62; with Fake Google');
      expect(page.html).toContain('dana@example.org');
      expect(page.html).toMatch(/<button[^>]*>Allow<\/button>/);
      expect(page.html).toMatch(/<button[^>]*>Deny<\/button>/);
      expect(page.html).not.toContain('code_challenge');

      const allow = await decide(page.transaction, 'allow');
      expect(allow.status).toBe(303);
      expect(new URL(allow.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      expect((await decide(page.transaction, 'allow')).status).toBe(400);

      const deny = await decide((await open()).transaction, 'deny');
      const denied = new URL(deny.headers.get('location')!);
      expect(denied.searchParams.get('error')).toBe('access_denied');
      expect(denied.searchParams.get('state')).toBe('st');
    } finally {
      await consent.stop();
    }
  });

  it('reset() restores the scenario in place, clears the log and the user', async () => {
    const scenario = google.scenario;
    google.scenario.token.status = 503;
    google.signInAs(googleUsers.bob());
    await fetch(google.endpoints.jwks);
    google.reset();
    expect(google.scenario).toBe(scenario);
    expect(google.scenario.token).toEqual({});
    expect(google.requests).toHaveLength(0);
    expect(google.signedInUser.sub).toBe(googleUsers.alice().sub);
  });
});
