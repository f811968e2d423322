import type { IncomingHttpHeaders } from 'node:http';

/** Every value of `name` (lower case) in Node's `rawHeaders` list, duplicates included. @internal */
export function rawHeaderList(raw: readonly string[] | undefined, name: string): string[] {
  const out: string[] = [];
  const list = raw ?? [];
  // Comparing lengths first spares a lower-cased copy of every other header name.
  for (let i = 0; i + 1 < list.length; i += 2) if (list[i].length === name.length && list[i].toLowerCase() === name) out.push(list[i + 1]);
  return out;
}

/** The query string of a request URL (without `?`), `''` when none. @internal */
export function splitQuery(url: string | undefined): string {
  const value = url ?? '';
  const q = value.indexOf('?');
  return q < 0 ? '' : value.slice(q + 1);
}

/** The path of a request URL (before `?`), `/` when empty. @internal */
export function splitPath(url: string | undefined): string {
  const value = url ?? '';
  const q = value.indexOf('?');
  const path = q < 0 ? value : value.slice(0, q);
  return path.startsWith('/') ? path : '/';
}

/** type-is's rule (Express `req.is`): a request has a body when it says how long it is or that it is chunked. @internal */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(headers['content-length']));
}

/** The media type of a `Content-Type` value, lower case, without parameters. @internal */
export function mediaType(contentType: string | undefined): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : undefined;
}

const ENCODE_CHARS = /(?:[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E]+|%+(?![0-9A-Fa-f]{2})){1,1024}/g;
const SURROGATES = /([\uD800-\uDBFF][\uDC00-\uDFFF])|[\uD800-\uDFFF]/g;

/** A `Location` value percent-encoded as Express's `res.location` does (encodeurl), already-encoded sequences kept. @internal */
export function encodeLocation(url: string): string {
  return url.replace(SURROGATES, (_, pair: string | undefined) => pair ?? '\uFFFD').replace(ENCODE_CHARS, encodeURI);
}
