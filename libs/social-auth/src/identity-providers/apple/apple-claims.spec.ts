import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { Clock } from '../../tokens/clock';
import { appleIdentity, namePostedByApple } from './apple-claims';
import { AppleClientSecret, appleClientSecretClaims, needsRenewal } from './apple-client-secret';
import { resolveAppleOptions } from './apple.options';

const ISSUER = 'https://appleid.apple.com';
const claims = { iss: ISSUER, aud: 'com.example.web', sub: '001234.abc.0101', email: 'jane@example.com' };

describe('appleIdentity', () => {
  it.each([
    [true, true],
    ['true', true],
    ['false', false],
    [false, false],
    ['TRUE', false],
    [1, false],
    [undefined, false],
  ])('email_verified %p → %p (Apple sends strings)', (email_verified, verified) => {
    expect(appleIdentity({ ...claims, email_verified }, ISSUER, undefined).emailVerified).toBe(verified);
  });

  it.each([
    ['true', true],
    [true, true],
    ['false', false],
    [undefined, false],
    ['yes', false],
  ])('is_private_email %p → private relay %p', (is_private_email, relay) => {
    expect(appleIdentity({ ...claims, email_verified: 'true', is_private_email }, ISSUER, undefined).privateRelayEmail).toBe(relay);
  });

  it('keys on sub and takes the name from the posted user field, never its email', () => {
    const user = JSON.stringify({ name: { firstName: 'Jane', lastName: 'Appleseed' }, email: 'victim@example.com' });
    expect(appleIdentity({ ...claims, email_verified: 'true' }, ISSUER, user)).toEqual({
      provider: 'apple',
      issuer: ISSUER,
      subject: '001234.abc.0101',
      email: 'jane@example.com',
      emailVerified: true,
      displayName: 'Jane Appleseed',
      avatarUrl: null,
      privateRelayEmail: false,
    });
  });
});

describe('namePostedByApple', () => {
  it.each([
    ['first and last', JSON.stringify({ name: { firstName: 'Jane', lastName: 'Appleseed' } }), 'Jane Appleseed'],
    ['first only', JSON.stringify({ name: { firstName: 'Jane' } }), 'Jane'],
    ['control characters dropped', JSON.stringify({ name: { firstName: 'Ja\u0000ne\n', lastName: '<b>A</b>' } }), 'Jane <b>A</b>'],
    ['no name', JSON.stringify({ email: 'a@b.c' }), null],
    ['names not strings', JSON.stringify({ name: { firstName: 1, lastName: {} } }), null],
    ['not JSON', '{name', null],
    ['JSON null', 'null', null],
    ['not a string', { name: { firstName: 'X' } }, null],
    ['too long', JSON.stringify({ name: { firstName: 'x'.repeat(3000) } }), null],
  ])('%s', (_name, value, expected) => {
    expect(namePostedByApple(value)).toBe(expected);
  });
});

describe('Apple client secret', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const config = { clientId: 'com.example.web', teamId: 'TEAM123456', keyId: 'KEY1234567', issuer: ISSUER, clientSecretTtl: 15_777_000, privateKey: pem };

  it('has Apple’s header and claims', () => {
    expect(appleClientSecretClaims(config, 1000)).toEqual({
      header: { alg: 'ES256', kid: 'KEY1234567', typ: 'JWT' },
      payload: { iss: 'TEAM123456', iat: 1000, exp: 1000 + 15_777_000, aud: ISSUER, sub: 'com.example.web' },
    });
  });

  it.each([
    ['none yet', undefined, 0, true],
    ['fresh', { value: 'x', expiresAt: 10_000 }, 0, false],
    ['just before the margin', { value: 'x', expiresAt: 10_000 }, 8_999, false],
    ['within the last tenth', { value: 'x', expiresAt: 10_000 }, 9_000, true],
    ['expired', { value: 'x', expiresAt: 10_000 }, 10_001, true],
  ])('renewal: %s', (_name, secret, now, renew) => {
    expect(needsRenewal(secret, 10_000, now)).toBe(renew);
  });

  it('renews at most a day before expiry for long lifetimes', () => {
    const secret = { value: 'x', expiresAt: 15_777_000 };
    expect(needsRenewal(secret, 15_777_000, 15_777_000 - 86_401)).toBe(false);
    expect(needsRenewal(secret, 15_777_000, 15_777_000 - 86_400)).toBe(true);
  });

  it('signs an ES256 JWT the team’s public key verifies, reuses it, and re-signs it before it expires', () => {
    let now = 1_700_000_000_000;
    const clock = Object.assign(Object.create(Clock.prototype) as Clock, { now: () => new Date(now), seconds: () => Math.floor(now / 1000) });
    const secret = new AppleClientSecret(config, clock);
    const first = secret.current();
    const [h, p, s] = first.split('.');
    expect(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(publicKey.export({ format: 'pem', type: 'spki' })), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(true);
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({ iss: 'TEAM123456', sub: 'com.example.web', aud: ISSUER });
    now += 1000 * 3600;
    expect(secret.current()).toBe(first);
    now += 1000 * (15_777_000 - 86_400);
    const renewed = secret.current();
    expect(renewed).not.toBe(first);
    expect(JSON.parse(Buffer.from(renewed.split('.')[1], 'base64url').toString()).exp).toBe(Math.floor(now / 1000) + 15_777_000);
    expect(JSON.stringify({ secret })).not.toContain(renewed);
  });

  it('refuses a key that is not P-256, without quoting it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => resolveAppleOptions({ ...config, privateKey: rsa }, false)).toThrow(/must be an EC P-256 key/);
    expect(() => resolveAppleOptions({ ...config, privateKey: 'not a key' }, false)).toThrow(/^(?!.*not a key).*not a readable PEM private key/);
  });
});
