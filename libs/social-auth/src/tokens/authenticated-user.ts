/**
 * What the guard puts on the request after verifying an access token: the local user and
 * the session (refresh family) the token belongs to.
 * @publicApi
 */
export interface AuthenticatedUser {
  /** Local user id (`sub`). */
  id: string;
  /** Session id (`sid`). */
  sessionId: string;
  /** Access-token id (`jti`). */
  tokenId: string;
  /** When the access token was issued (seconds since epoch). */
  issuedAt: number;
  /** When the access token expires (seconds since epoch). */
  expiresAt: number;
  /**
   * How the request carried the token: `Authorization: Bearer` or the access cookie. Always set
   * by the guard. Cookie-authenticated unsafe requests must pass the CSRF origin check; bearer
   * requests are exempt because a browser never attaches an `Authorization` header on its own.
   */
  authMethod?: AuthMethod;
}

/** How a request was authenticated. @publicApi */
export type AuthMethod = 'bearer' | 'cookie';
