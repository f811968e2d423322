import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock } from '@nest-social-auth/core';
import { githubUsers, googleUsers } from '@nest-social-auth/testing';
import { LogCapture } from './support/log-capture';
import { expectRefused, expectSignedIn } from './support/refusals';
import { startSignInApp, useSignInApp } from './support/sign-in-app';

const TIMEOUT_MS = 1500;
const FIVE_MB = 'x'.repeat(5 * 1024 * 1024);

/**
 * Threat model I1 (upstream unavailable), I2 (malformed profiles) and G1 (open-redirect corpus through
 * the real start route). Every failure is a redirect with a fixed code, writes nothing, leaves the
 * process serving, and a later retry succeeds.
 */
describe('sign-in robustness (threat model I1, I2, G1)', () => {
  const logs = new LogCapture();

  const app = useSignInApp({ env: { AUTH_HTTP_TIMEOUT_MS: String(TIMEOUT_MS) }, logs });

  async function expectFailure(provider: 'google' | 'github', code: string): Promise<number> {
    const before = await app().rows();
    const started = Date.now();
    const { callback } = await app().browser().signIn(provider);
    const elapsed = Date.now() - started;
    expectRefused(callback, code);
    expect(await app().rows()).toEqual(before);
    return elapsed;
  }

  async function expectRetrySucceeds(provider: 'google' | 'github'): Promise<void> {
    app().reset();
    const { callback } = await app().browser().signIn(provider);
    expectSignedIn(callback);
    await app().t.http.get('/health').expect(200);
  }

  describe('I1: upstream unavailable', () => {
    it.each([
      ['token endpoint 503', () => (app().google.scenario.token.status = 503)],
      ['token endpoint drops the connection', () => (app().google.scenario.token.drop = true)],
      ['token endpoint hangs past the timeout', () => (app().google.scenario.token.delayMs = TIMEOUT_MS * 3)],
      ['userinfo 503', () => (app().google.scenario.userinfo.status = 503)],
      ['userinfo hangs past the timeout', () => (app().google.scenario.userinfo.delayMs = TIMEOUT_MS * 3)],
    ])('Google: %s → provider_unavailable within the timeout; a retry succeeds', async (_name, arrange) => {
      arrange();
      const elapsed = await expectFailure('google', 'provider_unavailable');
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 2500);
      await expectRetrySucceeds('google');
    });

    it.each([
      ['token endpoint 503', () => (app().github.scenario.token.status = 503)],
      ['token endpoint hangs past the timeout', () => (app().github.scenario.token.delayMs = TIMEOUT_MS * 3)],
      ['/user 503', () => (app().github.scenario.user.status = 503)],
      ['/user drops the connection', () => (app().github.scenario.user.drop = true)],
      ['/user/emails 503', () => (app().github.scenario.emails.status = 503)],
      ['/user/emails hangs past the timeout', () => (app().github.scenario.emails.delayMs = TIMEOUT_MS * 3)],
    ])('GitHub: %s → provider_unavailable within the timeout; a retry succeeds', async (_name, arrange) => {
      arrange();
      const elapsed = await expectFailure('github', 'provider_unavailable');
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 2500);
      await expectRetrySucceeds('github');
    });

    it('a token endpoint whose TLS certificate is not trusted → provider_unavailable, nothing written; a retry elsewhere succeeds', async () => {
      // A self-signed certificate for 127.0.0.1, made for this run (no key lives in the repository):
      // the handshake fails before any byte of the exchange is sent.
      const dir = mkdtempSync(join(tmpdir(), 'untrusted-tls-'));
      const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const tls = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"never-used","token_type":"bearer"}');
      });
      rmSync(dir, { recursive: true, force: true });
      let served = 0;
      tls.on('request', () => (served += 1));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      const { port } = tls.address() as AddressInfo;
      const other = await startSignInApp({ GITHUB_TOKEN_URL: `https://127.0.0.1:${port}/login/oauth/access_token` });
      try {
        const before = await other.rows();
        const { callback } = await other.browser().signIn('github');
        expectRefused(callback, 'provider_unavailable');
        expect(await other.rows()).toEqual(before);
        expect(served).toBe(0);
        await other.t.http.get('/health').expect(200);
      } finally {
        await other.close();
        await new Promise((resolve) => tls.close(resolve));
      }
      await expectRetrySucceeds('github');
    });

    it('JWKS down: served from the cache within its lifetime, provider_unavailable once it is stale', async () => {
      const { callback: warm } = await app().browser().signIn('google');
      expectSignedIn(warm);
      app().reset();
      app().google.scenario.jwks.status = 503;
      const { callback: cached } = await app().browser().signIn('google');
      expectSignedIn(cached);
      expect(app().google.requestsTo('/jwks')).toHaveLength(0);

      // Past the 10-minute cache lifetime (yet within the ID token's age limit).
      jest.spyOn(app().t.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + 640_000));
      app().google.scenario.jwks.status = 503;
      await expectFailure('google', 'provider_unavailable');
      await expectRetrySucceeds('google');
    });
  });

  describe('I2: malformed userinfo and profiles', () => {
    it.each([
      ['HTML', () => Object.assign(app().google.scenario.userinfo, { body: '<html>Sign in</html>', contentType: 'text/html' }), 'provider_error'],
      ['a JSON array', () => (app().google.scenario.userinfo.body = [{ sub: googleUsers.alice().sub }]), 'provider_error'],
      ['a 5 MB body', () => (app().google.scenario.userinfo.body = FIVE_MB), 'provider_error'],
      ['sub missing', () => (app().google.scenario.userinfo.claims = { sub: undefined }), 'invalid_id_token'],
      ['sub an object', () => (app().google.scenario.userinfo.claims = { sub: { id: googleUsers.alice().sub } }), 'invalid_id_token'],
    ])('Google userinfo: %s is refused', async (_name, arrange, code) => {
      arrange();
      await expectFailure('google', code);
    });

    it.each([
      ['/user not JSON', () => Object.assign(app().github.scenario.user, { body: '<html>Unicorn!</html>', contentType: 'text/html' })],
      ['/user a JSON array', () => (app().github.scenario.user.body = [{ id: 1001 }])],
      ['/user without id', () => (app().github.scenario.user.fields = { id: undefined })],
      ['/user id an object', () => (app().github.scenario.user.fields = { id: { value: 1001 } })],
      ['/user id a string', () => (app().github.scenario.user.fields = { id: '1001' })],
      ['/user a 5 MB body', () => (app().github.scenario.user.body = FIVE_MB)],
      ['/user/emails {}', () => (app().github.scenario.emails.list = {})],
      ['/user/emails HTML', () => Object.assign(app().github.scenario.emails, { body: '<html></html>', contentType: 'text/html' })],
      ['/user/emails not JSON at all', () => (app().github.scenario.emails.body = '[{"email": ')],
    ])('GitHub %s is refused (never an uncaught exception)', async (_name, arrange) => {
      arrange();
      await expectFailure('github', 'provider_error');
      await app().t.http.get('/health').expect(200);
    });

    it.each([
      ['Google: a 300-character email is kept', 'google', () => app().google.signInAs(googleUsers.alice({ sub: '300300300', email: `${'a'.repeat(60)}@${'b'.repeat(232)}.example`, email_verified: true })), '300300300', `${'a'.repeat(60)}@${'b'.repeat(232)}.example`],
      ['Google: no email at all', 'google', () => app().google.signInAs(googleUsers.noEmail({ sub: '400400400' })), '400400400', null],
      ['GitHub: a null email in /user/emails', 'github', () => { app().github.signInAs(githubUsers.octo({ id: 5005 })); app().github.scenario.emails.list = [{ email: null, primary: true, verified: true }]; }, '5005', null],
      ['GitHub: a 300-character primary verified email is kept', 'github', () => app().github.signInAs(githubUsers.octo({ id: 6006, emails: [{ email: `${'c'.repeat(60)}@${'d'.repeat(235)}.test`, primary: true, verified: true }] })), '6006', `${'c'.repeat(60)}@${'d'.repeat(235)}.test`],
    ] as const)('%s: signs in with the email it can trust', async (_name, provider, arrange, subject, email) => {
      arrange();
      const { callback } = await app().browser().signIn(provider);
      expectSignedIn(callback);
      const [row] = await app().t.dataSource.query(`SELECT email FROM auth_identities WHERE provider = '${provider}' AND subject = '${subject}'`);
      expect(row.email).toBe(email);
    });
  });

  describe('G1: open-redirect corpus through the start route', () => {
    it.each([
      'https://evil.test',
      '//evil.test',
      '/\\evil.test',
      '\\\\evil.test',
      '/%2F%2Fevil.test',
      'https:evil.test',
      '/\t/evil.test',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'https://app.test@evil.test',
      'https://127.0.0.1.evil.test',
      `/${'a'.repeat(10_240)}`,
      'http://[::1',
      // Issue 14 finding 2: normalising must not reopen an encoded slash.
      '/./%2Fevil.test',
      '/%2E%2E%2F%2Fevil.test',
      '/%2e%2E%2f%2Fevil.test',
      '/%252E%252E%252F%252Fevil.test',
      '/./%5Cevil.test',
    ])('returnTo=%j lands on the default page', async (returnTo) => {
      const { callback } = await app().browser().signIn('github', { returnTo });
      expectSignedIn(callback, '/');
    });

    it('returnTo sent twice lands on the default page', async () => {
      const browser = app().browser();
      const start = await browser.get('/auth/github?returnTo=/a&returnTo=/b');
      const callback = await browser.callback(await browser.authorize(start.location!));
      expectSignedIn(callback, '/');
    });

    it("an absolute returnTo on the app's own origin is kept", async () => {
      const { callback } = await app().browser().signIn('github', { returnTo: `${app().t.url}/settings?x=1` });
      expectSignedIn(callback, `${app().t.url}/settings?x=1`);
    });
  });

  it('I1: connection refused (the provider is down) → provider_unavailable, and the app keeps serving', async () => {
    const browser = app().browser();
    const start = await browser.start('github');
    const callbackUrl = await browser.authorize(start.location!);
    await app().github.stop();
    const before = await app().rows();
    expectRefused(await browser.callback(callbackUrl), 'provider_unavailable');
    expect(await app().rows()).toEqual(before);
    await app().t.http.get('/health').expect(200);
  });

  // Threat model I4 for this file.
  it('logged no code, state, verifier, nonce, token, cookie or client secret', () => {
    const text = logs.text;
    expect(text).toContain('refused: provider_unavailable');
    for (const secret of app().secrets()) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
