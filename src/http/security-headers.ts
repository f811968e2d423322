import type { INestApplication } from '@nestjs/common';

/**
 * Headers every answer of the demo carries, HTML or not: no MIME sniffing, no referrer, never
 * framed (a framed page could be clicked through, e.g. Swagger UI's "Try it out" posting to
 * logout-all). Pages that need more set their own `Content-Security-Policy` over the default.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The CSP of every answer that sets none of its own: nothing may load, nothing may frame it. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The CSP of Swagger UI (`/docs` and its assets). Its scripts are files of this origin; its page
 * and components use inline styles and `data:` images, which is all `'unsafe-inline'` and `data:`
 * allow here (no inline or remote script). "Try it out" calls this origin only.
 */
export const API_DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The security headers of one answer, by request path (query string ignored). */
export function securityHeadersFor(path: string, docsPath: string): Record<string, string> {
  const pathname = path.split('?')[0].toLowerCase();
  const docs = `/${docsPath}`;
  const isDocs = pathname === docs || pathname.startsWith(`${docs}/`);
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': isDocs ? API_DOCS_CSP : DEFAULT_CSP };
}

/**
 * Sets {@link securityHeadersFor} on every answer, before any route runs (so 404s, Swagger's
 * routes and the module's routes get them too), on Express or Fastify.
 */
export function applySecurityHeaders(app: INestApplication, docsPath: string): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    type Reply = { header(name: string, value: string): unknown };
    const fastify = adapter.getInstance() as { addHook(name: 'onRequest', hook: (req: { url: string }, reply: Reply, done: () => void) => void): void };
    fastify.addHook('onRequest', (req, reply, done) => {
      for (const [name, value] of Object.entries(securityHeadersFor(req.url, docsPath))) reply.header(name, value);
      done();
    });
    return;
  }
  app.use((req: { url: string }, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    for (const [name, value] of Object.entries(securityHeadersFor(req.url, docsPath))) res.setHeader(name, value);
    next();
  });
}
