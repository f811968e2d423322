import { readEmailVerified } from '../oidc/id-token-claims';
import { checkGoogleClaims, googleIdentity } from './google-claims';

const expected = { clientId: 'client-1', nonce: 'nonce-1' };
const claims = { iss: 'https://accounts.google.com', aud: 'client-1', azp: 'client-1', sub: '1234567890', nonce: 'nonce-1' };

describe('checkGoogleClaims', () => {
  it.each([
    ['the usual claims', claims, expected],
    ['aud as a one-element array', { ...claims, aud: ['client-1'] }, expected],
    ['no azp', { ...claims, azp: undefined }, expected],
    ['sub of 255 printable ASCII', { ...claims, sub: 'x'.repeat(255) }, expected],
    ['hd equal to hostedDomain', { ...claims, hd: 'example.org' }, { ...expected, hostedDomain: 'example.org' }],
  ])('accepts %s', (_name, c, e) => {
    expect(checkGoogleClaims(c, e)).toBeUndefined();
  });

  // Threat model B3, B5, B6, and the hosted-domain rule.
  it.each([
    ['aud of another client', { ...claims, aud: 'other' }, expected, 'aud'],
    ['aud array with an extra untrusted audience', { ...claims, aud: ['client-1', 'evil'] }, expected, 'aud'],
    ['aud array without us', { ...claims, aud: ['evil'] }, expected, 'aud'],
    ['empty aud array', { ...claims, aud: [] }, expected, 'aud'],
    ['aud missing', { ...claims, aud: undefined }, expected, 'aud'],
    ['azp of another client', { ...claims, azp: 'evil' }, expected, 'azp'],
    ['nonce of another flow', { ...claims, nonce: 'nonce-2' }, expected, 'nonce'],
    ['nonce missing although sent', { ...claims, nonce: undefined }, expected, 'nonce'],
    ['nonce not a string', { ...claims, nonce: 1 }, expected, 'nonce'],
    ['no nonce was sent', claims, { ...expected, nonce: undefined }, 'nonce'],
    ['sub missing', { ...claims, sub: undefined }, expected, 'sub'],
    ['sub a number', { ...claims, sub: 1234 }, expected, 'sub'],
    ['sub an object', { ...claims, sub: { id: 1 } }, expected, 'sub'],
    ['sub empty', { ...claims, sub: '' }, expected, 'sub'],
    ['sub of 256 characters', { ...claims, sub: 'x'.repeat(256) }, expected, 'sub'],
    ['sub with a space', { ...claims, sub: '12 34' }, expected, 'sub'],
    ['sub non-ASCII', { ...claims, sub: 'é123' }, expected, 'sub'],
    ['hd missing when required', claims, { ...expected, hostedDomain: 'example.org' }, 'hd'],
    ['hd of another domain', { ...claims, hd: 'evil.org' }, { ...expected, hostedDomain: 'example.org' }, 'hd'],
  ])('refuses %s', (_name, c, e, reason) => {
    expect(checkGoogleClaims(c as Record<string, unknown>, e)).toBe(reason);
  });
});

describe('readEmailVerified (strict)', () => {
  it.each([
    [true, true],
    ['true', true],
    [false, false],
    ['false', false],
    ['TRUE', false],
    [' true', false],
    ['yes', false],
    [1, false],
    [null, false],
    [undefined, false],
    [{}, false],
  ])('%p → %p', (value, verified) => {
    expect(readEmailVerified(value)).toBe(verified);
  });
});

describe('googleIdentity', () => {
  it('takes email and email_verified as a pair from the ID token', () => {
    const identity = googleIdentity({ ...claims, email: 'a@example.com', email_verified: 'false' }, { sub: claims.sub, email: 'a@example.com', email_verified: true }, 'https://accounts.google.com');
    expect(identity).toMatchObject({ provider: 'google', subject: '1234567890', email: 'a@example.com', emailVerified: false });
  });

  it('falls back to userinfo for email and profile when the token has none', () => {
    const identity = googleIdentity(claims, { sub: claims.sub, email: 'b@example.com', email_verified: true, name: 'B', picture: 'https://example.com/b.png' }, 'https://accounts.google.com');
    expect(identity).toEqual({
      provider: 'google',
      issuer: 'https://accounts.google.com',
      subject: '1234567890',
      email: 'b@example.com',
      emailVerified: true,
      displayName: 'B',
      avatarUrl: 'https://example.com/b.png',
    });
  });

  it.each([
    ['300-character email', `${'a'.repeat(60)}@${'b'.repeat(235)}.example`, true],
    ['321-character email', `${'a'.repeat(64)}@${'b'.repeat(250)}.example`, false],
    ['null email', null, false],
    ['two addresses', 'a@x.test b@y.test', false],
    ['an object', { email: 'a@x.test' }, false],
  ])('%s', (_name, email, kept) => {
    const identity = googleIdentity({ ...claims, email, email_verified: true }, { sub: claims.sub }, 'https://accounts.google.com');
    expect(identity.email).toBe(kept ? email : null);
    expect(identity.emailVerified).toBe(kept);
  });

  it('drops a javascript: picture and cuts a long name', () => {
    const identity = googleIdentity({ ...claims, name: 'n'.repeat(500), picture: 'javascript:alert(1)' }, { sub: claims.sub }, 'https://accounts.google.com');
    expect(identity.displayName).toHaveLength(200);
    expect(identity.avatarUrl).toBeNull();
  });
});
