import { timingSafeEqual } from 'node:crypto';
import type { OAuthTransaction } from './oauth-transaction';
import type { CreatedTransaction, OAuthTransactionService, TransactionSeed } from './oauth-transaction.service';

/**
 * What the module hands passport strategies instead of the platform's request: passport-oauth2
 * reads only `query.{error,code,state}` and `body.{code,state}` (our callback URLs are absolute,
 * so it never rebuilds one from headers). The verified or created transaction travels on it.
 * @internal
 */
export interface StrategyRequest {
  query: Record<string, unknown>;
  body?: Record<string, unknown>;
}

const VERIFIED_TRANSACTION = Symbol('social-auth:verified-transaction');
const CREATED_TRANSACTION = Symbol('social-auth:created-transaction');
/** RFC 7636 §4.1: 43 to 128 unreserved characters; passport-oauth2 makes 43 base64url ones. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * Hands the callback's already verified transaction to passport (see {@link TransactionStateStore.verify}).
 * @internal
 */
export function attachVerifiedTransaction(req: StrategyRequest, transaction: OAuthTransaction): void {
  (req as unknown as Record<symbol, unknown>)[VERIFIED_TRANSACTION] = transaction;
}

/** The transaction the callback verified and consumed for this request, if any. @internal */
export function verifiedTransaction(req: StrategyRequest): OAuthTransaction | undefined {
  return (req as unknown as Record<symbol, OAuthTransaction | undefined>)[VERIFIED_TRANSACTION];
}

/** The transaction the store created while a start request ran the strategy, if any: the flow sets its cookie. @internal */
export function createdTransaction(req: StrategyRequest): CreatedTransaction | undefined {
  return (req as unknown as Record<symbol, CreatedTransaction | undefined>)[CREATED_TRANSACTION];
}

type StoreCallback = (error: Error | null, state?: string) => void;
type VerifyCallback = (error: Error | null, ok: string | false, info?: { message: string }) => void;

/**
 * passport-oauth2's state store, backed by the stateless transaction cookie instead of
 * express-session.
 *
 * passport-oauth2 1.8 picks the store's call shape by arity: `store` must take exactly 5
 * parameters (it then receives the PKCE verifier and the `state` object given to `authenticate`)
 * and `verify` exactly 3. Keep both signatures as they are.
 *
 * Invariants (threat model A1, A2, A4, A5):
 * - `store` only accepts a seed built by the start route for this store's provider; it seals the
 *   verifier, a fresh `state` and the seed, hands `state` to the authorize URL and the sealed
 *   transaction back to the flow on the request ({@link createdTransaction}); the flow sets the
 *   cookie through the platform seam (no response is touched here).
 * - `verify` never trusts the cookie on its own: the callback has already decrypted the
 *   transaction, checked provider binding, `iss`, `state` and consumed it (single use) before it
 *   lets passport redeem the code. `verify` re-checks provider and `state` (timing-safe) and only
 *   then releases the PKCE verifier, so a request that skipped those steps cannot redeem a code.
 * @internal
 */
export class TransactionStateStore {
  constructor(
    private readonly provider: string,
    private readonly transactions: OAuthTransactionService,
  ) {}

  store(req: StrategyRequest, verifier: string, seed: unknown, _meta: unknown, callback: StoreCallback): void {
    try {
      if (!isSeed(seed) || seed.provider !== this.provider) throw new Error('sign-in flows start only through the OAuth controller');
      if (typeof verifier !== 'string' || !CODE_VERIFIER.test(verifier)) throw new Error('PKCE verifier missing (pkce must be S256)');
      const created = this.transactions.create(seed, verifier);
      (req as unknown as Record<symbol, CreatedTransaction>)[CREATED_TRANSACTION] = created;
      callback(null, created.transaction.state);
    } catch (error) {
      callback(error instanceof Error ? error : new Error('transaction store failed'));
    }
  }

  verify(req: StrategyRequest, providedState: unknown, callback: VerifyCallback): void {
    const transaction = verifiedTransaction(req);
    if (!transaction || transaction.provider !== this.provider || typeof providedState !== 'string' || !safeEqual(providedState, transaction.state)) {
      return callback(null, false, { message: 'invalid_state' });
    }
    callback(null, transaction.verifier);
  }
}

/** Constant-time string comparison (length leaks, content does not). @internal */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function isSeed(value: unknown): value is TransactionSeed {
  const seed = value as Partial<TransactionSeed> | null;
  return !!seed && typeof seed === 'object' && typeof seed.provider === 'string' && typeof seed.returnTo === 'string' && !!seed.intent && typeof seed.requireIss === 'boolean';
}
