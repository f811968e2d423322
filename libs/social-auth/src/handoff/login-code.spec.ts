import { randomBytes } from 'node:crypto';
import { deriveKeyFrom } from '../tokens/key-derivation';
import { bindingMatches, LOGIN_CODE_KEY_PURPOSE, LoginCode, isLoginCodeExpired, openLoginCode, parseHandoffQuery, s256, sealLoginCode, verifierMatches, withLoginCode } from './login-code';

const key = deriveKeyFrom('unit-secret-unit-secret-unit-secret-0123', LOGIN_CODE_KEY_PURPOSE);
const verifier = randomBytes(32).toString('base64url');
const code: LoginCode = { id: 'abc', userId: 'u-1', provider: 'google', challenge: s256(verifier), client: 'native', exp: 1_000_060 };

/** Flips one bit of the sealed body at `index` (from the end when negative). */
function flip(sealed: string, index: number): string {
  const [v, body] = sealed.split('.');
  const raw = Buffer.from(body, 'base64url');
  raw[(index + raw.length) % raw.length] ^= 1;
  return `${v}.${raw.toString('base64url')}`;
}

describe('login code codec', () => {
  it('round-trips, never in clear text', () => {
    const sealed = sealLoginCode(code, key);
    expect(sealed).toMatch(/^lc1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('u-1');
    expect(openLoginCode(sealed, key)).toEqual({ ok: true, code });
    const browser: LoginCode = { ...code, client: 'browser', binding: s256('b'.repeat(43)) };
    expect(openLoginCode(sealLoginCode(browser, key), key)).toEqual({ ok: true, code: browser });
  });

  it('a browser code without its browser binding, or a native code with one, is not ours (threat model F5)', () => {
    expect(openLoginCode(sealLoginCode({ ...code, client: 'browser' }, key), key)).toEqual({ ok: false, reason: 'malformed' });
    expect(openLoginCode(sealLoginCode({ ...code, binding: s256('b'.repeat(43)) }, key), key)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each<[string, (s: string) => unknown, Buffer, 'malformed' | 'tampered']>([
    ['IV bit flipped', (s) => flip(s, 0), key, 'tampered'],
    ['ciphertext bit flipped', (s) => flip(s, 14), key, 'tampered'],
    ['tag bit flipped', (s) => flip(s, -1), key, 'tampered'],
    ['wrong key', (s) => s, deriveKeyFrom('another-secret-another-secret-0123456789', LOGIN_CODE_KEY_PURPOSE), 'tampered'],
    ['key of another purpose', (s) => s, deriveKeyFrom('unit-secret-unit-secret-unit-secret-0123', 'social-auth/transaction'), 'tampered'],
    ['other version', (s) => s.replace(/^lc1/, 'v1'), key, 'malformed'],
    ['no dot', (s) => s.replace('.', ''), key, 'malformed'],
    ['not base64url', (s) => `${s}=`, key, 'malformed'],
    ['truncated', (s) => s.slice(0, 20), key, 'malformed'],
    ['too long', (s) => `${s}${'A'.repeat(2000)}`, key, 'malformed'],
    ['not a string', () => ['x'], key, 'malformed'],
  ])('refuses: %s', (_name, alter, k, reason) => {
    expect(openLoginCode(alter(sealLoginCode(code, key)), k)).toEqual({ ok: false, reason });
  });

  it.each([
    [1_000_059, false],
    [1_000_060, true],
    [1_000_061, true],
  ])('expiry at %d → expired %s', (now, expired) => {
    expect(isLoginCodeExpired(code, now)).toBe(expired);
  });

  it.each<[string, unknown, boolean]>([
    ['right verifier', verifier, true],
    ['other verifier', randomBytes(32).toString('base64url'), false],
    ['the challenge itself', code.challenge, false],
    ['too short', 'a'.repeat(42), false],
    ['bad characters', `${verifier}!`, false],
    ['not a string', 42, false],
  ])('verifier: %s → %s', (_name, candidate, ok) => {
    expect(verifierMatches(candidate, code.challenge)).toBe(ok);
  });

  const cookieValue = randomBytes(32).toString('base64url');
  it.each<[string, string | undefined, string | undefined, boolean]>([
    ['the cookie of the starting browser', cookieValue, s256(cookieValue), true],
    ['another browser\'s cookie', randomBytes(32).toString('base64url'), s256(cookieValue), false],
    ['no cookie', undefined, s256(cookieValue), false],
    ['the hash itself as cookie', s256(cookieValue), s256(cookieValue), false],
    ['a code without binding', cookieValue, undefined, false],
    ['a malformed cookie', `${cookieValue}!`, s256(`${cookieValue}!`), false],
  ])('browser binding: %s → %s', (_name, cookie, binding, ok) => {
    expect(bindingMatches(cookie, binding)).toBe(ok);
  });

  it('s256 is the RFC 7636 appendix B example', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
});

describe('hand-off start parameters', () => {
  const challenge = s256(verifier);
  it.each<[string, Record<string, unknown>, ReturnType<typeof parseHandoffQuery>]>([
    ['none', { returnTo: '/x' }, { ok: true }],
    ['challenge only (browser default)', { code_challenge: challenge }, { ok: true, handoff: { challenge, client: 'browser' } }],
    ['S256 native', { code_challenge: challenge, code_challenge_method: 'S256', client: 'native' }, { ok: true, handoff: { challenge, client: 'native' } }],
    ['plain method', { code_challenge: challenge, code_challenge_method: 'plain' }, { ok: false }],
    ['lowercase s256', { code_challenge: challenge, code_challenge_method: 's256' }, { ok: false }],
    ['short challenge', { code_challenge: challenge.slice(1) }, { ok: false }],
    ['padded challenge', { code_challenge: `${challenge.slice(1)}=` }, { ok: false }],
    ['repeated challenge', { code_challenge: [challenge, challenge] }, { ok: false }],
    ['unknown client', { code_challenge: challenge, client: 'desktop' }, { ok: false }],
    ['client without challenge', { client: 'native' }, { ok: false }],
    ['method without challenge', { code_challenge_method: 'S256' }, { ok: false }],
  ])('%s', (_name, query, expected) => {
    expect(parseHandoffQuery(query)).toEqual(expected);
  });

  it.each([
    ['/app', '/app?login_code=C'],
    ['/app?tab=1#top', '/app?tab=1&login_code=C#top'],
    ['/app?login_code=old', '/app?login_code=C'],
    ['https://spa.example.com/cb', 'https://spa.example.com/cb?login_code=C'],
  ])('appends the code to %s', (returnTo, expected) => {
    expect(withLoginCode(returnTo, 'C', 'http://127.0.0.1:3000')).toBe(expected);
  });
});
