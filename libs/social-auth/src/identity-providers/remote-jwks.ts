import { createLocalJWKSet, errors as joseErrors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient, assertOk, parseJsonObject } from '../http/provider-http.client';
import type { Clock } from '../tokens/clock';

/** Options of {@link RemoteJwks}. @internal */
export interface RemoteJwksOptions {
  /**
   * Least time between two fetches triggered by an unknown `kid`.
   * @default 30000
   */
  cooldownMs?: number;
  /**
   * How long a fetched key set is used when the provider sends no `Cache-Control: max-age`.
   * @default 600000
   */
  defaultMaxAgeMs?: number;
  /**
   * Upper bound on the cache lifetime whatever `max-age` says.
   * @default 86400000
   */
  maxMaxAgeMs?: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * A provider's signing keys (JWKS), fetched through {@link ProviderHttpClient} and cached.
 *
 * Invariants (threat model B7, I1):
 * - Keys come only from the configured `jwks_uri`; token headers (`jku`, `x5u`, `jwk`, `x5c`) are
 *   never consulted, so a token cannot bring its own key.
 * - An unknown `kid` triggers at most one refetch per `cooldownMs` (provider key rotation works;
 *   a flood of random `kid`s costs at most one fetch per cooldown, not one per token).
 * - Concurrent fetches are coalesced into one request.
 * - Within its lifetime (`Cache-Control: max-age`, else 10 minutes, at most a day) the cached set
 *   is served even while the provider's JWKS endpoint is down.
 * - Time comes from the module's `Clock`, so tests can move it.
 * @internal
 */
export class RemoteJwks {
  private resolver?: KeyResolver;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private maxAgeMs: number;
  private pending?: Promise<void>;
  private readonly cooldownMs: number;
  private readonly defaultMaxAgeMs: number;
  private readonly maxMaxAgeMs: number;

  constructor(
    private readonly url: string,
    private readonly http: ProviderHttpClient,
    private readonly clock: Clock,
    options: RemoteJwksOptions = {},
  ) {
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.defaultMaxAgeMs = options.defaultMaxAgeMs ?? 600_000;
    this.maxMaxAgeMs = options.maxMaxAgeMs ?? 86_400_000;
    this.maxAgeMs = this.defaultMaxAgeMs;
  }

  /** jose key resolver: `jwtVerify(token, jwks.getKey, …)`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<Awaited<ReturnType<KeyResolver>>> => {
    if (!this.resolver || this.age() >= this.maxAgeMs) await this.reload();
    try {
      return await this.resolver!(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || this.age() < this.cooldownMs) throw error;
      // A key we have not seen: the provider may have rotated. One refetch, then decide.
      await this.reload();
      return this.resolver!(header, token);
    }
  };

  /** Milliseconds since the last successful fetch (a clock moved backwards counts as fresh). */
  private age(): number {
    const age = this.clock.now().getTime() - this.fetchedAt;
    return age < 0 ? 0 : age;
  }

  private reload(): Promise<void> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<void> {
    const response = await this.http.request(this.url, { headers: { Accept: 'application/json, application/jwk-set+json' } });
    assertOk(response);
    const body = parseJsonObject(response.text);
    if (!body || !Array.isArray(body.keys)) throw new AuthError('provider_error', { cause: new Error('JWKS is not a key set') });
    let resolver: KeyResolver;
    try {
      resolver = createLocalJWKSet(body as unknown as JSONWebKeySet);
    } catch {
      throw new AuthError('provider_error', { cause: new Error('JWKS is not a key set') });
    }
    this.resolver = resolver;
    this.fetchedAt = this.clock.now().getTime();
    this.maxAgeMs = response.maxAge !== undefined ? Math.min(response.maxAge * 1000, this.maxMaxAgeMs) : this.defaultMaxAgeMs;
  }
}
