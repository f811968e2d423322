import { AUTH_ERROR_CODES } from '@nest-social-auth/core';
import { createTestApp, routerLayers, testHttpPlatform, type TestApp } from '../support/test-app';

interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}
type Paths = Record<string, Record<string, Operation>>;

/** Every route of the app that Nest registered (Express's router stack, or Fastify's routes in its shape), as `METHOD /path` in OpenAPI form. */
function nestRoutes(t: TestApp): string[] {
  const stack = routerLayers(t.app);
  return stack
    .filter((l) => l.route && !l.route.path.startsWith('/docs'))
    .flatMap((l) => {
      // An @All route (the OAuth callback) is registered for every method; it is documented as GET.
      const methods = Object.keys(l.route!.methods).length > 10 ? ['get'] : Object.keys(l.route!.methods);
      return methods.map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    });
}

describe('OpenAPI document of the demo (GET /docs-json, /docs)', () => {
  let t: TestApp;
  let paths: Paths;
  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.http.get('/docs-json');
    expect(res.status).toBe(200);
    paths = res.body.paths;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const op = (method: string, path: string): Operation => {
    const found = paths[path]?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return found;
  };
  const codesOf = (o: Operation, status: number): string => o.responses[String(status)]?.description ?? '';

  it('is public: the JSON and the UI answer without credentials', async () => {
    // Swagger UI's assets on Fastify need @fastify/static, which the demo (an Express app) does not
    // install: the Fastify run serves the JSON only (see configureTestApp).
    if (testHttpPlatform() === 'express') {
      const ui = await t.http.get('/docs');
      expect([200, 301]).toContain(ui.status);
    }
    const json = await t.http.get('/docs-json');
    expect(json.headers['content-type']).toMatch(/application\/json/);
    expect(json.body.openapi).toMatch(/^3\./);
  });

  it('describes every auth route Nest serves (none missing, all tagged auth with a summary)', () => {
    const authRoutes = nestRoutes(t).filter((r) => / \/auth\/|\/\.well-known\//.test(r));
    expect(authRoutes.length).toBeGreaterThanOrEqual(11);
    for (const route of authRoutes) {
      const [method, path] = route.split(' ');
      const o = op(method.toLowerCase(), path);
      expect(o.tags).toContain('auth');
      expect(o.summary).toBeTruthy();
    }
  });

  it('lists answers and stable error codes with the error schema', () => {
    const refresh = op('post', '/auth/refresh');
    expect(refresh.responses['200'].content?.['application/json'].schema?.$ref).toBe('#/components/schemas/AccessTokenAnswerSchema');
    expect(codesOf(refresh, 401)).toContain('`refresh_token_invalid`');
    expect(codesOf(refresh, 401)).toContain('`refresh_token_reused`');
    expect(codesOf(refresh, 403)).toContain('`csrf_rejected`');
    expect(codesOf(refresh, 429)).toContain('`rate_limited`');
    expect(refresh.responses['401'].content?.['application/json'].schema?.$ref).toBe('#/components/schemas/AuthErrorBodySchema');

    expect(codesOf(op('delete', '/auth/identities/{provider}'), 409)).toContain('`last_login_method`');
    expect(codesOf(op('get', '/auth/{provider}'), 404)).toContain('`unknown_provider`');
    const callback = op('get', '/auth/{provider}/callback');
    expect(callback.responses['302']).toBeDefined();
    for (const code of ['invalid_state', 'state_expired', 'invalid_id_token', 'account_exists', 'identity_in_use']) expect(callback.description).toContain(`\`${code}\``);
    expect(op('get', '/auth/me').responses['200'].content?.['application/json'].schema?.$ref).toBe('#/components/schemas/AccountSchema');
  });

  it('marks protected routes with the bearer and cookie schemes, and leaves public ones open', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['access-cookie', 'bearer', 'machine-client']);
    expect(doc.components.securitySchemes['access-cookie']).toMatchObject({ in: 'cookie', name: 'sa_at' });
    for (const [method, path] of [
      ['get', '/auth/me'],
      ['get', '/auth/sessions'],
      ['post', '/auth/logout-all'],
      ['get', '/auth/{provider}/link'],
    ]) {
      expect(op(method, path).security).toEqual(expect.arrayContaining([{ bearer: [] }, { 'access-cookie': [] }]));
    }
    for (const [method, path] of [
      ['get', '/auth/providers'],
      ['get', '/auth/{provider}/callback'],
      ['post', '/auth/refresh'],
    ]) {
      expect(op(method, path).security ?? []).toEqual([]);
    }
  });

  it('describes the machine-client token endpoint and the oauth2 client-credentials scheme with the scopes of @Scopes() routes', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    expect(doc.components.securitySchemes['machine-client']).toMatchObject({ type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/auth/oauth/token', scopes: { 'reports:read': expect.any(String) } } } });
    expect(doc.paths['/reports'].get.security).toEqual([{ 'machine-client': ['reports:read'] }]);
    expect(Object.keys(doc.paths['/reports'].get.responses)).toEqual(expect.arrayContaining(['401', '403']));
    const token = doc.paths['/auth/oauth/token'].post;
    expect(Object.keys(token.requestBody.content)).toEqual(expect.arrayContaining(['application/x-www-form-urlencoded', 'application/json']));
    expect(token.responses['200']).toBeDefined();
    expect(token.responses['401'].description).toContain('invalid_client');
  });

  it('enumerates every error code in the error schema', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    expect(doc.components.schemas.AuthErrorBodySchema.properties.error.enum.sort()).toEqual(Object.keys(AUTH_ERROR_CODES).sort());
  });

  it('exposes no secret-bearing example or server URL of the app', async () => {
    const text = (await t.http.get('/docs-json')).text;
    expect(text).not.toContain(t.config.jwtSecret!);
  });
});
