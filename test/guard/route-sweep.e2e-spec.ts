import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { request as httpRequest } from 'node:http';
import { IS_PUBLIC_KEY } from '@nest-social-auth/core';
import { createTestApp, routerLayers, TestApp } from '../support/test-app';
import { createSessionsApp } from '../sessions/sessions-app';

/**
 * The only routes that may answer without an access token. Adding a `@Public()` route means
 * adding it here, on purpose. (Refresh and logout are public to the guard because they
 * authenticate with the refresh token themselves.)
 */
const PUBLIC_ALLOWLIST = new Set([
  'GET /',
  'GET /health',
  'GET /.well-known/jwks.json',
  'POST /auth/refresh',
  'POST /auth/logout',
  // Login-code hand-off (docs/handoff.md): authenticated by the sealed single-use code and its PKCE verifier.
  'POST /auth/token',
  // Machine clients' token endpoint (docs/machine-clients.md): authenticated by the client's secret or signed assertion.
  'POST /auth/oauth/token',
  'GET /auth/providers',
  'GET /auth/:provider',
  'GET /auth/:provider/callback',
  // The OAuth callback answers every method itself (non-GET is refused with a stable code).
  'ALL /auth/:provider/callback',
]);

/** Methods the sweep sends; a route registered for every method (`@All`) is swept with these. */
const SWEPT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The demo's OpenAPI description (Swagger UI and its assets at /docs, JSON at /docs-json): routes, never data. */
const PUBLIC_DOCS = /^\/docs(-json|\/.*)?$/;

function isPublic(method: string, path: string): boolean {
  return PUBLIC_ALLOWLIST.has(`${method} ${path}`) || PUBLIC_ALLOWLIST.has(`ALL ${path}`) || (method === 'GET' && PUBLIC_DOCS.test(path));
}

interface Route {
  method: string;
  path: string;
}

/** Every route the platform will dispatch to, from Express's router stack or Fastify's routes (standard methods only). */
function expressRoutes(t: TestApp): Route[] {
  const stack = routerLayers(t.app);
  const seen = new Set<string>();
  return stack.flatMap((layer) => {
    if (!layer.route) return [];
    const methods = Object.keys(layer.route.methods).map((m) => m.toUpperCase());
    const swept = methods.includes('_ALL') ? SWEPT_METHODS : methods.filter((m) => SWEPT_METHODS.includes(m));
    return swept
      .map((method) => ({ method, path: layer.route!.path }))
      .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
  });
}

/** Every handler marked `@Public()` (on itself or its controller), from Nest's own metadata. */
function publicHandlers(t: TestApp): string[] {
  const out: string[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type;
      if (!controller?.prototype) continue;
      const base = [Reflect.getMetadata(PATH_METADATA, controller)].flat()[0] ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        if (!(Reflect.getMetadata(IS_PUBLIC_KEY, handler) ?? Reflect.getMetadata(IS_PUBLIC_KEY, controller))) continue;
        const path = `/${[base, [Reflect.getMetadata(PATH_METADATA, handler)].flat()[0]].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        out.push(`${RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]} ${path}`);
      }
    }
  }
  return out;
}

function concrete(path: string): string {
  return path.replace(/:provider/g, 'google').replace(/:id/g, '6c1f4f4e-8d7e-4f59-9a43-0d2b8f3f6a11').replace(/:[A-Za-z]+/g, 'x');
}

/** Sends `target` verbatim as the request-target (no client-side normalisation). */
function sendRaw(t: TestApp, method: string, target: string): Promise<number> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: target, headers: { Origin: t.url } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function send(t: TestApp, method: string, path: string) {
  const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  return t.http[m](path).set('Origin', t.url);
}

describe('default-deny route sweep (threat model D6)', () => {
  let t: TestApp;
  let routes: Route[];
  let protectedRoutes: Route[];

  beforeAll(async () => {
    t = await createTestApp();
    routes = expressRoutes(t);
    protectedRoutes = routes.filter((r) => !isPublic(r.method, r.path));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('finds the routes (the sweep is not vacuous)', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    for (const known of ['GET /me', 'GET /health', 'POST /auth/refresh', 'POST /auth/logout-all', 'GET /auth/sessions', 'DELETE /auth/sessions/:id']) {
      expect(keys).toContain(known);
    }
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(4);
  });

  it('every @Public() handler is on the explicit allowlist', () => {
    const open = publicHandlers(t);
    expect(open.length).toBeGreaterThanOrEqual(4);
    expect(open.filter((r) => !PUBLIC_ALLOWLIST.has(r))).toEqual([]);
  });

  it('every other route answers 401 unauthorized without credentials', async () => {
    const answers: string[] = [];
    for (const r of protectedRoutes) {
      const res = await send(t, r.method, concrete(r.path));
      answers.push(`${r.method} ${r.path} → ${res.status} ${res.body?.error}`);
    }
    expect(answers).toEqual(protectedRoutes.map((r) => `${r.method} ${r.path} → 401 unauthorized`));
  });

  it('no spelling of a protected path opens it: //x, /X, /x/, /x;y, /x%2f, /./x, /x/.', async () => {
    const leaks: string[] = [];
    for (const r of protectedRoutes) {
      const path = concrete(r.path);
      const variants = [`/${path}`, `//${path}`, path.toUpperCase(), `${path}/`, `${path}//`, `${path};x`, `${path}%2f`, `/.${path}`, `${path}/.`, `/x/..${path}`, `/%2F${path.slice(1)}`, `${path}?x=1`, `${path}%00`, `${path}%20`];
      for (const variant of variants) {
        const status = await sendRaw(t, r.method, variant);
        if (status !== 401 && status !== 404 && status !== 400) leaks.push(`${r.method} ${variant} → ${status}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('a garbage token is no better than none on any protected route', async () => {
    for (const r of protectedRoutes) {
      const res = await send(t, r.method, concrete(r.path)).set('Authorization', 'Bearer a.b.c');
      expect(`${r.method} ${r.path} → ${res.status}`).toBe(`${r.method} ${r.path} → 401`);
    }
  });

  it('a broken auth configuration fails closed: the app does not start', async () => {
    await expect(createSessionsApp({ tokens: { secret: 'too-short' } })).rejects.toThrow(/tokens.secret/);
    await expect(createSessionsApp({ tokens: { secret: undefined } as never })).rejects.toThrow(/tokens/);
  });
});
