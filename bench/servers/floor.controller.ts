import { Controller, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthCookies, AuthDatabase, Public } from '@nest-social-auth/core';
import type { AuthRequest, AuthResponse } from '@nest-social-auth/core';
import { hashRefreshToken, newRefreshToken } from '../../libs/social-auth/src/tokens/session.service';

/**
 * The floor of a refresh on PostgreSQL: what POST /auth/refresh cannot go below on this server.
 * The same two statements as the module's rotation (the token by hash, then the one statement that
 * slides the session, marks the token used, inserts the successor and clears sealed successors),
 * the same refresh cookie read and the same two cookies set (through the module's `AuthCookies`),
 * on the same Nest app, pool and tables. Fixed where a value does not change the database's work
 * (a pre-signed access token, a sealed value of the real length, the idle expiry); fresh where it
 * does (the successor's id and hash, so every request inserts a row as a rotation does). What the
 * module does beyond this (origin check, token format check, signing the access token, sealing the
 * successor, the policy around the statements) is the distance between refresh and floor.
 *
 * The statement text is a copy of `ROTATE_FOR_ENABLED_USER` in session.service.ts; the refresh
 * suite compares the statements this route sends with those a real refresh sends and refuses to
 * measure if they differ.
 */
@Controller('bench')
export class FloorController {
  /** A real access token of the same size (signed once at boot by the suite, through the module). */
  static accessToken = '';

  /** The length of a real sealed successor: `rs1.` + base64url(12-byte IV, 43-byte token, 16-byte tag). */
  private readonly sealed = `rs1.${'A'.repeat(95)}`;

  constructor(
    private readonly db: AuthDatabase,
    private readonly cookies: AuthCookies,
  ) {}

  @Public()
  @Post('floor')
  @HttpCode(200)
  async floor(@Req() req: AuthRequest, @Res({ passthrough: true }) res: AuthResponse): Promise<{ accessToken: string; tokenType: string; expiresIn: number }> {
    const cookie = this.cookies.read(req, 'refresh');
    if (cookie.status !== 'present') throw new UnauthorizedException();
    const ds = this.db.dataSource;
    const [found] = (await ds.query('SELECT id, session_id FROM auth_refresh_tokens WHERE token_hash = $1', [hashRefreshToken(cookie.value)])) as Array<{ id: string; session_id: string }>;
    if (!found) throw new UnauthorizedException();
    const now = new Date();
    const successor = newRefreshToken();
    const idle = new Date(now.getTime() + 14 * 86_400_000);
    const [row] = (await ds.query(ROTATE, [found.session_id, found.id, now, randomUUID(), hashRefreshToken(successor), this.sealed, idle])) as Array<{ id: string; user_id: string }>;
    if (!row) throw new UnauthorizedException();
    this.cookies.setSession(res, { accessToken: FloorController.accessToken, expiresIn: 600, refreshToken: successor, refreshExpiresAt: idle, sessionId: row.id, userId: row.user_id });
    return { accessToken: FloorController.accessToken, tokenType: 'Bearer', expiresIn: 600 };
  }
}

const ROTATE = `
WITH s AS (
  UPDATE auth_sessions SET last_used_at = $3, idle_expires_at = LEAST($7::timestamp, absolute_expires_at)
  WHERE id = $1 AND revoked_at IS NULL AND idle_expires_at > $3 AND absolute_expires_at > $3
    AND EXISTS (SELECT 1 FROM auth_users u WHERE u.id = auth_sessions.user_id AND u.disabled = false)
    AND EXISTS (SELECT 1 FROM auth_refresh_tokens WHERE id = $2 AND used_at IS NULL)
  RETURNING *
), t AS (
  UPDATE auth_refresh_tokens SET used_at = $3, successor_id = $4, successor_sealed = $6
  WHERE id = $2 AND session_id = $1 AND used_at IS NULL AND EXISTS (SELECT 1 FROM s)
  RETURNING id
), n AS (
  INSERT INTO auth_refresh_tokens (id, session_id, token_hash, parent_id, created_at, used_at, successor_id, successor_sealed)
  SELECT $4, $1, $5, t.id, $3, NULL, NULL, NULL FROM t
  RETURNING id
), c AS (
  UPDATE auth_refresh_tokens SET successor_sealed = NULL
  WHERE session_id = $1 AND id <> $2 AND successor_sealed IS NOT NULL AND EXISTS (SELECT 1 FROM t)
)
SELECT s.* FROM s WHERE EXISTS (SELECT 1 FROM n)`;
