/**
 * Key material of the fake Google and the JWS assembly for honest and forged ID tokens.
 *
 * Keys come from WebCrypto (no JOSE library: the kit has no dependency of its own). Tokens are assembled here (header and payload exactly as given, then
 * signed with WebCrypto) because several scenarios need tokens jose refuses to produce on
 * purpose: a header without `alg`, `alg: "none"`, an `alg` that lies about the key.
 * @internal
 */
import { KeyObject, createHash, createHmac, webcrypto } from 'node:crypto';

import type { FakeIdTokenSigning } from './fake-idp.types';

/** @internal */
export interface FakeSigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: webcrypto.CryptoKey;
  /** Public JWK with `kid`, `alg`, `use`. */
  publicJwk: JWK;
  /** SPKI PEM of the public key (the HS256 confusion key). */
  publicPem: string;
}

/** A public JSON Web Key as the fake publishes it. */
export interface JWK {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

const KEY_ALGORITHMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
} as const;

async function createKey(alg: 'RS256' | 'ES256'): Promise<FakeSigningKey> {
  const { publicKey, privateKey } = (await webcrypto.subtle.generateKey(KEY_ALGORITHMS[alg], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const exported = KeyObject.from(publicKey);
  const jwk = exported.export({ format: 'jwk' }) as JWK;
  const kid = jwkThumbprint(jwk);
  const publicPem = exported.export({ format: 'pem', type: 'spki' }) as string;
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, publicPem };
}

/** RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, base64url. */
function jwkThumbprint(jwk: JWK): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

async function sign(key: FakeSigningKey, input: string): Promise<Buffer> {
  // ECDSA in WebCrypto already yields the JWS form (r || s, IEEE P1363).
  const algorithm = key.alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' };
  return Buffer.from(await webcrypto.subtle.sign(algorithm, key.privateKey, Buffer.from(input)));
}

/**
 * The fake's keys: the published RSA signing key(s), an unpublished "attacker" RSA key and a
 * P-256 key for algorithm-substitution tests.
 * @internal
 */
export class FakeKeySet {
  private constructor(
    /** Published keys, current first. */
    private published: FakeSigningKey[],
    readonly attacker: FakeSigningKey,
    readonly ec: FakeSigningKey,
  ) {}

  static async create(): Promise<FakeKeySet> {
    const [current, attacker, ec] = await Promise.all([createKey('RS256'), createKey('RS256'), createKey('ES256')]);
    return new FakeKeySet([current], attacker, ec);
  }

  get current(): FakeSigningKey {
    return this.published[0];
  }

  get publishedKids(): string[] {
    return this.published.map((k) => k.kid);
  }

  /** New current key; the previous ones stay published only with `keepOld`. */
  async rotate(keepOld: boolean): Promise<string> {
    const next = await createKey('RS256');
    this.published = keepOld ? [next, ...this.published] : [next];
    return next.kid;
  }

  jwks(publishEcKey: boolean): { keys: JWK[] } {
    const keys = this.published.map((k) => k.publicJwk);
    return { keys: publishEcKey ? [...keys, this.ec.publicJwk] : keys };
  }

  /**
   * Compact JWS of `payload` signed as `signing` says. `headerPatch` is applied last, so a
   * test can make the header lie (e.g. a foreign `kid`, a `jku`, a different `alg`).
   */
  async signJwt(
    payload: Record<string, unknown>,
    signing: FakeIdTokenSigning,
    headerPatch: (header: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<string> {
    const { current } = this;
    const typ = 'JWT';
    let header: Record<string, unknown>;
    let signer: (input: string) => Promise<Buffer>;
    switch (signing) {
      case 'attacker-key':
        header = { alg: 'RS256', kid: current.kid, typ };
        signer = (input) => sign(this.attacker, input);
        break;
      case 'none':
        header = { alg: 'none', typ };
        signer = async () => Buffer.alloc(0);
        break;
      case 'hs256-with-public-key':
        header = { alg: 'HS256', kid: current.kid, typ };
        signer = async (input) => createHmac('sha256', current.publicPem).update(input).digest();
        break;
      case 'es256':
        header = { alg: 'ES256', kid: this.ec.kid, typ };
        signer = (input) => sign(this.ec, input);
        break;
      case 'null-alg':
        header = { kid: current.kid, typ };
        signer = (input) => sign(current, input);
        break;
      case 'valid':
        header = { alg: 'RS256', kid: current.kid, typ };
        signer = (input) => sign(current, input);
        break;
      default:
        throw new TypeError(`unknown idToken.signing value: ${String(signing)}`);
    }
    const input = `${b64url(headerPatch(header))}.${b64url(payload)}`;
    return `${input}.${(await signer(input)).toString('base64url')}`;
  }
}
