import { TransactionStateStore } from './passport-state.store';

describe('TransactionStateStore', () => {
  // passport-oauth2 1.8 picks how it calls the store by arity: store(req, verifier, state, meta,
  // cb) only when store.length === 5 (otherwise the PKCE verifier and our state object are never
  // passed), verify(req, state, cb) when verify.length === 3.
  it('keeps the arities passport-oauth2 dispatches on', () => {
    expect(TransactionStateStore.prototype.store).toHaveLength(5);
    expect(TransactionStateStore.prototype.verify).toHaveLength(3);
  });
});
