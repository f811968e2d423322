import { createHmac, createSign, generateKeyPairSync, KeyObject } from 'node:crypto';
import { AuthModuleOptions, TokenOptions, resolveAuthOptions } from '../auth.options';
import { AuthError, InvalidAuthOptionsError } from '../errors/auth.error';
import { ACCESS_TOKEN_TYPE, AccessTokenService, VERIFIED_TOKENS_MAX, hasDuplicateMembers } from './access-token.service';
import { Clock } from './clock';
import { KEY_PURPOSE, deriveKey, deriveKeyFrom } from './key-derivation';

const APP = 'https://app.example.test';
const SECRET = 'unit-secret-unit-secret-unit-secret-0123';
const T0 = 1_800_000_000;

/** A clock frozen at `seconds`, moved by assigning `at`. */
class FrozenClock extends Clock {
  constructor(public at: number) {
    super();
  }
  override now(): Date {
    return new Date(this.at * 1000);
  }
}

function ecKey(): { privatePem: string; publicPem: string; publicKey: KeyObject; privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function service(tokens: Partial<TokenOptions> = { secret: SECRET }, clock = new FrozenClock(T0), extra: Partial<AuthModuleOptions> = {}) {
  const options = resolveAuthOptions({ appUrl: APP, tokens, ...extra } as AuthModuleOptions);
  return { svc: new AccessTokenService(options, clock), clock, options };
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Builds a compact JWS by hand so tests can forge every part. */
function forge(header: unknown, payload: unknown, signer: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input)}`;
}

const hmac = (key: Buffer | string) => (input: string) => createHmac('sha256', key).update(input).digest('base64url');
const es256 = (key: KeyObject) => (input: string) => createSign('sha256').update(input).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'user-1', sid: '6c1f4f4e-8d7e-4f59-9a43-0d2b8f3f6a11', iat: T0, exp: T0 + 600, iss: APP, aud: APP, jti: 'jti-1', ...over };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe(code);
    return;
  }
  throw new Error(`expected AuthError ${code}, nothing was thrown`);
}

describe('AccessTokenService (HS256)', () => {
  const { svc, clock, options } = service();
  const key = deriveKey(options, KEY_PURPOSE.accessToken);
  const header = { alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: svc.keyId };
  const good = (over: Record<string, unknown> = {}, h: Record<string, unknown> = header) => forge(h, claims(over), hmac(key));

  afterEach(() => {
    clock.at = T0;
  });

  it('signs the claims and header of docs/http-api.md and verifies them', () => {
    const { token, expiresIn } = svc.sign('user-1', 'session-1');
    expect(expiresIn).toBe(600);
    const [h, p] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: svc.keyId });
    expect(Object.keys(p).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    expect(p).toMatchObject({ sub: 'user-1', sid: 'session-1', iat: T0, exp: T0 + 600, iss: APP, aud: APP });
    expect(svc.verify(token)).toEqual({ id: 'user-1', sessionId: 'session-1', tokenId: p.jti, issuedAt: T0, expiresAt: T0 + 600 });
  });

  it('every token has its own jti', () => {
    const a = svc.verify(svc.sign('u', 's').token);
    const b = svc.verify(svc.sign('u', 's').token);
    expect(a.tokenId).not.toBe(b.tokenId);
  });

  it('accepts a token until exp plus the clock tolerance, then answers token_expired', () => {
    const { token } = svc.sign('user-1', 'session-1');
    clock.at = T0 + 600 + options.tokens.clockTolerance - 1;
    expect(svc.verify(token).id).toBe('user-1');
    clock.at = T0 + 600 + options.tokens.clockTolerance + 1;
    expectCode(() => svc.verify(token), 'token_expired');
  });

  it.each([
    ['nbf in the future', { nbf: T0 + 60 }],
    ['iat far in the future', { iat: T0 + 3600, exp: T0 + 3900 }],
    ['no exp', { exp: undefined }],
    ['no iat', { iat: undefined }],
    ['exp - iat above 15 minutes', { exp: T0 + 901 }],
    ['exp before iat', { iat: T0, exp: T0 - 1 }],
    ['exp as a string', { exp: String(T0 + 600) }],
    ['wrong iss', { iss: 'https://other.example.test' }],
    ['iss with a trailing slash', { iss: `${APP}/` }],
    ['wrong aud', { aud: 'https://other.example.test' }],
    ['aud as an array containing ours', { aud: [APP, 'https://other.example.test'] }],
    ['no aud', { aud: undefined }],
    ['no sid', { sid: undefined }],
    ['sub not a string', { sub: 42 }],
    ['no jti', { jti: undefined }],
  ])('refuses a validly signed token with %s', (_name, over) => {
    expectCode(() => svc.verify(good(over)), 'unauthorized');
  });

  it('accepts the hand-forged control token (so the refusals above are about the claim)', () => {
    expect(svc.verify(good()).id).toBe('user-1');
  });

  it.each([
    ['typ JWT', { ...header, typ: 'JWT' }],
    ['no typ', { alg: 'HS256', kid: svc.keyId }],
    ['typ application/at+jwt', { ...header, typ: 'application/at+jwt' }],
    ['no kid', { alg: 'HS256', typ: ACCESS_TOKEN_TYPE }],
    ['unknown kid', { ...header, kid: 'hs-unknown' }],
    ['path-traversal kid', { ...header, kid: '../../../../dev/null' }],
    ['SQL kid', { ...header, kid: "x' OR '1'='1" }],
    ['kid as a number', { ...header, kid: 1 }],
    ['jku header', { ...header, jku: 'https://evil.test/jwks' }],
    ['x5u header', { ...header, x5u: 'https://evil.test/cert' }],
    ['embedded jwk header', { ...header, jwk: { kty: 'oct', k: 'AAAA' } }],
    ['crit header', { ...header, crit: ['exp'] }],
    ['alg HS512', { ...header, alg: 'HS512' }],
  ])('refuses a token whose header has %s, even with a valid MAC', (_name, h) => {
    expectCode(() => svc.verify(forge(h, claims(), hmac(key))), 'unauthorized');
  });

  it('refuses alg none, with and without a signature part', () => {
    const none = { alg: 'none', typ: ACCESS_TOKEN_TYPE, kid: svc.keyId };
    expectCode(() => svc.verify(`${b64(none)}.${b64(claims())}.`), 'unauthorized');
    expectCode(() => svc.verify(`${b64(none)}.${b64(claims())}`), 'unauthorized');
    expectCode(() => svc.verify(forge(none, claims(), () => 'AAAA')), 'unauthorized');
  });

  it('refuses a token MACed with the raw secret instead of the derived key', () => {
    expectCode(() => svc.verify(forge(header, claims(), hmac(SECRET))), 'unauthorized');
  });

  it('refuses a token MACed with a key derived for another purpose (transaction cookie)', () => {
    const other = deriveKey(options, 'social-auth/transaction');
    expectCode(() => svc.verify(forge(header, claims(), hmac(other))), 'unauthorized');
  });

  it('refuses a token whose payload was changed after signing, or whose signature was stripped', () => {
    const [h, , s] = good().split('.');
    expectCode(() => svc.verify(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`), 'unauthorized');
    expectCode(() => svc.verify(`${h}.${b64(claims({ role: 'admin' }))}.${s}`), 'unauthorized');
    const reencoded = Buffer.from(JSON.stringify(claims(), null, 1)).toString('base64url');
    expectCode(() => svc.verify(`${h}.${reencoded}.${s}`), 'unauthorized');
    expectCode(() => svc.verify(`${h}.${b64(claims())}.`), 'unauthorized');
  });

  it('refuses duplicate claim names even when the MAC is valid', () => {
    const payload = `{"sub":"user-1","sub":"admin","sid":"s","iat":${T0},"exp":${T0 + 600},"iss":"${APP}","aud":"${APP}","jti":"j"}`;
    expectCode(() => svc.verify(forge(header, payload, hmac(key))), 'unauthorized');
    const escaped = `{"sub":"user-1","\\u0073ub":"admin","sid":"s","iat":${T0},"exp":${T0 + 600},"iss":"${APP}","aud":"${APP}","jti":"j"}`;
    expectCode(() => svc.verify(forge(header, escaped, hmac(key))), 'unauthorized');
    const dupHeader = `{"alg":"HS256","typ":"at+jwt","kid":"${svc.keyId}","alg":"none"}`;
    expectCode(() => svc.verify(forge(dupHeader, claims(), hmac(key))), 'unauthorized');
  });

  it.each([
    ['empty', ''],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['bad base64', '###.$$$.%%%'],
    ['JSON array payload', `${b64({ alg: 'HS256' })}.${b64([1])}.sig`],
    ['non-JSON header', `${b64('not json')}.${b64(claims())}.sig`],
    ['16 kB', `${'a'.repeat(8000)}.${'b'.repeat(8000)}.c`],
    ['not a string', 42],
    ['null', null],
  ])('refuses a malformed token (%s) with unauthorized, never another error', (_name, token) => {
    expectCode(() => svc.verify(token), 'unauthorized');
  });

  it('refuses an RS256 or ES256 token carrying our kid (the key decides the algorithm)', () => {
    const ec = ecKey();
    expectCode(() => svc.verify(forge({ ...header, alg: 'ES256' }, claims(), es256(ec.privateKey))), 'unauthorized');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = (input: string) => createSign('sha256').update(input).sign(rsa.privateKey).toString('base64url');
    expectCode(() => svc.verify(forge({ ...header, alg: 'RS256' }, claims(), rs)), 'unauthorized');
  });

  it('caps the lifetime at 15 minutes whatever accessTtl says', () => {
    const long = service({ secret: SECRET, accessTtl: 900 });
    expect(long.svc.sign('u', 's').expiresIn).toBe(900);
    expect(() => service({ secret: SECRET, accessTtl: 901 })).toThrow(InvalidAuthOptionsError);
  });

  it('serves no public keys', () => {
    expect(svc.publicJwks()).toEqual([]);
  });

  it('keeps accepting the previous secret during a rotation, and stops once it is removed', () => {
    const oldSecret = 'old-secret-old-secret-old-secret-012345';
    const before = service({ secret: oldSecret }, clock).svc.sign('user-1', 'session-1').token;
    const overlapping = service({ secret: SECRET, previousKeys: [oldSecret] }, clock).svc;
    expect(overlapping.verify(before).id).toBe('user-1');
    expect(overlapping.verify(overlapping.sign('u', 's').token).id).toBe('u');
    expectCode(() => service({ secret: SECRET }, clock).svc.verify(before), 'unauthorized');
  });

  it('refuses a too-short previous HS256 secret at boot', () => {
    expect(() => service({ secret: SECRET, previousKeys: ['short'] })).toThrow(/tokens.previousKeys\[0\]/);
  });
});

describe('AccessTokenService: remembered verifications', () => {
  const fresh = () => service();

  it('answers a repeated token with the same frozen claims, and still expires it on time', () => {
    const { svc, clock, options } = fresh();
    const { token } = svc.sign('user-1', 'session-1');
    const first = svc.verify(token);
    expect(svc.verify(token)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    clock.at = T0 + 600 + options.tokens.clockTolerance;
    expectCode(() => svc.verify(token), 'token_expired');
  });

  it('a remembered signature does not vouch for another header or payload', () => {
    const { svc } = fresh();
    const token = svc.sign('user-1', 'session-1').token;
    svc.verify(token);
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    expectCode(() => svc.verify(`${h}.${b64({ ...payload, sub: 'user-2' })}.${s}`), 'unauthorized');
    expectCode(() => svc.verify(`${b64({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: svc.keyId, x: 1 })}.${p}.${s}`), 'unauthorized');
    expectCode(() => svc.verify(`${h}.${p}.${s}x`), 'unauthorized');
    expect(svc.verify(token).id).toBe('user-1');
  });

  it('a token verified by another instance (other secret) is not accepted here', () => {
    const { svc } = fresh();
    const other = service({ secret: 'other-secret-other-secret-other-secret-01' }).svc;
    const token = other.sign('user-1', 'session-1').token;
    expect(other.verify(token).id).toBe('user-1');
    expectCode(() => svc.verify(token), 'unauthorized');
  });

  it('remembers at most VERIFIED_TOKENS_MAX tokens, dropping the oldest', () => {
    const { svc } = fresh();
    const verified = (svc as unknown as { verified: Map<string, unknown> }).verified;
    const first = svc.sign('user-0', 'session-0').token;
    svc.verify(first);
    for (let i = 1; i <= VERIFIED_TOKENS_MAX; i += 1) svc.verify(svc.sign(`user-${i}`, 'session-1').token);
    expect(verified.size).toBe(VERIFIED_TOKENS_MAX);
    expect(verified.has(first.slice(first.lastIndexOf('.') + 1))).toBe(false);
    expect(svc.verify(first).id).toBe('user-0');
  });
});

describe('AccessTokenService (ES256)', () => {
  const current = ecKey();
  const { svc, clock } = service({ privateKey: current.privatePem });
  const jwk = svc.publicJwks()[0];

  it('signs ES256 with a thumbprint kid and publishes the public key', () => {
    expect(svc.algorithm).toBe('ES256');
    const { token } = svc.sign('user-1', 'session-1');
    const h = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(h).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid });
    expect(jwk).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    expect(svc.verify(token).id).toBe('user-1');
  });

  it('refuses HS256 MACed with our own public key (RS/HS-style key confusion)', () => {
    const header = { alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: jwk.kid };
    expectCode(() => svc.verify(forge(header, claims(), hmac(current.publicPem))), 'unauthorized');
    expectCode(() => svc.verify(forge(header, claims(), hmac(Buffer.from(JSON.stringify(jwk))))), 'unauthorized');
  });

  it('refuses a token signed by another P-256 key under our kid', () => {
    const attacker = ecKey();
    expectCode(() => svc.verify(forge({ alg: 'ES256', typ: ACCESS_TOKEN_TYPE, kid: jwk.kid }, claims(), es256(attacker.privateKey))), 'unauthorized');
  });

  it('accepts a hand-signed ES256 control token', () => {
    expect(svc.verify(forge({ alg: 'ES256', typ: ACCESS_TOKEN_TYPE, kid: jwk.kid }, claims(), es256(current.privateKey))).id).toBe('user-1');
  });

  it('rotation: the previous public key keeps verifying and is published after the current one', () => {
    const next = ecKey();
    const rotated = service({ privateKey: next.privatePem, previousKeys: [current.publicPem] }, clock).svc;
    expect(rotated.publicJwks().map((k) => k.kid)).toEqual([rotated.keyId, jwk.kid]);
    expect(rotated.verify(svc.sign('user-1', 's').token).id).toBe('user-1');
    expectCode(() => service({ privateKey: next.privatePem }, clock).svc.verify(svc.sign('user-1', 's').token), 'unauthorized');
  });

  it('an HS256 token is not accepted by an ES256 app, even when the secret is also configured', () => {
    const both = service({ privateKey: current.privatePem, secret: SECRET }, clock).svc;
    const hs = service({ secret: SECRET }, clock).svc.sign('user-1', 's').token;
    expectCode(() => both.verify(hs), 'unauthorized');
  });

  it('refuses Ed25519, RSA and P-384 keys at boot with a message naming the option', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => service({ privateKey: ed })).toThrow(/tokens.privateKey: access tokens are signed with ES256, which needs an EC P-256 key \(got ed25519\)/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => service({ privateKey: rsa })).toThrow(InvalidAuthOptionsError);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => service({ privateKey: p384 })).toThrow(/got EC secp384r1/);
  });
});

describe('key derivation', () => {
  it('derives distinct 32-byte keys per purpose, stable for one secret', () => {
    const a = deriveKeyFrom(SECRET, 'social-auth/access-token');
    expect(a).toHaveLength(32);
    expect(deriveKeyFrom(SECRET, 'social-auth/access-token').equals(a)).toBe(true);
    expect(deriveKeyFrom(SECRET, 'social-auth/transaction').equals(a)).toBe(false);
    expect(deriveKeyFrom(`${SECRET}x`, 'social-auth/access-token').equals(a)).toBe(false);
  });

  it('derives from the private key when no secret is set, independent of PEM line endings', () => {
    const { privatePem } = ecKey();
    const one = deriveKey({ tokens: { privateKey: privatePem } } as never, 'p');
    const two = deriveKey({ tokens: { privateKey: privatePem.replace(/\n/g, '\r\n') } } as never, 'p');
    expect(one.equals(two)).toBe(true);
  });
});

describe('hasDuplicateMembers', () => {
  it.each([
    ['{"a":1,"b":2}', false],
    ['{"a":1,"a":2}', true],
    ['{"a":{"x":1,"x":2}}', false],
    ['{"a":"\\"a\\":","b":1}', false],
    ['{ "a" : 1 , "a" : 2 }', true],
    ['{"a":[{"b":1}],"b":2}', false],
  ])('%s → %s', (json, expected) => {
    expect(hasDuplicateMembers(json)).toBe(expected);
  });
});
