import { Strategy as OAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-oauth2';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import type { StrategyRequest, TransactionStateStore } from '../../transaction/passport-state.store';
import type { OidcIdTokenVerifier } from '../oidc/id-token.verifier';
import { nonceParam, verifyOidcCallback } from '../oidc/oidc-flow';
import { secureOAuth2Options, validateCallback } from '../passport-runner';
import type { VerifiedIdentity } from '../verified-identity';
import { microsoftIdentity } from './microsoft-claims';
import type { ResolvedMicrosoftOptions } from './microsoft.options';

/**
 * Sign in with Microsoft on passport-oauth2: Authorization Code with PKCE S256, `state` and
 * `nonce` kept in the transaction cookie, endpoints from the options.
 *
 * Invariants (threat model A5, A6, B1–B11):
 * - `skipUserProfile`, no userinfo: the identity comes from the ID token alone, after it passed
 *   every check (signature against the tenant-independent JWKS, the issuer template filled with
 *   the token's own `tid`, tenant rules, audience, azp, nonce, times). Microsoft's userinfo
 *   (Graph) adds nothing the module uses.
 * - A token response without `id_token` is refused.
 * @internal
 */
export class MicrosoftStrategy extends OAuth2Strategy {
  constructor(
    config: ResolvedMicrosoftOptions,
    callbackURL: string,
    store: TransactionStateStore,
    http: ProviderHttpClient,
    private readonly idTokens: OidcIdTokenVerifier,
  ) {
    const options = { ...secureOAuth2Options({ ...config, callbackURL }, store), skipUserProfile: true };
    super(options as unknown as StrategyOptionsWithRequest, validateCallback as never);
    this.name = 'microsoft';
    useProviderHttp(this, http);
  }

  /** Adds the transaction's `nonce` to the authorize URL. */
  override authorizationParams(options: { state?: unknown }): object {
    return nonceParam(options.state);
  }

  /** passport verify callback (arity 6, with `req` and the token response `params`). */
  async validate(req: StrategyRequest, _accessToken: string, _refreshToken: unknown, params: Record<string, unknown>): Promise<VerifiedIdentity> {
    const { claims } = await verifyOidcCallback({ req, providerId: 'microsoft', params, verifyIdToken: (idToken, nonce) => this.idTokens.verify(idToken, nonce) });
    return microsoftIdentity(claims);
  }
}
