import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthHttp, AuthRequest, AuthResponse } from './auth-http';
import { encodeLocation, hasBody, mediaType, rawHeaderList, splitPath, splitQuery } from './http-values';

/** The members of Fastify's request the module reads (no `fastify` types in the module's build). */
interface FastifyRequestLike {
  raw: IncomingMessage;
  headers: IncomingMessage['headers'];
  ip?: string;
  url?: string;
  query?: unknown;
}

/** The members of Fastify's reply the module writes through. */
interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  header(name: string, value: string): FastifyReplyLike;
  code(status: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

const req = (r: AuthRequest) => r as unknown as FastifyRequestLike;
const res = (r: AuthResponse) => r as unknown as FastifyReplyLike;

/** {@link AuthHttp} on `@nestjs/platform-fastify`: the same bytes on the wire as {@link expressHttp}. @internal */
export const fastifyHttp: AuthHttp = {
  platform: 'fastify',
  headerValues: (r, name) => rawHeaderList(req(r).raw?.rawHeaders, name),
  header: (r, name) => {
    const value = req(r).headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  },
  clientIp: (r) => req(r).ip || req(r).raw?.socket?.remoteAddress,
  rawQuery: (r) => splitQuery(req(r).raw?.url ?? req(r).url),
  requestPath: (r) => splitPath(req(r).raw?.url ?? req(r).url),
  query: (r) => (req(r).query ?? {}) as Record<string, unknown>,
  isJson: (r) => hasBody(req(r).headers) && mediaType(req(r).headers['content-type']) === 'application/json',
  setHeader: (r, name, value) => void res(r).header(name, value),
  // Fastify keeps every `set-cookie` given to `header()` (an array), unlike other names.
  appendSetCookie: (r, cookie) => void res(r).header('set-cookie', cookie),
  headersSent: (r) => res(r).sent || res(r).raw.headersSent,
  send: (r, status, body) => void res(r).code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body)),
  sendHtml: (r, status, html) => void res(r).code(status).header('content-type', 'text/html; charset=utf-8').send(html),
  redirect: (r, location) => void res(r).code(302).header('location', encodeLocation(location)).header('content-length', '0').send(),
};
