import { createTestApp, testHttpPlatform, type TestApp } from '../support/test-app';

/**
 * Issue 14 finding 4: every answer of the demo (its HTML pages above all) can be neither framed
 * nor sniffed and sends no referrer, and the API description is off in production unless
 * API_DOCS=true. Runs on Express and on Fastify (TEST_HTTP_PLATFORM=fastify).
 */
function expectHardened(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('demo security headers (development defaults: /docs on)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the sign-in page: its own nonce CSP with frame-ancestors, never framed, sniffed or referred from', async () => {
    const res = await t.http.get('/').expect(200);
    expectHardened(res.headers);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
  });

  it.each([
    ['JSON route', '/health'],
    ['refused module route', '/auth/me'],
    ['unknown path', '/no-such-page'],
    ['API description JSON', '/docs-json'],
  ])('%s: hardened too', async (_name, path) => {
    const res = await t.http.get(path);
    expectHardened(res.headers);
  });

  it('the JSON answers carry the strict default CSP (nothing may load)', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/);
  });

  // Swagger UI's assets are served only on the Express test app (see configureTestApp).
  (testHttpPlatform() === 'express' ? it : it.skip)('/docs: Swagger UI with a CSP it can live with (own scripts only, inline styles), never framed', async () => {
    const res = await t.http.get('/docs/').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui-bundle.js');
    expectHardened(res.headers);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).not.toMatch(/unsafe-eval/);
    // The page loads no inline script: every <script> names a file of this origin.
    expect(res.text.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? []).toEqual([]);
    const init = await t.http.get('/docs/swagger-ui-init.js').expect(200);
    expectHardened(init.headers);
  });
});

describe('demo API description in production', () => {
  // Production needs an https APP_URL (secure cookies); the app still listens on loopback http.
  const production = { NODE_ENV: 'production', APP_URL: 'https://demo.example', AUTH_SANDBOX: undefined, GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret' };

  it('off by default: /docs and /docs-json answer 404, hardened', async () => {
    const t = await createTestApp(production);
    try {
      for (const path of ['/docs', '/docs/', '/docs-json']) {
        const res = await t.http.get(path);
        expect(`${path} ${res.status}`).toBe(`${path} 404`);
        expectHardened(res.headers);
      }
      await t.http.get('/health').expect(200);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('API_DOCS=true switches it on', async () => {
    const t = await createTestApp({ ...production, API_DOCS: 'true' });
    try {
      const res = await t.http.get('/docs-json').expect(200);
      expect(res.body.openapi).toMatch(/^3\./);
      expectHardened(res.headers);
    } finally {
      await t.close();
    }
  }, 60_000);
});
