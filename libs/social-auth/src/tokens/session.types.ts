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

/** One live session (signed-in device) of a user, as `GET /auth/sessions` lists it. @publicApi */
export interface SessionSummary {
  id: string;
  /** Provider used to sign in, when known. */
  provider: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  /** When the session ends unless refreshed (idle) or at the latest (absolute). */
  expiresAt: Date;
}

/** Why a session was revoked, as stored in `auth_sessions.revoked_reason` (≤ 32 characters). @publicApi */
export type SessionRevocationReason =
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'refresh_token_reused'
  | 'account_disabled'
  | 'identity_unlinked'
  | (string & Record<never, never>);
