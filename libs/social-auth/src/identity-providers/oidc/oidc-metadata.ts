import { Logger } from '@nestjs/common';
import { AuthError } from '../../errors/auth.error';
import { ProviderHttpClient, assertOk, parseJsonObject } from '../../http/provider-http.client';
import type { Clock } from '../../tokens/clock';

/** What the module uses of a generic OpenID provider's discovery document. @internal */
export interface OidcProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** Absent when the provider has no userinfo endpoint. */
  userinfoEndpoint?: string;
  /** RFC 9207 §3: the provider puts `iss` on every authorization response. */
  issParameterSupported: boolean;
}

/** What the document is checked against. @internal */
export interface OidcMetadataExpectations {
  /** The configured issuer; the document's `issuer` must equal it exactly. */
  issuer: string;
  /** Signature algorithms the configuration accepts; the provider must support one of them. */
  algorithms: readonly string[];
  /** Production: every endpoint must be https. */
  production: boolean;
}

/** Without `Cache-Control: max-age`, a document is used for an hour. */
const DEFAULT_CACHE_MS = 3_600_000;
const MAX_CACHE_MS = 86_400_000;

/**
 * A generic OpenID provider's discovery document (`/.well-known/openid-configuration`), fetched
 * lazily through the bounded HTTP client and cached, from which its endpoints are taken.
 *
 * Invariants (threat model B8, A5, A8; OpenID Discovery §4.3):
 * - The document's `issuer` must equal the configured issuer exactly; otherwise the provider is
 *   refused (`provider_error`) and a warning says so: the module never adopts another issuer.
 * - `authorization_endpoint`, `token_endpoint` and `jwks_uri` are required absolute URLs
 *   (https in production); a document that advertises `code_challenge_methods_supported`
 *   without `S256`, `response_types_supported` without `code`, token-endpoint auth methods
 *   without `client_secret_post`, or no signing algorithm we accept is refused.
 * - `authorization_response_iss_parameter_supported: true` makes `iss` mandatory on callbacks.
 * - Cached for `Cache-Control: max-age` (at most a day), else an hour; concurrent fetches are
 *   coalesced; a failed fetch is not cached, so the next sign-in tries again.
 * @internal
 */
export class OidcMetadataSource {
  private readonly logger = new Logger('OidcDiscovery');
  private cached?: { metadata: OidcProviderMetadata; until: number };
  private pending?: Promise<OidcProviderMetadata>;

  constructor(
    private readonly providerId: string,
    private readonly url: string,
    private readonly expected: OidcMetadataExpectations,
    private readonly http: ProviderHttpClient,
    private readonly clock: Clock,
  ) {}

  /** The checked metadata; throws `AuthError` when the provider cannot be used. */
  metadata(): Promise<OidcProviderMetadata> {
    if (this.cached && this.clock.now().getTime() < this.cached.until) return Promise.resolve(this.cached.metadata);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<OidcProviderMetadata> {
    const response = await this.http.request(this.url, { headers: { Accept: 'application/json' } });
    assertOk(response);
    const document = parseJsonObject(response.text);
    if (!document) throw this.refuse('discovery document is not a JSON object');
    if (document.issuer !== this.expected.issuer) throw this.refuse('discovery issuer mismatch');
    const metadata: OidcProviderMetadata = {
      issuer: this.expected.issuer,
      authorizationEndpoint: this.endpoint(document, 'authorization_endpoint', true)!,
      tokenEndpoint: this.endpoint(document, 'token_endpoint', true)!,
      jwksUri: this.endpoint(document, 'jwks_uri', true)!,
      userinfoEndpoint: this.endpoint(document, 'userinfo_endpoint', false),
      issParameterSupported: document.authorization_response_iss_parameter_supported === true,
    };
    if (!advertises(document.code_challenge_methods_supported, 'S256')) throw this.refuse('provider does not support PKCE S256');
    if (!advertises(document.response_types_supported, 'code')) throw this.refuse('provider does not support the code flow');
    if (!advertises(document.token_endpoint_auth_methods_supported, 'client_secret_post')) throw this.refuse('provider does not accept client_secret_post');
    const algs = document.id_token_signing_alg_values_supported;
    if (Array.isArray(algs) && !this.expected.algorithms.some((a) => algs.includes(a))) throw this.refuse('no accepted ID token signing algorithm');
    const maxAge = response.maxAge !== undefined && response.maxAge > 0 ? response.maxAge * 1000 : DEFAULT_CACHE_MS;
    this.cached = { metadata, until: this.clock.now().getTime() + Math.min(maxAge, MAX_CACHE_MS) };
    return metadata;
  }

  private endpoint(document: Record<string, unknown>, name: string, required: boolean): string | undefined {
    const value = document[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.length > 2048) throw this.refuse(`discovery ${name} missing`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw this.refuse(`discovery ${name} is not a URL`);
    }
    if (url.protocol !== 'https:' && (this.expected.production || url.protocol !== 'http:')) throw this.refuse(`discovery ${name} is not https`);
    return value;
  }

  private refuse(reason: string): AuthError {
    this.logger.warn(`OpenID provider ${this.providerId} refused: ${reason}`);
    return new AuthError('provider_error', { cause: new Error(reason) });
  }
}

/** Absent lists mean "not announced" (spec defaults apply); a present list must hold `value`. */
function advertises(list: unknown, value: string): boolean {
  return list === undefined || (Array.isArray(list) && list.includes(value));
}
