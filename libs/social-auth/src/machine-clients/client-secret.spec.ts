import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret';
import { parseForm } from './fastify-form-body';

describe('client secrets (scrypt)', () => {
  it('hashes with a fresh salt, never contains the secret, and verifies either of two slots', async () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [a, b] = [await hashClientSecret(secret), await hashClientSecret(secret)];
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret);
    const other = await hashClientSecret(generateClientSecret());
    await expect(verifyClientSecret(secret, [a, null])).resolves.toBe(true);
    await expect(verifyClientSecret(secret, [other, b])).resolves.toBe(true);
    await expect(verifyClientSecret(secret, [other, null])).resolves.toBe(false);
    await expect(verifyClientSecret(`${secret}x`, [a, b])).resolves.toBe(false);
  });

  it('an unknown client (no hashes) or a garbled hash never verifies', async () => {
    await expect(verifyClientSecret('anything', [])).resolves.toBe(false);
    await expect(verifyClientSecret('anything', [undefined, undefined])).resolves.toBe(false);
    await expect(verifyClientSecret('anything', ['scrypt$garbage', 'plain-text'])).resolves.toBe(false);
  });
});

describe('parseForm (the Fastify form parser of the token endpoint)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['grant_type=client_credentials&scope=a+b', { grant_type: 'client_credentials', scope: 'a b' }],
    ['a=1&a=2&a=3', { a: ['1', '2', '3'] }],
    ['__proto__=x&constructor=y', { ['__proto__']: 'x', constructor: 'y' }],
    ['', {}],
  ])('%j', (body, expected) => {
    const parsed = parseForm(body);
    expect(Object.entries(parsed)).toEqual(Object.entries(expected));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});
