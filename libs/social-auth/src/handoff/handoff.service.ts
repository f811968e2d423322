import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';
import { AuthDatabase } from '../database/auth-database';
import { ExternalIdentity } from '../entities/external-identity.entity';
import { Clock } from '../tokens/clock';
import { deriveKey } from '../tokens/key-derivation';
import { SessionService } from '../tokens/session.service';
import type { IssuedTokens, SessionContext } from '../tokens/session.types';
import { SingleUseStore } from '../transaction/single-use.store';
import type { AuthResponse } from '../platform/auth-http';
import { AuthCookies, CookieRead } from '../tokens/auth-cookies';
import { bindingMatches, HandoffClient, HandoffRequest, LOGIN_CODE_KEY_PURPOSE, LOGIN_CODE_TTL_SECONDS, LoginCode, isLoginCodeExpired, openLoginCode, s256, sealLoginCode, verifierMatches } from './login-code';

/** Seconds the single-use marker of a login code is kept: well past its 60-second lifetime, so clock skew cannot reopen it. */
const MARKER_TTL_SECONDS = 120;

/**
 * Mints login codes at the sign-in callback and redeems them at `POST /auth/token`.
 *
 * Invariants (docs/handoff.md):
 * - Redeem order: decrypt → consume the single-use marker → expiry → PKCE verifier → browser
 *   binding (`browser` codes: the login-binding cookie set at the start) → an identity of the
 *   code's provider still linked → user still enabled → open the session. Every refusal is `invalid_login_code` (or `account_disabled`) and
 *   writes no session.
 * - The code is consumed *before* the verifier is checked: a wrong-verifier guess burns it, so an
 *   attacker holding a leaked code gets one try, and the legitimate client must sign in again.
 * - Codes, verifiers and challenges are never logged.
 * @internal
 */
@Injectable()
export class HandoffService {
  private readonly key: Buffer;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
    @Inject(SingleUseStore) private readonly singleUse: SingleUseStore,
    private readonly sessions: SessionService,
    private readonly cookies: AuthCookies,
    private readonly db: AuthDatabase,
  ) {
    this.key = deriveKey(options, LOGIN_CODE_KEY_PURPOSE);
  }

  /** A fresh browser binding for a `client=browser` start: the cookie value (256 random bits) and its S256, which the transaction carries. */
  newBrowserBinding(): { value: string; hash: string } {
    const value = randomBytes(32).toString('base64url');
    return { value, hash: s256(value) };
  }

  /** Sets the login-binding cookie for as long as the flow and its login code can live. */
  setBrowserBinding(res: AuthResponse, value: string): void {
    this.cookies.write(res, 'loginBinding', value, (this.options.transaction.ttl + LOGIN_CODE_TTL_SECONDS) * 1000);
  }

  /** Expires the login-binding cookie (after a browser code was redeemed). */
  clearBrowserBinding(res: AuthResponse): void {
    this.cookies.write(res, 'loginBinding', '', 0);
  }

  /** A sealed login code for `userId`, bound to the client's challenge, valid 60 seconds. */
  mint(userId: string, provider: string, handoff: HandoffRequest): string {
    const code: LoginCode = {
      id: randomBytes(16).toString('base64url'),
      userId,
      provider,
      challenge: handoff.challenge,
      client: handoff.client,
      ...(handoff.binding !== undefined ? { binding: handoff.binding } : {}),
      exp: this.clock.seconds() + LOGIN_CODE_TTL_SECONDS,
    };
    return sealLoginCode(code, this.key);
  }

  /** The client kind a login code was minted for, without consuming it; `invalid_login_code` when it does not open. */
  peekClient(sealed: string): HandoffClient {
    const opened = openLoginCode(sealed, this.key);
    if (!opened.ok) throw new AuthError('invalid_login_code', { cause: new Error(`login code ${opened.reason}`) });
    return opened.code.client;
  }

  /**
   * Redeems a login code with its PKCE verifier (and, for a `browser` code, the request's
   * login-binding cookie): opens a new session of the code's user.
   */
  async redeem(sealed: string, verifier: string, context: SessionContext, binding: CookieRead = { status: 'absent' }): Promise<{ tokens: IssuedTokens; client: HandoffClient }> {
    const opened = openLoginCode(sealed, this.key);
    if (!opened.ok) throw new AuthError('invalid_login_code', { cause: new Error(`login code ${opened.reason}`) });
    const code = opened.code;
    // Consumed before any other check: a wrong-verifier guess burns the code (one try per code).
    if (!(await this.singleUse.consume(`login-code:${code.id}`, MARKER_TTL_SECONDS))) throw new AuthError('invalid_login_code', { cause: new Error('login code replayed') });
    if (isLoginCodeExpired(code, this.clock.seconds())) throw new AuthError('invalid_login_code', { cause: new Error('login code expired') });
    if (!verifierMatches(verifier, code.challenge)) throw new AuthError('invalid_login_code', { cause: new Error('login code verifier mismatch') });
    // A browser code is redeemed only by the browser that started its flow (not by whoever holds the verifier).
    if (code.client === 'browser' && !bindingMatches(binding.status === 'present' ? binding.value : undefined, code.binding)) {
      throw new AuthError('invalid_login_code', { cause: new Error('login code browser binding mismatch') });
    }
    // A code minted just before the user disconnected its provider must not open a session through
    // it afterwards: disconnecting revokes the sessions opened through a provider, and a code is one
    // not opened yet.
    if ((await this.db.dataSource.manager.count(ExternalIdentity, { where: { userId: code.userId, provider: code.provider } })) === 0) {
      throw new AuthError('invalid_login_code', { cause: new Error('login code provider no longer linked') });
    }
    // SessionService.open refuses a missing or disabled user (account_disabled) before writing anything.
    const tokens = await this.sessions.open(code.userId, { ...context, provider: code.provider });
    return { tokens, client: code.client };
  }
}
