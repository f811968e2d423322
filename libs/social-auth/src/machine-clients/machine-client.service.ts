import { Inject, Injectable, Optional } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { createHash } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthPaths } from '../controllers/auth-paths';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient } from '../http/provider-http.client';
import { RemoteJwks } from '../identity-providers/remote-jwks';
import { AccessTokenService } from '../tokens/access-token.service';
import { Clock } from '../tokens/clock';
import { SessionLivenessCache } from '../tokens/session-liveness.cache';
import { SingleUseStore } from '../transaction/single-use.store';
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret';
import { MachineClientRecord, MachineClientStore } from './machine-client-store.port';
import { ClientAuthentication, ClientCredentialsRequest, grantScopes, isClientId, isScopeToken } from './machine-client.policy';

/** Algorithms a `private_key_jwt` assertion may be signed with (RFC 7523; never `none` or HMAC). @publicApi */
export const CLIENT_ASSERTION_ALGORITHMS = ['ES256', 'RS256'] as const;

/** What `POST /<prefix>/oauth/token` answers (RFC 6749 §5.1); never a refresh token (§4.4.3). @publicApi */
export interface ClientCredentialsTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** A new client: at least one way to authenticate (a generated secret, `jwks` or `jwksUri`). @publicApi */
export interface RegisterMachineClient {
  /** Client id; generated when omitted. 1–64 of `A-Z a-z 0-9 . _ ~ -`. */
  id?: string;
  /** Display name. */
  name: string;
  /** Scopes the client may be granted (RFC 6749 scope tokens). */
  scopes: string[];
  /**
   * Generate a client secret (`client_secret_basic`); it is returned once and stored only hashed.
   * @default true unless `jwks` or `jwksUri` is given
   */
  secret?: boolean;
  /**
   * Use this secret instead of generating one (a secret your vault or deployment already holds):
   * 32–256 of `A-Z a-z 0-9 . _ ~ -` (`openssl rand -hex 32`). Implies `secret: true`.
   * @default undefined (a generated secret)
   */
  clientSecret?: string;
  /** Public JWK Set for `private_key_jwt` (EC P-256 or RSA keys). */
  jwks?: JSONWebKeySet;
  /** URL of the client's JWK Set for `private_key_jwt` (https in production). */
  jwksUri?: string;
}

/** Key of a client's liveness entry in the cache it shares with nothing else. */
const livenessKey = (clientId: string) => clientId;

/**
 * Machine clients: registering, rotating and disabling them (the host's and operators' API), and
 * the client-credentials grant itself (authenticating a client, issuing its token).
 *
 * Invariants (threat model, section M):
 * - A client secret exists in clear only in the return value of `register`/`rotateSecret`; the
 *   store holds scrypt hashes. Secret authentication always costs two scrypt hashes, whether the
 *   client exists, is disabled, has one secret or two.
 * - `private_key_jwt`: keys come only from the client's registered `jwks`/`jwksUri`, the algorithm
 *   is one of {@link CLIENT_ASSERTION_ALGORITHMS}, `iss` = `sub` = the client id, `aud` = this
 *   token endpoint's URL, `exp` at most `maxAssertionLifetime` ahead, and its `jti` is consumed in
 *   the {@link SingleUseStore}, so an assertion is accepted once, on any instance.
 * - Disabling a client is seen by this instance at once and by others within
 *   `tokens.revocationCacheTtl` seconds, the revocation bound of user sessions.
 * @publicApi
 */
@Injectable()
export class MachineClientService {
  private readonly liveness: SessionLivenessCache;
  private readonly remoteKeys = new Map<string, { url: string; keys: RemoteJwks }>();

  constructor(
    @Inject(MachineClientStore) private readonly store: MachineClientStore,
    private readonly tokens: AccessTokenService,
    private readonly clock: Clock,
    @Inject(SingleUseStore) private readonly singleUse: SingleUseStore,
    private readonly paths: AuthPaths,
    private readonly http: ProviderHttpClient,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    @Optional() @Inject(ThrottlerStorage) private readonly counters?: ThrottlerStorage,
  ) {
    this.liveness = new SessionLivenessCache(options.tokens.revocationCacheTtl * 1000, () => this.clock.epochMs());
  }

  /** Whether the token endpoint is served and machine tokens are accepted (`machineClients.enabled`). */
  get enabled(): boolean {
    return this.options.machineClients.enabled;
  }

  /** Registers a client. Returns its id and, when one was generated, its secret (shown this once). */
  async register(input: RegisterMachineClient): Promise<{ clientId: string; clientSecret?: string }> {
    const id = input.id ?? `mc_${createHash('sha256').update(generateClientSecret()).digest('base64url').slice(0, 20)}`;
    if (!isClientId(id)) throw new AuthError('invalid_request', { message: 'A client id is 1 to 64 of A-Z a-z 0-9 . _ ~ -' });
    if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 200) throw new AuthError('invalid_request', { message: 'A client name is 1 to 200 characters' });
    const scopes = checkedScopes(input.scopes);
    const keys = checkedKeys(input.jwks, input.jwksUri, this.options.production);
    const withSecret = input.clientSecret !== undefined || (input.secret ?? (keys.jwks === null && keys.jwksUri === null));
    if (!withSecret && keys.jwks === null && keys.jwksUri === null) throw new AuthError('invalid_request', { message: 'A client needs a secret, jwks or jwksUri' });
    if (input.clientSecret !== undefined) checkedSecret(input.clientSecret);
    const clientSecret = withSecret ? (input.clientSecret ?? generateClientSecret()) : undefined;
    await this.store.insert({
      id,
      name: input.name,
      scopes,
      enabled: true,
      secretHash: clientSecret ? await hashClientSecret(clientSecret) : null,
      previousSecretHash: null,
      ...keys,
    });
    return clientSecret ? { clientId: id, clientSecret } : { clientId: id };
  }

  /**
   * Rotates the client's secret: a new one becomes current and the current one becomes the
   * previous, still accepted until `retirePreviousSecret` (so callers can switch without downtime).
   * A secret that was already previous stops working now. Returns the new secret (shown this once).
   */
  async rotateSecret(clientId: string): Promise<{ clientSecret: string }> {
    const client = await this.require(clientId);
    const clientSecret = generateClientSecret();
    await this.save({ ...client, previousSecretHash: client.secretHash, secretHash: await hashClientSecret(clientSecret) });
    return { clientSecret };
  }

  /** Stops accepting the secret the last rotation replaced. */
  async retirePreviousSecret(clientId: string): Promise<void> {
    const client = await this.require(clientId);
    await this.save({ ...client, previousSecretHash: null });
  }

  /** Replaces the scopes the client may be granted (tokens already issued keep theirs until they expire). */
  async setScopes(clientId: string, scopes: string[]): Promise<void> {
    const client = await this.require(clientId);
    await this.save({ ...client, scopes: checkedScopes(scopes) });
  }

  /** Replaces the client's `private_key_jwt` keys (a JWK Set, or the URL of one; null removes it). */
  async setKeys(clientId: string, keys: { jwks?: JSONWebKeySet | null; jwksUri?: string | null }): Promise<void> {
    const client = await this.require(clientId);
    this.remoteKeys.delete(clientId);
    await this.save({ ...client, ...checkedKeys(keys.jwks ?? undefined, keys.jwksUri ?? undefined, this.options.production) });
  }

  /** Disables the client: no new token, and its tokens stop passing the guard (at once here, within `tokens.revocationCacheTtl` elsewhere). */
  async disable(clientId: string): Promise<void> {
    const client = await this.require(clientId);
    await this.save({ ...client, enabled: false });
    this.liveness.markRevoked(livenessKey(clientId));
  }

  /** Enables a disabled client again. */
  async enable(clientId: string): Promise<void> {
    const client = await this.require(clientId);
    await this.save({ ...client, enabled: true });
    this.liveness.forget(livenessKey(clientId));
  }

  /** The client (without secret hashes), or null. */
  async find(clientId: string): Promise<Omit<MachineClientRecord, 'secretHash' | 'previousSecretHash'> & { secrets: number } | null> {
    const client = isClientId(clientId) ? await this.store.findById(clientId) : null;
    if (!client) return null;
    const { secretHash, previousSecretHash, ...rest } = client;
    return { ...rest, secrets: (secretHash ? 1 : 0) + (previousSecretHash ? 1 : 0) };
  }

  /**
   * The client-credentials grant: authenticates the client, grants scopes and signs its token.
   * Throws `AuthError` with the RFC 6749 §5.2 code (`invalid_client`, `invalid_scope`), or
   * `rate_limited` when the client id's budget is spent.
   */
  async issueToken(request: ClientCredentialsRequest): Promise<ClientCredentialsTokenResponse> {
    return this.tokenFor(await this.authenticate(request.auth), request.scopes);
  }

  private tokenFor(client: MachineClientRecord, requested: string[] | undefined): ClientCredentialsTokenResponse {
    const scopes = grantScopes(requested, client.scopes);
    if (!Array.isArray(scopes)) throw new AuthError('invalid_scope');
    const { token, expiresIn } = this.tokens.signForClient(client.id, scopes, this.options.machineClients.tokenTtl);
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' ') };
  }

  /**
   * Issues a token for a registered, enabled client without client authentication, for trusted
   * in-process callers only (a host's own job, e2e tests through the testing kit's
   * `mintMachineToken`). Never expose it over HTTP. `scopes` omitted: every allowed scope.
   */
  async issueTokenFor(clientId: string, scopes?: string[]): Promise<ClientCredentialsTokenResponse> {
    const client = isClientId(clientId) ? await this.store.findById(clientId) : null;
    if (!client || !client.enabled) throw invalidClient();
    return this.tokenFor(client, scopes);
  }

  /** The liveness of a client as this instance remembers it (undefined: ask `isClientLive`). @internal */
  knownClientLiveness(clientId: string): boolean | undefined {
    return this.liveness.peek(livenessKey(clientId), clientId);
  }

  /** Whether the client exists and is enabled, remembered for at most `tokens.revocationCacheTtl` seconds. @internal */
  isClientLive(clientId: string): Promise<boolean> {
    return this.liveness.isLive(livenessKey(clientId), clientId, async () => {
      const client = await this.store.findById(clientId);
      const live = client !== null && client.enabled;
      return { live, userId: live ? clientId : null, until: Number.POSITIVE_INFINITY };
    });
  }

  /** The absolute URL of the token endpoint: the `aud` a client assertion must carry. */
  get tokenEndpointUrl(): string {
    return this.paths.machineTokenUrl();
  }

  private async authenticate(auth: ClientAuthentication): Promise<MachineClientRecord> {
    return auth.method === 'client_secret_basic' ? this.authenticateSecret(auth.clientId, auth.secret) : this.authenticateAssertion(auth.assertion, auth.clientId);
  }

  private async authenticateSecret(clientId: string, secret: string): Promise<MachineClientRecord> {
    await this.countAttempt(clientId);
    const client = await this.store.findById(clientId);
    // Two scrypt hashes whatever the lookup found: an unknown id costs what a wrong secret costs.
    const ok = await verifyClientSecret(secret, [client?.secretHash, client?.previousSecretHash]);
    if (!client || !ok || !client.enabled) throw invalidClient();
    return client;
  }

  private async authenticateAssertion(assertion: string, bodyClientId: string | undefined): Promise<MachineClientRecord> {
    let claimed: Record<string, unknown>;
    try {
      claimed = decodeJwt(assertion);
    } catch {
      throw invalidClient();
    }
    const clientId = claimed.iss;
    if (!isClientId(clientId) || claimed.sub !== clientId || (bodyClientId !== undefined && bodyClientId !== clientId)) throw invalidClient();
    await this.countAttempt(clientId);
    const client = await this.store.findById(clientId);
    if (!client || !client.enabled) throw invalidClient();
    const keys = this.keysOf(client);
    if (!keys) throw invalidClient();
    const tolerance = this.options.tokens.clockTolerance;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        algorithms: [...CLIENT_ASSERTION_ALGORITHMS],
        issuer: clientId,
        subject: clientId,
        audience: this.tokenEndpointUrl,
        currentDate: this.clock.now(),
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (error) {
      // The client's jwksUri unreachable (RemoteJwks answers 503): a transient failure, not a bad client.
      if (error instanceof AuthError && error.getStatus() >= 500) throw new AuthError('service_unavailable', { cause: error, headers: { 'Retry-After': '5' } });
      throw invalidClient(error);
    }
    const now = this.clock.seconds();
    const exp = payload.exp as number;
    const jti = payload.jti;
    if (exp - now > this.options.machineClients.maxAssertionLifetime) throw invalidClient();
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalidClient();
    const key = `mc-jwt:${createHash('sha256').update(`${clientId}\n${jti}`).digest('base64url')}`;
    if (!(await this.singleUse.consume(key, exp - now + tolerance + 1))) throw invalidClient();
    return client;
  }

  private keysOf(client: MachineClientRecord): JWTVerifyGetKey | undefined {
    if (client.jwks) {
      try {
        return createLocalJWKSet(client.jwks as JSONWebKeySet);
      } catch {
        return undefined;
      }
    }
    if (!client.jwksUri) return undefined;
    let remote = this.remoteKeys.get(client.id);
    if (!remote || remote.url !== client.jwksUri) {
      remote = { url: client.jwksUri, keys: new RemoteJwks(client.jwksUri, this.http, this.clock) };
      this.remoteKeys.set(client.id, remote);
    }
    return remote.keys.getKey as JWTVerifyGetKey;
  }

  /** Counts a token request against the client id's budget (`machineClients.clientRateLimit`). */
  private async countAttempt(clientId: string): Promise<void> {
    if (!this.counters) return;
    const { clientRateLimit: limit, clientRateLimitTtl: ttl } = this.options.machineClients;
    const key = createHash('sha256').update(`social-auth|machine-client|${clientId}`).digest('hex');
    let record;
    try {
      record = await this.counters.increment(key, ttl, limit, ttl, 'social-auth-machine-client');
    } catch (error) {
      // Minting tokens fails closed when the counters cannot be read, like refresh and callbacks.
      throw new AuthError('service_unavailable', { cause: error, headers: { 'Retry-After': '5' } });
    }
    if (record.totalHits > limit || record.isBlocked) {
      const retryAfter = String(Math.max(1, Math.ceil(record.timeToBlockExpire || record.timeToExpire || 1)));
      throw new AuthError('rate_limited', { headers: { 'Retry-After': retryAfter } });
    }
  }

  private async require(clientId: string): Promise<MachineClientRecord> {
    const client = isClientId(clientId) ? await this.store.findById(clientId) : null;
    if (!client) throw new AuthError('not_found');
    return client;
  }

  private async save(client: MachineClientRecord): Promise<void> {
    if (!(await this.store.update(client))) throw new AuthError('not_found');
  }
}

/** `401 invalid_client` with its challenge. @internal */
export function invalidClient(cause?: unknown): AuthError {
  // RFC 6749 §5.2: a 401 invalid_client names the scheme the client may authenticate with.
  return new AuthError('invalid_client', { cause, headers: { 'WWW-Authenticate': 'Basic realm="oauth", charset="UTF-8"' } });
}

function checkedSecret(secret: unknown): void {
  // Unreserved characters only: Basic credentials are form-urlencoded (RFC 6749 §2.3.1), and a
  // secret that reads the same encoded or not works with every client (`curl -u` encodes nothing).
  // At most 256, what parseBasicCredentials accepts.
  if (typeof secret !== 'string' || !/^[A-Za-z0-9._~-]{32,256}$/.test(secret)) {
    throw new AuthError('invalid_request', { message: 'A client secret is 32 to 256 of A-Z a-z 0-9 . _ ~ -' });
  }
}

function checkedScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > 64 || !scopes.every(isScopeToken)) {
    throw new AuthError('invalid_request', { message: 'Scopes are 1 to 64 RFC 6749 scope tokens' });
  }
  const unique = [...new Set(scopes)];
  if (unique.join(' ').length > 2000) throw new AuthError('invalid_request', { message: 'Scopes are at most 2000 characters in all' });
  return unique;
}

function checkedKeys(jwks: JSONWebKeySet | undefined, jwksUri: string | undefined, production: boolean): { jwks: { keys: object[] } | null; jwksUri: string | null } {
  if (jwks !== undefined && jwksUri !== undefined) throw new AuthError('invalid_request', { message: 'Give jwks or jwksUri, not both' });
  if (jwks !== undefined) {
    if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new AuthError('invalid_request', { message: 'jwks must be a JWK Set with at least one key' });
    const keys = jwks.keys.map((k) => {
      // Public members only: a private `d` (or any other secret member) is never stored.
      const { kty, crv, x, y, n, e, kid, alg, use } = k as unknown as Record<string, unknown>;
      if (kty === 'EC' && crv === 'P-256' && typeof x === 'string' && typeof y === 'string') return strip({ kty, crv, x, y, kid, alg: alg ?? 'ES256', use });
      if (kty === 'RSA' && typeof n === 'string' && typeof e === 'string' && Buffer.from(n, 'base64url').length >= 256) return strip({ kty, n, e, kid, alg: alg ?? 'RS256', use });
      throw new AuthError('invalid_request', { message: 'jwks keys must be EC P-256 (ES256) or RSA of at least 2048 bits (RS256)' });
    });
    if (keys.some((k) => k.alg !== 'ES256' && k.alg !== 'RS256')) throw new AuthError('invalid_request', { message: 'jwks keys may only name alg ES256 or RS256' });
    return { jwks: { keys }, jwksUri: null };
  }
  if (jwksUri !== undefined) {
    let url: URL;
    try {
      url = new URL(jwksUri);
    } catch {
      throw new AuthError('invalid_request', { message: 'jwksUri must be an absolute URL' });
    }
    if (url.protocol !== 'https:' && (production || url.protocol !== 'http:')) throw new AuthError('invalid_request', { message: 'jwksUri must be https' });
    return { jwks: null, jwksUri };
  }
  return { jwks: null, jwksUri: null };
}

function strip(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
