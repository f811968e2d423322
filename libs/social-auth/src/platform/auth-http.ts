import type { IncomingHttpHeaders } from 'node:http';

/**
 * The request as the module's public hooks see it, on any HTTP platform: Express's `Request` and
 * Fastify's `FastifyRequest` both have these members. Anything else is read through {@link AuthHttp}.
 * @publicApi
 */
export interface AuthRequest {
  method: string;
  headers: IncomingHttpHeaders;
}

/** The response object of the platform (Express `Response`, Fastify `FastifyReply`). @publicApi */
export type AuthResponse = object;

/** HTTP platforms the module has an {@link AuthHttp} for. @internal */
export type AuthHttpPlatformType = 'express' | 'fastify';

/**
 * The only place the module touches the HTTP platform's request and response. Every other part
 * reads and writes through it, so running on Express or Fastify changes nothing else.
 *
 * Invariants:
 * - Header reads that judge ambiguity (`headerValues`) see every copy as received (raw headers),
 *   never a platform's merged or first-wins value.
 * - Cookies are formatted by the module (`formatSetCookie`) and appended as raw `Set-Cookie`
 *   headers: no `res.cookie`, no cookie plugin.
 * - `send` and `redirect` end the response; nothing else does.
 * @internal
 */
export interface AuthHttp {
  readonly platform: AuthHttpPlatformType;
  /** Every value of header `name` (lower case) exactly as received, duplicates included. */
  headerValues(req: AuthRequest, name: string): string[];
  /** The header's value as the platform merged it, or undefined. */
  header(req: AuthRequest, name: string): string | undefined;
  /** The client address as the platform computed it from the trusted proxy hops. */
  clientIp(req: AuthRequest): string | undefined;
  /** The request's query string as received (without `?`), `''` when none. */
  rawQuery(req: AuthRequest): string;
  /** The request's path as received (before `?`, not percent-decoded), as browsers match cookie paths against it. */
  requestPath(req: AuthRequest): string;
  /** The query as the platform parsed it. */
  query(req: AuthRequest): Record<string, unknown>;
  /** Whether the request has a body of type `application/json` (Express's `req.is('application/json')`). */
  isJson(req: AuthRequest): boolean;
  setHeader(res: AuthResponse, name: string, value: string): void;
  /** Adds one `Set-Cookie` header, keeping those already set. */
  appendSetCookie(res: AuthResponse, cookie: string): void;
  headersSent(res: AuthResponse): boolean;
  /** Ends the response with `status` and a JSON body. */
  send(res: AuthResponse, status: number, body: object): void;
  /** Ends the response with `status` and an HTML page (`Content-Type: text/html; charset=utf-8`). */
  sendHtml(res: AuthResponse, status: number, html: string): void;
  /** Ends the response with a bare `302` (no body) to `location`. */
  redirect(res: AuthResponse, location: string): void;
}
