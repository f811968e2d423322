/** What the module sets on its cookies. @internal */
export interface SetCookieAttributes {
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'lax';
  path: string;
  /** `Domain=`; only ever written when expiring copies another host may have planted (see `cookie-conflict.ts`). */
  domain?: string;
  /** Lifetime in milliseconds (`0` expires the cookie). */
  maxAge: number;
}

/**
 * One `Set-Cookie` header value, written exactly as Express 5's `res.cookie` wrote it for the same
 * options (cookie 0.7's order: `Max-Age`, `Path`, `Expires`, `HttpOnly`, `Secure`, `SameSite`), so
 * every platform sends the same bytes. Values are the module's own URL-safe tokens; they are still
 * percent-encoded as Express did.
 * @internal
 */
export function formatSetCookie(name: string, value: string, attributes: SetCookieAttributes, now: number = Date.now()): string {
  const expires = new Date(now + attributes.maxAge);
  let out = `${name}=${encodeURIComponent(value)}; Max-Age=${Math.floor(attributes.maxAge / 1000)}`;
  if (attributes.domain !== undefined) out += `; Domain=${attributes.domain}`;
  out += `; Path=${attributes.path}; Expires=${expires.toUTCString()}`;
  if (attributes.httpOnly) out += '; HttpOnly';
  if (attributes.secure) out += '; Secure';
  out += '; SameSite=Lax';
  return out;
}
