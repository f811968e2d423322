import { Injectable } from '@nestjs/common';
import { TokenExpiredError, sign as jwtSign, verify as jwtVerify, type JwtPayload } from 'jsonwebtoken';
import { KeyObject, createHash, createPrivateKey, createPublicKey, createSecretKey, randomUUID } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError, InvalidAuthOptionsError } from '../errors/auth.error';
import { type AuthenticatedClient, isAuthenticatedClient } from '../machine-clients/authenticated-client';
import type { AuthenticatedUser } from './authenticated-user';
import { Clock } from './clock';
import { KEY_PURPOSE, deriveKeyFrom } from './key-derivation';

/** The JOSE `typ` of our access tokens (RFC 9068). Nothing else we mint carries it. @publicApi */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Hard upper bound on an access token's lifetime, whatever the options say (15 minutes). @internal */
export const MAX_ACCESS_TTL = 900;

/** Most verified tokens remembered at once (~0.6 KB each, so ~6 MB at the bound); the oldest goes first. @internal */
export const VERIFIED_TOKENS_MAX = 10_000;

/** Longest token accepted; ours are ~400 characters. Larger inputs are refused unparsed. @internal */
const MAX_TOKEN_LENGTH = 4096;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KID = /^[A-Za-z0-9_-]{1,64}$/;
const ALLOWED_HEADER = new Set(['alg', 'typ', 'kid']);

/** Signing algorithms the module supports. @publicApi */
export type AccessTokenAlgorithm = 'HS256' | 'ES256';

interface TokenKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  /**
   * HMAC key (HS256) or public key (ES256), as a KeyObject built once: jsonwebtoken re-parses any
   * other key form on every call (for an HMAC secret it first tries, and fails, to read it as a
   * public key, ~0.4 ms per verification).
   */
  verify: KeyObject;
  /** Public JWK (ES256 only), for the JWKS document. */
  jwk?: PublicJwk;
}

/** A public key as served at `/.well-known/jwks.json`. @publicApi */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/**
 * Signs and verifies the app's access tokens with jsonwebtoken, on keys built once as `KeyObject`s.
 *
 * Invariants (threat model D1–D4):
 * - The key is chosen by `kid` from our own key set only, and the algorithm comes from that key,
 *   never from the token: verification always passes `algorithms: [key.alg]`, so `alg: none`,
 *   HS/ES confusion and `jku`/`x5u`/`jwk` header tricks cannot select a key.
 * - The header must be exactly `{ alg, typ: "at+jwt", kid }`; the OAuth transaction cookie and
 *   refresh tokens are not JWS with that `typ` and are signed/sealed with other derived keys.
 * - `iss` and `aud` are compared as exact strings (an `aud` array is refused); `exp` and `iat`
 *   are required, and `exp - iat` may not exceed 15 minutes even for a validly signed token.
 * - A header or payload with duplicate member names is refused even when the signature is
 *   valid, so no two JSON parsers can read different claims from one token.
 * - HS256 signs with an HKDF-derived key (`social-auth/access-token`), never with the raw secret.
 * @publicApi
 */
@Injectable()
export class AccessTokenService {
  private readonly signing: { kid: string; alg: AccessTokenAlgorithm; key: KeyObject };
  private readonly keys = new Map<string, TokenKey>();
  /** Tokens that passed every check, by signature segment, oldest first (see `verify`). */
  private readonly verified = new Map<string, { token: string; user: Readonly<AuthenticatedUser | AuthenticatedClient> }>();

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
  ) {
    const { secret, privateKey, previousKeys } = options.tokens;
    if (privateKey) {
      const key = es256PrivateKey(privateKey, 'tokens.privateKey');
      const current = es256Key(createPublicKey(key));
      this.signing = { kid: current.kid, alg: 'ES256', key };
      this.keys.set(current.kid, current);
    } else if (secret) {
      const current = hs256Key(secret);
      this.signing = { kid: current.kid, alg: 'HS256', key: current.verify };
      this.keys.set(current.kid, current);
    } else {
      throw new InvalidAuthOptionsError('Invalid AuthModule option tokens: set tokens.secret (HS256) or tokens.privateKey (ES256)');
    }
    previousKeys.forEach((value, i) => {
      const key = value.includes('-----BEGIN') ? es256Key(es256PublicKey(value, `tokens.previousKeys[${i}]`)) : hs256Key(value, `tokens.previousKeys[${i}]`);
      if (!this.keys.has(key.kid)) this.keys.set(key.kid, key);
    });
  }

  /** The algorithm new tokens are signed with. */
  get algorithm(): AccessTokenAlgorithm {
    return this.signing.alg;
  }

  /** The `kid` of the current signing key. */
  get keyId(): string {
    return this.signing.kid;
  }

  /** Public keys (current first, then previous ones) for `/.well-known/jwks.json`; empty with HS256 only. */
  publicJwks(): PublicJwk[] {
    return [...this.keys.values()].flatMap((k) => (k.jwk ? [k.jwk] : []));
  }

  /** Signs an access token for `userId` in session `sessionId`, valid for `tokens.accessTtl` seconds. */
  sign(userId: string, sessionId: string): { token: string; expiresIn: number } {
    const now = this.clock.seconds();
    const { issuer, audience } = this.options.tokens;
    const expiresIn = Math.min(this.options.tokens.accessTtl, MAX_ACCESS_TTL);
    const payload = { sub: userId, sid: sessionId, iat: now, exp: now + expiresIn, iss: issuer, aud: audience, jti: randomUUID() };
    const header = { alg: this.signing.alg, typ: ACCESS_TOKEN_TYPE, kid: this.signing.kid };
    const token = jwtSign(payload, this.signing.key, { algorithm: this.signing.alg, header });
    return { token, expiresIn };
  }

  /**
   * Signs a machine client's access token: `sub` and `client_id` are the client id, `scope` the
   * granted scopes, and there is no `sid` (that absence and `client_id` tell it from a user's
   * token). Valid for `lifetime` seconds, at most 15 minutes.
   */
  signForClient(clientId: string, scopes: readonly string[], lifetime: number): { token: string; expiresIn: number } {
    const now = this.clock.seconds();
    const { issuer, audience } = this.options.tokens;
    const expiresIn = Math.min(lifetime, MAX_ACCESS_TTL);
    const payload = { sub: clientId, client_id: clientId, scope: scopes.join(' '), iat: now, exp: now + expiresIn, iss: issuer, aud: audience, jti: randomUUID() };
    const header = { alg: this.signing.alg, typ: ACCESS_TOKEN_TYPE, kid: this.signing.kid };
    return { token: jwtSign(payload, this.signing.key, { algorithm: this.signing.alg, header }), expiresIn };
  }

  /**
   * Verifies an access token and returns who it authenticates. Throws `AuthError('token_expired')`
   * for an expired token and `AuthError('unauthorized')` for anything else that is not a valid
   * access token of a user of this app (a machine client's token included; see `verifyPrincipal`);
   * never another error, whatever the input.
   */
  verify(token: unknown): Readonly<AuthenticatedUser> {
    const principal = this.verifyPrincipal(token);
    if (isAuthenticatedClient(principal)) throw unauthorized();
    return principal;
  }

  /**
   * Like `verify`, but a machine client's token is accepted too and answered as an
   * {@link AuthenticatedClient} (`kind: 'machine'`); only the guard's scope check may let one through.
   */
  verifyPrincipal(token: unknown): Readonly<AuthenticatedUser> | AuthenticatedClient {
    // A client sends the same access token on every request of its lifetime, so a token that
    // already passed every check is remembered and only its expiry is checked again. Keyed by the
    // signature segment (short to hash) but a hit needs the whole text to match: only a
    // byte-identical token can skip verification. Keys never change while the service lives, so
    // nothing else can turn a verified token invalid.
    const signature = typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH ? token.slice(token.lastIndexOf('.') + 1) : undefined;
    const known = signature === undefined ? undefined : this.verified.get(signature);
    if (known !== undefined && known.token === token && this.clock.seconds() < known.user.expiresAt + this.options.tokens.clockTolerance) return known.user;
    // verifyFully accepts only a compact JWS within MAX_TOKEN_LENGTH, so `signature` is set below.
    const user = Object.freeze(this.verifyFully(token));
    if (signature === undefined) throw unauthorized();
    this.verified.delete(signature);
    this.verified.set(signature, { token: token as string, user });
    if (this.verified.size > VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value as string);
    return user;
  }

  private verifyFully(token: unknown): AuthenticatedUser | AuthenticatedClient {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWS_COMPACT.test(token)) throw unauthorized();
    const [headerPart, payloadPart] = token.split('.');
    const header = parseSegment(headerPart);
    if (!header || Object.keys(header).some((k) => !ALLOWED_HEADER.has(k))) throw unauthorized();
    if (header.typ !== ACCESS_TOKEN_TYPE || typeof header.kid !== 'string' || !KID.test(header.kid)) throw unauthorized();
    const key = this.keys.get(header.kid);
    if (!key || header.alg !== key.alg) throw unauthorized();
    if (!parseSegment(payloadPart)) throw unauthorized();

    let claims: Record<string, unknown>;
    try {
      claims = jwtVerify(token, key.verify, {
        algorithms: [key.alg],
        issuer: this.options.tokens.issuer,
        audience: this.options.tokens.audience,
        clockTimestamp: this.clock.seconds(),
        clockTolerance: this.options.tokens.clockTolerance,
        complete: false,
      }) as JwtPayload;
    } catch (error) {
      if (error instanceof TokenExpiredError) throw new AuthError('token_expired', { cause: error });
      throw unauthorized(error);
    }
    return claims.client_id === undefined ? this.toUser(claims) : this.toClient(claims);
  }

  private toUser(claims: Record<string, unknown>): AuthenticatedUser {
    const { sub, sid, jti, iat, exp, iss, aud } = claims;
    const now = this.clock.seconds();
    const tolerance = this.options.tokens.clockTolerance;
    if (!isId(sub, 64) || !isId(sid, 36) || !isId(jti, 64)) throw unauthorized();
    if (iss !== this.options.tokens.issuer || aud !== this.options.tokens.audience) throw unauthorized();
    if (!Number.isInteger(iat) || !Number.isInteger(exp)) throw unauthorized();
    const issuedAt = iat as number;
    const expiresAt = exp as number;
    if (issuedAt > now + tolerance) throw unauthorized();
    if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_ACCESS_TTL) throw unauthorized();
    return { id: sub as string, sessionId: sid as string, tokenId: jti as string, issuedAt, expiresAt };
  }

  /** A machine token: `sub` = `client_id`, a `scope` string, no `sid`; the same time and audience rules as a user's. */
  private toClient(claims: Record<string, unknown>): AuthenticatedClient {
    const { sub, client_id: clientId, scope, sid, jti, iat, exp, iss, aud } = claims;
    const now = this.clock.seconds();
    if (!isId(sub, 64) || sub !== clientId || sid !== undefined || !isId(jti, 64) || typeof scope !== 'string' || scope.length > 4096) throw unauthorized();
    if (iss !== this.options.tokens.issuer || aud !== this.options.tokens.audience) throw unauthorized();
    if (!Number.isInteger(iat) || !Number.isInteger(exp)) throw unauthorized();
    const issuedAt = iat as number;
    const expiresAt = exp as number;
    if (issuedAt > now + this.options.tokens.clockTolerance) throw unauthorized();
    if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_ACCESS_TTL) throw unauthorized();
    const scopes = Object.freeze(scope.split(' ').filter(Boolean));
    return Object.freeze({ kind: 'machine', clientId: sub as string, scopes, tokenId: jti as string, issuedAt, expiresAt });
  }
}

function unauthorized(cause?: unknown): AuthError {
  return new AuthError('unauthorized', { cause });
}

function isId(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** Decodes one base64url JSON segment into a plain object, or undefined (bad JSON, duplicates, non-object). */
function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const json = Buffer.from(segment, 'base64url').toString('utf8');
    const value: unknown = JSON.parse(json);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (hasDuplicateMembers(json)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * True when the top-level JSON object in `json` names a member twice (after unescaping, so
 * `"sub"` and `"\u0073ub"` are the same name). `JSON.parse` silently keeps the last one.
 * @internal
 */
export function hasDuplicateMembers(json: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const literal = json.slice(i, j + 1);
      i = j;
      if (depth !== 1) continue;
      let k = j + 1;
      while (k < json.length && /\s/.test(json[k])) k++;
      if (json[k] !== ':') continue;
      const name = JSON.parse(literal) as string;
      if (seen.has(name)) return true;
      seen.add(name);
    }
  }
  return false;
}

function hs256Key(secret: string, option = 'tokens.secret'): TokenKey {
  if (secret.length < 32) throw new InvalidAuthOptionsError(`Invalid AuthModule option ${option}: an HS256 secret must be at least 32 characters`);
  const key = deriveKeyFrom(secret, KEY_PURPOSE.accessToken);
  // A digest of the derived key, not of the secret: it identifies the key without helping guess it.
  const kid = `hs-${createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
  return { kid, alg: 'HS256', verify: createSecretKey(key) };
}

function es256PrivateKey(pem: string, option: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new InvalidAuthOptionsError(`Invalid AuthModule option ${option}: not a readable PKCS#8 PEM private key`);
  }
  assertP256(key, option);
  return key;
}

function es256PublicKey(pem: string, option: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new InvalidAuthOptionsError(`Invalid AuthModule option ${option}: not a readable PEM key`);
  }
  assertP256(key, option);
  return key;
}

function assertP256(key: KeyObject, option: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const kind = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new InvalidAuthOptionsError(
      `Invalid AuthModule option ${option}: access tokens are signed with ES256, which needs an EC P-256 key (got ${kind}); generate one with "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"`,
    );
  }
}

/** An ES256 verification key with its RFC 7638 thumbprint as `kid`. */
function es256Key(publicKey: KeyObject): TokenKey {
  const { x, y } = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  const kid = createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y })).digest('base64url');
  return { kid, alg: 'ES256', verify: publicKey, jwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' } };
}
