import { Logger } from '@nestjs/common';
import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient, assertOk, parseJsonObject } from '../http/provider-http.client';
import type { Clock } from '../tokens/clock';

/** What the module takes from an OpenID provider's metadata. @internal */
export interface DiscoveredMetadata {
  /** RFC 9207 §3: the provider puts `iss` on every authorization response. */
  issParameterSupported: boolean;
}

const MAX_CACHE_MS = 86_400_000;

/**
 * An OpenID provider's discovery document (`/.well-known/openid-configuration`), used to check the
 * configuration, never to change it: endpoints always come from the module's options.
 *
 * Invariants (threat model B8, A8; OpenID Discovery §4.3):
 * - The document's `issuer` must equal the configured issuer exactly; otherwise the provider is
 *   refused (`provider_error`) and a warning names the mismatch, the module never "adopts" it.
 * - `authorization_response_iss_parameter_supported: true` makes `iss` mandatory on callbacks.
 * - Cached for the document's `Cache-Control: max-age` (at most a day), else fetched per use.
 * @internal
 */
export class OidcDiscovery {
  private readonly logger = new Logger('OidcDiscovery');
  private cached?: { metadata: DiscoveredMetadata; until: number };
  private pending?: Promise<DiscoveredMetadata>;

  constructor(
    private readonly url: string,
    private readonly expectedIssuer: string,
    private readonly http: ProviderHttpClient,
    private readonly clock: Clock,
  ) {}

  /** The provider's metadata, checked against the configuration. Throws `AuthError` when it cannot be trusted. */
  metadata(): Promise<DiscoveredMetadata> {
    const now = this.clock.now().getTime();
    if (this.cached && now < this.cached.until) return Promise.resolve(this.cached.metadata);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<DiscoveredMetadata> {
    let response: Awaited<ReturnType<ProviderHttpClient['request']>>;
    try {
      response = await this.http.request(this.url, { headers: { Accept: 'application/json' } });
      assertOk(response);
    } catch (error) {
      // Without this line a wrong discoveryURL (or an issuer that is not where the provider
      // listens) shows only as ?error=provider_unavailable. The URL is configuration, no secret.
      this.logger.warn(`discovery document ${this.url} could not be read (${reason(error)}); sign-in with this provider fails until it can`);
      throw error;
    }
    const document = parseJsonObject(response.text);
    if (!document) throw new AuthError('provider_error', { cause: new Error('discovery document is not a JSON object') });
    if (document.issuer !== this.expectedIssuer) {
      this.logger.warn('discovery document issuer differs from the configured issuer; sign-in with this provider is refused');
      throw new AuthError('provider_error', { cause: new Error('discovery issuer mismatch') });
    }
    const metadata: DiscoveredMetadata = { issParameterSupported: document.authorization_response_iss_parameter_supported === true };
    if (response.maxAge !== undefined && response.maxAge > 0) {
      this.cached = { metadata, until: this.clock.now().getTime() + Math.min(response.maxAge * 1000, MAX_CACHE_MS) };
    }
    return metadata;
  }
}

/** A short, secret-free reason: the error code or class of the failure and of its cause. */
function reason(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? code : e.name);
  }
  return parts.join(' <- ') || 'unknown error';
}
