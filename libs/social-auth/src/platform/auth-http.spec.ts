import express from 'express';
import Fastify from 'fastify';
import request from 'supertest';
import type { AuthHttp, AuthRequest, AuthResponse } from './auth-http';
import { authHttpFor, authHttpOf } from './auth-http.provider';
import { expressHttp } from './express-http';
import { fastifyHttp } from './fastify-http';
import { formatSetCookie } from './set-cookie';

const ATTRIBUTES = [
  { httpOnly: true, secure: false, sameSite: 'lax' as const, path: '/', maxAge: 900_000 },
  { httpOnly: true, secure: true, sameSite: 'lax' as const, path: '/api/auth', maxAge: 1_209_600_500 },
  { httpOnly: true, secure: true, sameSite: 'lax' as const, path: '/auth', maxAge: 0 },
];

/** `Expires` is computed from the clock when written: compare the rest, and the date within a few seconds. */
function split(cookie: string): { rest: string; expires: number } {
  const match = /; Expires=([^;]+)/.exec(cookie);
  return { rest: cookie.replace(/; Expires=[^;]+/, ''), expires: match ? Date.parse(match[1]) : NaN };
}

describe('formatSetCookie', () => {
  it.each(ATTRIBUTES)('writes what Express 5 res.cookie wrote for the same options (case %#)', async (attributes) => {
    const app = express();
    app.get('/', (_req, res) => {
      res.cookie('__Host-name', 'value_-.~', { httpOnly: attributes.httpOnly, secure: attributes.secure, sameSite: attributes.sameSite, path: attributes.path, maxAge: attributes.maxAge });
      res.end();
    });
    const [byExpress] = (await request(app).get('/')).headers['set-cookie'] as unknown as string[];
    const ours = formatSetCookie('__Host-name', 'value_-.~', attributes);
    expect(split(ours).rest).toBe(split(byExpress).rest);
    expect(Math.abs(split(ours).expires - split(byExpress).expires)).toBeLessThanOrEqual(3000);
  });
});

describe('choosing the AuthHttp', () => {
  it('by adapter type, once known', () => {
    expect(authHttpFor('express')).toBe(expressHttp);
    expect(authHttpFor('fastify')).toBe(fastifyHttp);
    expect(authHttpFor('koa')).toBeUndefined();
    expect(authHttpFor(undefined)).toBeUndefined();
  });

  it('by shape, for objects handed in without an app: Fastify wraps Node objects in raw', () => {
    expect(authHttpOf({ raw: { headers: {} }, headers: {} } as unknown as AuthRequest)).toBe(fastifyHttp);
    expect(authHttpOf({ rawHeaders: [], headers: {} } as unknown as AuthRequest)).toBe(expressHttp);
  });
});

/** One route answering with `write` after reading the request with `read`, on each platform. */
async function onBoth(read: (http: AuthHttp, req: AuthRequest) => unknown, write: (http: AuthHttp, res: AuthResponse) => void) {
  const seen: Record<string, unknown> = {};
  const e = express();
  e.set('trust proxy', 1);
  e.all('/r', (req, res) => {
    seen.express = read(expressHttp, req as unknown as AuthRequest);
    write(expressHttp, res);
  });
  const f = Fastify({ trustProxy: 1 });
  f.all('/r', (req, reply) => {
    seen.fastify = read(fastifyHttp, req as unknown as AuthRequest);
    write(fastifyHttp, reply);
  });
  await f.ready();
  return { seen, express: request(e), fastify: request(f.server), close: () => f.close() };
}

describe('expressHttp and fastifyHttp: the same reads and the same bytes', () => {
  it('reads raw duplicates, the merged header, the client address, the raw query and JSON-ness alike', async () => {
    const read = (http: AuthHttp, req: AuthRequest) => ({
      origins: http.headerValues(req, 'origin'),
      agent: http.header(req, 'user-agent'),
      ip: http.clientIp(req),
      rawQuery: http.rawQuery(req),
      path: http.requestPath(req),
      query: { ...http.query(req) },
      json: http.isJson(req),
    });
    const both = await onBoth(read, (http, res) => http.send(res, 200, {}));
    try {
      for (const platform of ['express', 'fastify'] as const) {
        await both[platform]
          .post('/r?state=a%2Bb&code=c')
          .set('Origin', 'https://a.test')
          .set('X-Forwarded-For', '203.0.113.9')
          .set('User-Agent', 'ua/1')
          .set('Content-Type', 'application/json; charset=utf-8')
          .send('{}')
          .expect(200);
      }
      expect(both.seen.fastify).toEqual(both.seen.express);
      expect(both.seen.express).toEqual({ origins: ['https://a.test'], agent: 'ua/1', ip: '203.0.113.9', rawQuery: 'state=a%2Bb&code=c', path: '/r', query: { state: 'a+b', code: 'c' }, json: true });
    } finally {
      await both.close();
    }
  });

  it('a bodiless request is not JSON, whatever its Content-Type says (type-is rule)', async () => {
    const both = await onBoth((http, req) => http.isJson(req), (http, res) => http.send(res, 200, {}));
    try {
      for (const platform of ['express', 'fastify'] as const) await both[platform].get('/r').set('Content-Type', 'application/json').expect(200);
      expect(both.seen).toEqual({ express: false, fastify: false });
    } finally {
      await both.close();
    }
  });

  it('sendHtml: status, an HTML body as given, and the headers set before it', async () => {
    const both = await onBoth(
      () => undefined,
      (http, res) => {
        http.setHeader(res, 'Cache-Control', 'no-store');
        http.sendHtml(res, 200, '<!doctype html><p>relay</p>');
      },
    );
    try {
      for (const platform of ['express', 'fastify'] as const) {
        const res = await both[platform].get('/r').expect(200);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.text).toBe('<!doctype html><p>relay</p>');
      }
    } finally {
      await both.close();
    }
  });

  it('send: status, JSON body and headers; appendSetCookie keeps every cookie', async () => {
    const both = await onBoth(
      () => undefined,
      (http, res) => {
        http.setHeader(res, 'Retry-After', '5');
        http.appendSetCookie(res, 'a=1; Path=/');
        http.appendSetCookie(res, 'b=2; Path=/auth');
        http.send(res, 429, { statusCode: 429, error: 'rate_limited' });
      },
    );
    try {
      for (const platform of ['express', 'fastify'] as const) {
        const res = await both[platform].get('/r').expect(429);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/auth']);
        expect(res.text).toBe('{"statusCode":429,"error":"rate_limited"}');
      }
    } finally {
      await both.close();
    }
  });

  it('redirect: a bare 302 with the Location encoded as Express encodes it', async () => {
    const both = await onBoth(
      () => undefined,
      (http, res) => http.redirect(res, '/landing?x=a b&y=%41%zz#é'),
    );
    try {
      const locations: string[] = [];
      for (const platform of ['express', 'fastify'] as const) {
        const res = await both[platform].get('/r').redirects(0).expect(302);
        expect(res.headers['content-length']).toBe('0');
        expect(res.text).toBe('');
        locations.push(res.headers.location);
      }
      expect(locations[1]).toBe(locations[0]);
    } finally {
      await both.close();
    }
  });
});
