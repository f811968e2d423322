/** Tokens handed to the client when a session is opened or refreshed. @publicApi */
export interface IssuedTokens {
  /** Access token (JWT, `typ: at+jwt`). */
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Opaque refresh token (≥ 256 bits). */
  refreshToken: string;
  /** When the refresh token stops working if unused (idle or absolute, whichever is first). */
  refreshExpiresAt: Date;
  /** The session (refresh family) id, the access token's `sid`. */
  sessionId: string;
  /** The local user id. */
  userId: string;
}

/** Where a session was opened from, for the sessions list. Never holds secrets. @publicApi */
export interface SessionContext {
  provider?: string | null;
  userAgent?: string | null;
  ip?: string | null;
}
