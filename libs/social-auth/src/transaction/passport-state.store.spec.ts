import type { OAuthTransaction } from './oauth-transaction';
import type { CreatedTransaction, OAuthTransactionService, TransactionSeed } from './oauth-transaction.service';
import { attachVerifiedTransaction, createdTransaction, StrategyRequest, TransactionStateStore } from './passport-state.store';

const VERIFIER = 'v'.repeat(43);
const transaction: OAuthTransaction = {
  id: 'tx-1',
  provider: 'google',
  state: 's'.repeat(43),
  verifier: VERIFIER,
  requireIss: false,
  intent: { kind: 'login' },
  returnTo: '/',
  issuedAt: 1,
  expiresAt: 601,
};
const seed: TransactionSeed = { provider: 'google', intent: { kind: 'login' }, returnTo: '/', requireIss: false };

/** Only `create` is used by the store; it answers the fixed transaction above. */
const transactions = { create: (_seed: TransactionSeed, verifier: string): CreatedTransaction => ({ transaction: { ...transaction, verifier }, sealed: 'sealed' }) } as unknown as OAuthTransactionService;
const store = new TransactionStateStore('google', transactions);

function verify(req: StrategyRequest, state: unknown): Promise<{ ok: string | false; info?: { message: string } }> {
  return new Promise((resolve, reject) => store.verify(req, state, (error, ok, info) => (error ? reject(error) : resolve({ ok, info }))));
}

function storeState(req: StrategyRequest, verifier: unknown, state: unknown): Promise<string> {
  return new Promise((resolve, reject) => store.store(req, verifier as string, state, {}, (error, handle) => (error ? reject(error) : resolve(handle!))));
}

describe('TransactionStateStore', () => {
  // passport-oauth2 1.8 picks how it calls the store by arity: store(req, verifier, state, meta,
  // cb) only when store.length === 5 (otherwise the PKCE verifier and our state object are never
  // passed), verify(req, state, cb) when verify.length === 3.
  it('keeps the arities passport-oauth2 dispatches on', () => {
    expect(TransactionStateStore.prototype.store).toHaveLength(5);
    expect(TransactionStateStore.prototype.verify).toHaveLength(3);
  });

  // The callback checks state before passport runs; verify checks it again on its own, so a code
  // is never redeemed (the verifier never released) for a request that skipped those checks.
  it.each<[string, OAuthTransaction | undefined, unknown]>([
    ['no verified transaction on the request', undefined, transaction.state],
    ['the transaction of another provider', { ...transaction, provider: 'github' }, transaction.state],
    ['another state', transaction, 't'.repeat(43)],
    ['a state differing in its last character', transaction, `${'s'.repeat(42)}t`],
    ['a prefix of the state', transaction, transaction.state.slice(0, 42)],
    ['an empty state', transaction, ''],
    ['a repeated state parameter (array)', transaction, [transaction.state]],
    ['no state', transaction, undefined],
  ])('verify refuses %s without releasing the verifier', async (_name, attached, state) => {
    const req: StrategyRequest = { query: {} };
    if (attached) attachVerifiedTransaction(req, attached);
    expect(await verify(req, state)).toEqual({ ok: false, info: { message: 'invalid_state' } });
  });

  it('verify releases the PKCE verifier only for the verified transaction of this provider with its exact state', async () => {
    const req: StrategyRequest = { query: {} };
    attachVerifiedTransaction(req, transaction);
    expect(await verify(req, transaction.state)).toEqual({ ok: VERIFIER, info: undefined });
  });

  it('store seals only a seed of this provider with an S256 verifier, and hands the created transaction to the flow', async () => {
    const req: StrategyRequest = { query: {} };
    expect(await storeState(req, VERIFIER, seed)).toBe(transaction.state);
    expect(createdTransaction(req)).toEqual({ transaction: { ...transaction, verifier: VERIFIER }, sealed: 'sealed' });
    await expect(storeState({ query: {} }, VERIFIER, { ...seed, provider: 'github' })).rejects.toThrow('only through the OAuth controller');
    await expect(storeState({ query: {} }, VERIFIER, { returnTo: '/' })).rejects.toThrow('only through the OAuth controller');
    await expect(storeState({ query: {} }, 'short', seed)).rejects.toThrow('PKCE verifier missing');
    await expect(storeState({ query: {} }, undefined, seed)).rejects.toThrow('PKCE verifier missing');
  });
});
