import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthCookies } from '../tokens/auth-cookies';
import { Clock } from '../tokens/clock';
import { authCookieNames } from '../tokens/cookie-names';
import { deriveKey } from '../tokens/key-derivation';
import type { HandoffRequest } from '../handoff/login-code';
import { OAuthTransaction, TransactionIntent, openTransaction, sealTransaction } from './oauth-transaction';
import { SingleUseStore } from './single-use.store';

/** HKDF purpose label of the transaction cookie's AES-256-GCM key. @internal */
export const TRANSACTION_KEY_PURPOSE = 'social-auth/transaction';

/** Browsers drop cookies above 4096 bytes (name, value and attributes). */
const MAX_COOKIE_VALUE_LENGTH = 3800;
/** Markers outlive the transaction by this much, so clock skew between instances cannot reopen a window. */
const MARKER_MARGIN_SECONDS = 60;

/** What the start route decides; the service adds id, state, verifier and lifetimes. @internal */
export interface TransactionSeed {
  provider: string;
  intent: TransactionIntent;
  returnTo: string;
  /** Login-code hand-off requested by the client (see `handoff/login-code.ts`). */
  handoff?: HandoffRequest;
  nonce?: string;
  issuer?: string;
  requireIss: boolean;
}

/** A new transaction and its sealed cookie value. @internal */
export interface CreatedTransaction {
  transaction: OAuthTransaction;
  sealed: string;
}

/** The transaction of a callback request, or the error code of why there is none. @internal */
export type TransactionRead = { ok: true; transaction: OAuthTransaction } | { ok: false; code: 'invalid_state' | 'state_expired' | 'cookie_conflict' };

/**
 * The stateless OAuth transaction: created when a flow starts, carried by the browser in one
 * encrypted cookie, opened and consumed by the callback.
 *
 * Invariants (threat model A1, A2, A4, H1):
 * - The cookie is `HttpOnly`, `SameSite=Lax` (it must survive the top-level redirect back from
 *   the provider), host-only with `Path=/`, `Secure` with the `__Host-` name whenever cookies are
 *   secure (a sibling subdomain cannot plant it: threat model F2), and lives `transaction.ttl`
 *   seconds; the sealed payload
 *   also carries its expiry, so a kept cookie is refused after the TTL even if the browser did
 *   not drop it.
 * - It is single-use: the callback consumes the transaction id in the {@link SingleUseStore}
 *   before redeeming the code, so a replay is refused even on another instance.
 * - Nothing is stored server-side until the callback: pending flows cost no storage.
 * - A cookie sent twice (cookie tossing) is refused with `cookie_conflict`, never first-wins, and
 *   every copy is expired (see {@link expireConflict}).
 * - One transaction per browser: starting a second flow replaces the first, whose callback then
 *   fails with `invalid_state` (its `state` no longer matches).
 * @internal
 */
@Injectable()
export class OAuthTransactionService {
  /** Name of the transaction cookie. */
  readonly cookieName: string;
  private readonly key: Buffer;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
    @Inject(SingleUseStore) private readonly singleUse: SingleUseStore,
    private readonly cookies: AuthCookies,
  ) {
    this.key = deriveKey(options, TRANSACTION_KEY_PURPOSE);
    this.cookieName = authCookieNames(options).transaction;
  }

  /**
   * Creates the transaction of a new authorization request, sealed for its cookie. Nothing is
   * written: the flow sets the cookie ({@link setCookie}) once the redirect is ready.
   */
  create(seed: TransactionSeed, verifier: string): CreatedTransaction {
    const now = this.clock.seconds();
    const transaction: OAuthTransaction = {
      id: randomBytes(16).toString('base64url'),
      provider: seed.provider,
      state: randomBytes(32).toString('base64url'),
      verifier,
      nonce: seed.nonce,
      issuer: seed.issuer,
      requireIss: seed.requireIss,
      intent: seed.intent,
      returnTo: seed.returnTo,
      ...(seed.handoff ? { handoff: seed.handoff } : {}),
      issuedAt: now,
      expiresAt: now + this.options.transaction.ttl,
    };
    let sealed = sealTransaction(transaction, this.key);
    if (sealed.length > MAX_COOKIE_VALUE_LENGTH) {
      // A long absolute returnTo could push the cookie past what browsers keep; land on the default instead.
      transaction.returnTo = this.options.defaultReturnTo;
      sealed = sealTransaction(transaction, this.key);
    }
    return { transaction, sealed };
  }

  /** Sets the transaction cookie of a created transaction on `res`. */
  setCookie(res: AuthResponse, created: CreatedTransaction): void {
    this.cookies.write(res, 'transaction', created.sealed, this.options.transaction.ttl * 1000);
  }

  /** Opens the request's transaction cookie: absent, tampered or malformed → `invalid_state`; expired → `state_expired`; sent more than once → `cookie_conflict`. */
  read(req: AuthRequest): TransactionRead {
    const cookie = this.cookies.read(req, 'transaction');
    if (cookie.status === 'ambiguous') return { ok: false, code: 'cookie_conflict' };
    if (cookie.status !== 'present') return { ok: false, code: 'invalid_state' };
    const opened = openTransaction(cookie.value, this.key, this.clock.seconds());
    if (!opened.ok) return { ok: false, code: opened.reason === 'expired' ? 'state_expired' : 'invalid_state' };
    return { ok: true, transaction: opened.transaction };
  }

  /** Marks the transaction used; false when it already was (a replay). */
  consume(transaction: OAuthTransaction): Promise<boolean> {
    const ttl = Math.max(1, transaction.expiresAt - this.clock.seconds()) + MARKER_MARGIN_SECONDS;
    return this.singleUse.consume(`oauth-tx:${transaction.id}`, ttl);
  }

  /** Expires the transaction cookie (same name, path and attributes as when it was set). */
  clear(res: AuthResponse): void {
    this.cookies.write(res, 'transaction', '', 0);
  }

  /**
   * When the request carries the transaction cookie more than once (a planted copy), logs it and
   * expires every copy on `res`; true when it did. Used by the callback's refusal and by a new
   * start, so a planted copy never outlives the flow it broke.
   */
  expireConflict(req: AuthRequest, res: AuthResponse): boolean {
    if (this.cookies.read(req, 'transaction').status !== 'ambiguous') return false;
    this.cookies.conflict(req, res, ['transaction']);
    return true;
  }
}
