/**
 * Small HTTP helpers shared by the fakes: parameter parsing the way RFC 6749 wants it,
 * bounded body reading, patch merging and body serialisation.
 * @internal
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type { FakeClaimsPatch, FakeIdpParams } from './fake-idp.types';

/** Bodies above this size are refused with 413 instead of being buffered. @internal */
export const MAX_BODY_BYTES = 1024 * 1024;

/** @internal */
export type ParsedBody =
  | { kind: 'none' }
  | { kind: 'form'; params: FakeIdpParams }
  | { kind: 'json'; value: unknown }
  | { kind: 'invalid-json'; raw: string }
  | { kind: 'raw'; raw: string }
  | { kind: 'too-large' };

/** Parses `a=1&b=2&a=3` keeping repeated names as arrays (never throws). @internal */
export function parseParams(text: string): FakeIdpParams {
  const out: FakeIdpParams = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * One parameter value. RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if
 * they were omitted". Callers reject duplicates first, so an array here is never expected.
 * @internal
 */
export function param(params: FakeIdpParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Names sent more than once (RFC 6749 §3.1: "MUST NOT be included more than once"). @internal */
export function duplicatedParams(params: FakeIdpParams, names?: readonly string[]): string[] {
  return (names ?? Object.keys(params)).filter((n) => Array.isArray(params[n]));
}

/** Splits `/path?query` without URL resolution, so `//host`-style paths stay paths. @internal */
export function splitTarget(target: string | undefined): { path: string; query: FakeIdpParams } {
  const raw = target ?? '/';
  const q = raw.indexOf('?');
  return q < 0 ? { path: raw, query: parseParams('') } : { path: raw.slice(0, q), query: parseParams(raw.slice(q + 1)) };
}

/** Reads the body (bounded) and parses it by content type. Never throws on bad input. @internal */
export async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) return { kind: 'too-large' };
  if (size === 0) return { kind: 'none' };
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', params: parseParams(raw) };
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(raw) as unknown };
    } catch {
      return { kind: 'invalid-json', raw };
    }
  }
  return { kind: 'raw', raw };
}

/** The value a request log shows for a parsed body. @internal */
export function loggedBody(body: ParsedBody): unknown {
  switch (body.kind) {
    case 'form':
      return body.params;
    case 'json':
      return body.value;
    case 'invalid-json':
    case 'raw':
      return body.raw;
    default:
      return undefined;
  }
}

/** Shallow merge where `undefined` deletes the key. Returns a new object. @internal */
export function applyPatch(base: object, patch: FakeClaimsPatch | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Serialises a body for the given content type (strings pass through). @internal */
export function serializeBody(body: unknown, contentType: string): string {
  if (typeof body === 'string') return body;
  if (/x-www-form-urlencoded/i.test(contentType) && body && typeof body === 'object') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body)) {
      if (value !== undefined) form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    return form.toString();
  }
  return JSON.stringify(body);
}

/** Constant-time string comparison for client secrets. @internal */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Decodes an RFC 6749 §2.3.1 Basic credential: the id and the secret are each
 * form-urlencoded before being joined by ':' and base64-encoded.
 * @internal
 */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | 'absent' | 'malformed' {
  if (!header) return 'absent';
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match) return /^Basic(\s|$)/i.test(header) ? 'malformed' : 'absent';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

/** Appends parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2). @internal */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(key, value);
  return url.toString();
}

/** An absolute http(s) URI without fragment (RFC 6749 §3.1.2), or undefined. @internal */
export function parseRedirectUri(value: string): URL | undefined {
  if (value.includes('#')) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
