import { randomBytes } from 'node:crypto';
import { OAuthTransaction, openTransaction, sealTransaction } from './oauth-transaction';

const key = randomBytes(32);
const now = 1_800_000_000;

function transaction(overrides: Partial<OAuthTransaction> = {}): OAuthTransaction {
  return {
    id: 'tx-1',
    provider: 'google',
    state: 's'.repeat(43),
    verifier: 'v'.repeat(43),
    nonce: 'n'.repeat(43),
    issuer: 'https://accounts.google.com',
    requireIss: false,
    intent: { kind: 'login' },
    returnTo: '/settings',
    issuedAt: now,
    expiresAt: now + 600,
    ...overrides,
  };
}

describe('transaction cookie codec', () => {
  it.each([
    ['login intent', transaction()],
    ['link intent', transaction({ intent: { kind: 'link', userId: 'u-1', sessionId: 'sid-1' } })],
    ['no nonce, no issuer (GitHub)', transaction({ provider: 'github', nonce: undefined, issuer: undefined })],
    ['iss required', transaction({ requireIss: true })],
    ['native hand-off', transaction({ handoff: { challenge: 'c'.repeat(43), client: 'native' } })],
    ['browser hand-off with its browser binding', transaction({ handoff: { challenge: 'c'.repeat(43), client: 'browser', binding: 'b'.repeat(43) } })],
  ])('round-trips (%s)', (_name, tx) => {
    expect(openTransaction(sealTransaction(tx, key), key, now)).toEqual({ ok: true, transaction: tx });
  });

  it('never shows the verifier, nonce, state or returnTo in the clear', () => {
    const sealed = sealTransaction(transaction(), key);
    const decoded = Buffer.from(sealed.slice(3), 'base64url').toString('latin1');
    for (const secret of ['v'.repeat(43), 'n'.repeat(43), 's'.repeat(43), '/settings', 'google']) {
      expect(sealed).not.toContain(secret);
      expect(decoded).not.toContain(secret);
    }
  });

  it('uses a fresh IV per seal (two seals of one transaction differ)', () => {
    expect(sealTransaction(transaction(), key)).not.toBe(sealTransaction(transaction(), key));
  });

  // Threat model A4: any single flipped byte fails authentication.
  it('refuses a value with any one byte flipped', () => {
    const sealed = sealTransaction(transaction(), key);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i] ^= 0x01;
      const result = openTransaction(`v1.${copy.toString('base64url')}`, key, now);
      expect(result).toEqual({ ok: false, reason: 'tampered' });
    }
  });

  it.each([
    ['a browser hand-off without its browser binding', transaction({ handoff: { challenge: 'c'.repeat(43), client: 'browser' } })],
    ['a native hand-off with a browser binding', transaction({ handoff: { challenge: 'c'.repeat(43), client: 'native', binding: 'b'.repeat(43) } })],
  ])('refuses %s as malformed (threat model F5)', (_name, tx) => {
    expect(openTransaction(sealTransaction(tx, key), key, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a value sealed with another key', () => {
    expect(openTransaction(sealTransaction(transaction(), randomBytes(32)), key, now)).toEqual({ ok: false, reason: 'tampered' });
  });

  it.each([
    ['one second before expiry', now + 599, true],
    ['at expiry', now + 600, false],
    ['long after expiry', now + 86_400, false],
  ])('expiry: %s', (_name, at, ok) => {
    const result = openTransaction(sealTransaction(transaction(), key), key, at);
    expect(result.ok).toBe(ok);
    if (!ok) expect(result).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['undefined', undefined],
    ['a number', 42],
    ['empty', ''],
    ['no version', 'abc'],
    ['unknown version', `v2.${'A'.repeat(60)}`],
    ['not base64url', 'v1.abc$def'],
    ['too short', 'v1.AAAA'],
    ['far too long', `v1.${'A'.repeat(5000)}`],
    ['an access-token-shaped JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'],
  ])('refuses %s as malformed', (_name, value) => {
    expect(openTransaction(value, key, now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
