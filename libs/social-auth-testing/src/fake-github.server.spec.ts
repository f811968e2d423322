import { request } from 'node:http';

import { FAKE_GITHUB_ISSUER, FakeGitHub } from './fake-github.server';
import { githubUsers } from './fake-idp.users';
import { withQuery } from './fake-idp.http';
import { createPkcePair } from './pkce';

const REDIRECT = 'http://127.0.0.1:9/auth/github/callback';

type Form = Record<string, string | undefined>;

function form(params: Form): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.append(k, v);
  return body;
}

describe('FakeGitHub', () => {
  let github: FakeGitHub;

  beforeAll(async () => {
    github = await FakeGitHub.start();
  });
  afterAll(() => github.stop());
  beforeEach(() => github.reset());

  async function authorize(overrides: Form = {}, fake = github) {
    const pkce = createPkcePair();
    const res = await fetch(
      withQuery(fake.endpoints.authorization, {
        client_id: fake.clientId,
        redirect_uri: REDIRECT,
        scope: 'read:user user:email',
        state: 'state-1',
        code_challenge: pkce.codeChallenge,
        code_challenge_method: 'S256',
        ...overrides,
      }),
      { redirect: 'manual' },
    );
    const location = res.headers.get('location');
    return { res, pkce, location: location ? new URL(location) : undefined };
  }

  function exchange(params: Form, headers: Record<string, string> = {}) {
    return fetch(github.endpoints.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: form({ client_id: github.clientId, client_secret: github.clientSecret, ...params }),
    });
  }

  async function login(overrides: Form = {}) {
    const { location, pkce } = await authorize(overrides);
    const code = location!.searchParams.get('code')!;
    const res = await exchange({ code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier }, { Accept: 'application/json' });
    return { code, pkce, body: (await res.json()) as Record<string, string> };
  }

  const api = (path: string, token?: string, scheme = 'Bearer') =>
    fetch(`${github.endpoints.api}${path}`, { headers: token ? { Authorization: `${scheme} ${token}` } : {} });

  it('exposes its endpoints and defaults', () => {
    expect(github.endpoints).toEqual({
      authorization: `${github.url}/login/oauth/authorize`,
      token: `${github.url}/login/oauth/access_token`,
      api: github.url,
      user: `${github.url}/user`,
      emails: `${github.url}/user/emails`,
    });
    expect([github.clientId, github.clientSecret]).toEqual(['fake-github-client', 'fake-github-secret']);
  });

  // GitHub has no issuer of its own: the module records `providers.github.issuer`, which must not
  // follow the port or a rerun against a kept database meets its own users as `identity_in_use`.
  it("gives the module's provider options with an issuer that does not depend on the port", async () => {
    expect(github.providerOptions()).toEqual({
      clientId: 'fake-github-client',
      clientSecret: 'fake-github-secret',
      issuer: FAKE_GITHUB_ISSUER,
      authorizationURL: `${github.url}/login/oauth/authorize`,
      tokenURL: `${github.url}/login/oauth/access_token`,
      apiURL: github.url,
    });
    const [other, custom] = await Promise.all([FakeGitHub.start(), FakeGitHub.start({ issuer: 'https://github.example.test' })]);
    try {
      expect(other.url).not.toBe(github.url);
      expect(other.providerOptions().issuer).toBe(github.issuer);
      expect(custom.providerOptions().issuer).toBe('https://github.example.test');
    } finally {
      await Promise.all([other.stop(), custom.stop()]);
    }
  });

  it('answers the token request as a form by default and as JSON with Accept: application/json', async () => {
    const first = await authorize();
    expect(first.location!.searchParams.get('state')).toBe('state-1');
    const asForm = await exchange({ code: first.location!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: first.pkce.codeVerifier });
    expect(asForm.status).toBe(200);
    expect(asForm.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const parsed = new URLSearchParams(await asForm.text());
    expect(parsed.get('access_token')).toMatch(/^gho_[A-Za-z0-9]{36}$/);
    expect(parsed.get('token_type')).toBe('bearer');
    expect(parsed.get('scope')).toBe('read:user,user:email');

    const { body } = await login();
    expect(body).toEqual({ access_token: expect.stringMatching(/^gho_/), token_type: 'bearer', scope: 'read:user,user:email' });
  });

  it('answers a reused code with HTTP 200 error=bad_verification_code (GitHub quirk) and revokes the token', async () => {
    const { code, pkce, body } = await login();
    const again = await exchange({ code, redirect_uri: REDIRECT, code_verifier: pkce.codeVerifier }, { Accept: 'application/json' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    expect(github.requestsTo('/login/oauth/access_token')[1].rejected).toBe('code_reused');
    expect((await api('/user', body.access_token)).status).toBe(401);
  });

  it('verifies PKCE S256 at the token endpoint', async () => {
    const { location } = await authorize();
    const res = await exchange({ code: location!.searchParams.get('code')!, code_verifier: createPkcePair().codeVerifier });
    expect(new URLSearchParams(await res.text()).get('error')).toBe('bad_verification_code');
    expect(github.requestsTo('/login/oauth/access_token')[0].rejected).toBe('pkce_mismatch');
  });

  it.each([
    ['plain', { code_challenge_method: 'plain' }],
    ['no challenge', { code_challenge: undefined, code_challenge_method: undefined }],
  ])('refuses %s PKCE at authorize with an error redirect', async (_name, overrides) => {
    const { location } = await authorize(overrides);
    expect(location!.searchParams.get('error')).toBe('invalid_request');
    expect(location!.searchParams.get('state')).toBe('state-1');
  });

  it('answers bad client credentials and a mismatched redirect_uri with HTTP 200 errors', async () => {
    const { location, pkce } = await authorize();
    const code = location!.searchParams.get('code')!;
    const badClient = await exchange({ code, client_secret: 'nope', code_verifier: pkce.codeVerifier }, { Accept: 'application/json' });
    expect(badClient.status).toBe(200);
    expect(await badClient.json()).toMatchObject({ error: 'incorrect_client_credentials' });

    const mismatch = await exchange({ code, redirect_uri: `${REDIRECT}x`, code_verifier: pkce.codeVerifier }, { Accept: 'application/json' });
    expect(await mismatch.json()).toMatchObject({ error: 'redirect_uri_mismatch' });
  });

  it('serves /user with Bearer or token auth, and 401 otherwise', async () => {
    const { body } = await login();
    for (const scheme of ['Bearer', 'token']) {
      const res = await api('/user', body.access_token, scheme);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-oauth-scopes')).toBe('read:user, user:email');
      expect(await res.json()).toMatchObject({ id: 1001, login: 'octo', name: 'Octo Cat', email: 'octo@example.com', node_id: expect.any(String) });
    }
    const bad = await api('/user', 'gho_nope');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ message: 'Bad credentials' });
    const none = await api('/user');
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ message: 'Requires authentication' });
    expect((await fetch(`${github.endpoints.user}?access_token=${body.access_token}`)).status).toBe(401);
    expect(github.requestsTo('/user').at(-1)!.rejected).toBe('token_in_query');
  });

  it('refuses API calls without User-Agent, like api.github.com', async () => {
    const token = github.issueAccessToken();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(github.endpoints.user, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('lists /user/emails with verified flags, needs the user:email scope, and takes overrides', async () => {
    github.signInAs(githubUsers.unverifiedPrimary());
    const { body } = await login();
    const user = (await (await api('/user', body.access_token)).json()) as Record<string, unknown>;
    expect(user.email).toBe('unverified@example.com');
    expect(await (await api('/user/emails', body.access_token)).json()).toEqual([
      { email: 'unverified@example.com', primary: true, verified: false, visibility: 'public' },
    ]);

    expect((await api('/user/emails', github.issueAccessToken({ scope: 'read:user' }))).status).toBe(404);

    github.scenario.emails.list = {};
    expect(await (await api('/user/emails', body.access_token)).json()).toEqual({});
    github.scenario.emails = { body: '<html>', contentType: 'text/html', status: 502 };
    const broken = await api('/user/emails', body.access_token);
    expect([broken.status, broken.headers.get('content-type'), await broken.text()]).toEqual([502, 'text/html', '<html>']);
  });

  it('merges user.fields and serves the fixture users as scripted', async () => {
    github.signInAs(githubUsers.noEmail());
    github.scenario.user.fields = { id: '1003', login: undefined };
    const token = github.issueAccessToken();
    const user = (await (await api('/user', token)).json()) as Record<string, unknown>;
    expect(user).toMatchObject({ id: '1003', email: null });
    expect(user).not.toHaveProperty('login');
    expect(await (await api('/user/emails', token)).json()).toEqual([]);
    expect(githubUsers.id123().id).toBe(123);
  });

  it('applies GitHub redirect rules: sub-path accepted, other path redirected to the registered callback', async () => {
    github.scenario.allowedRedirectUris = ['http://127.0.0.1:9/auth'];
    const below = await authorize({ redirect_uri: 'http://127.0.0.1:9/auth/github/callback' });
    expect(below.location!.searchParams.get('code')).toBeTruthy();

    const other = await authorize({ redirect_uri: 'http://127.0.0.1:9/evil' });
    expect(other.location!.href.startsWith('http://127.0.0.1:9/auth?')).toBe(true);
    expect(other.location!.searchParams.get('error')).toBe('redirect_uri_mismatch');

    const omitted = await authorize({ redirect_uri: undefined });
    expect(omitted.location!.href.startsWith('http://127.0.0.1:9/auth?code=')).toBe(true);

    expect((await authorize({ client_id: 'nope' })).res.status).toBe(404);
  });

  it('consent mode: page titled Fake GitHub; Deny redirects access_denied with GitHub details', async () => {
    const consent = await FakeGitHub.start({ mode: 'consent' });
    try {
      const { res } = await authorize({}, consent);
      const html = await res.text();
      expect(html).toContain('with Fake GitHub');
      expect(html).toContain('@octo');
      const transaction = /name="transaction" value="([^"]+)"/.exec(html)![1];
      const deny = await fetch(`${consent.url}/login/oauth/authorize/decision`, {
        method: 'POST',
        body: form({ transaction, decision: 'deny' }),
        redirect: 'manual',
      });
      const location = new URL(deny.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('error_description')).toBe('The user has denied your application access.');
      expect(location.searchParams.get('state')).toBe('state-1');
    } finally {
      await consent.stop();
    }
  });

  it('forces authorize errors and survives garbage token bodies', async () => {
    github.scenario.authorizeError = 'server_error';
    expect((await authorize()).location!.searchParams.get('error')).toBe('server_error');

    const res = await fetch(github.endpoints.token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[1,' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    expect(github.requestsTo('/login/oauth/access_token')).toHaveLength(1);
  });
});
