import type { Request, Response } from 'express';
import type { AuthHttp, AuthRequest, AuthResponse } from './auth-http';
import { rawHeaderList, splitPath, splitQuery } from './http-values';

const req = (r: AuthRequest) => r as unknown as Request;
const res = (r: AuthResponse) => r as unknown as Response;

/** {@link AuthHttp} on `@nestjs/platform-express`. @internal */
export const expressHttp: AuthHttp = {
  platform: 'express',
  headerValues: (r, name) => rawHeaderList(req(r).rawHeaders, name),
  header: (r, name) => req(r).get(name),
  clientIp: (r) => req(r).ip || req(r).socket?.remoteAddress,
  rawQuery: (r) => splitQuery(req(r).originalUrl ?? req(r).url),
  requestPath: (r) => splitPath(req(r).originalUrl ?? req(r).url),
  query: (r) => (req(r).query ?? {}) as Record<string, unknown>,
  isJson: (r) => !!req(r).is('application/json'),
  setHeader: (r, name, value) => void res(r).setHeader(name, value),
  appendSetCookie: (r, cookie) => void res(r).append('Set-Cookie', cookie),
  headersSent: (r) => res(r).headersSent,
  send: (r, status, body) => void res(r).status(status).json(body),
  sendHtml: (r, status, html) => void res(r).status(status).type('text/html; charset=utf-8').send(html),
  redirect: (r, location) => {
    // A bare 302: Express's `res.redirect` adds an HTML/text body quoting the URL; nothing here needs one.
    const response = res(r);
    response.location(location);
    response.status(302).setHeader('Content-Length', '0');
    response.end();
  },
};
