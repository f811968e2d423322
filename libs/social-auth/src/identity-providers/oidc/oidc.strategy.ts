import type { StrategyRequest } from '../../transaction/passport-state.store';
import { Strategy as OAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-oauth2';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import { secureOAuth2Options, validateCallback, type RunnableStrategy } from '../passport-runner';
import type { VerifiedIdentity } from '../verified-identity';
import { oidcIdentity } from './id-token-claims';
import type { OidcIdTokenVerifier } from './id-token.verifier';
import { fetchUserinfo, nonceParam, verifyOidcCallback } from './oidc-flow';
import type { OidcProviderMetadata } from './oidc-metadata';
import type { ResolvedOidcProviderOptions } from './oidc.options';

/** What one generic OpenID strategy is built from. @internal */
export interface OidcStrategyDeps {
  config: ResolvedOidcProviderOptions;
  metadata: OidcProviderMetadata;
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
  idTokens: OidcIdTokenVerifier;
}

/**
 * A generic OpenID Connect sign-in on passport-oauth2: Authorization Code with PKCE S256,
 * `state` and `nonce` kept in the transaction cookie, endpoints from the checked discovery
 * document. The class is made per provider because its passport name is the provider's id.
 *
 * Invariants (threat model A5, A6, B1–B9): the same as Google's strategy:
 * - `skipUserProfile`: nothing is fetched until the ID token from the token response has passed
 *   every check (signature, issuer, audience, azp, nonce, times); only then is userinfo called
 *   (access token in the `Authorization` header), and its `sub` must equal the token's.
 * - A token response without `id_token` is refused (`openid` is always requested).
 * - The token exchange and userinfo go through the bounded, strict HTTP client.
 * @internal
 */
export function createOidcStrategy(deps: OidcStrategyDeps): RunnableStrategy {
  const { config, metadata, callbackURL, store, http, idTokens } = deps;

  class OidcStrategy extends OAuth2Strategy {
    constructor() {
      const options = {
        ...secureOAuth2Options(
          { ...config, callbackURL, authorizationURL: metadata.authorizationEndpoint, tokenURL: metadata.tokenEndpoint },
          store,
        ),
        // The profile is read after the ID token is verified (validate), not before it.
        skipUserProfile: true,
      };
      super(options as unknown as StrategyOptionsWithRequest, validateCallback as never);
      useProviderHttp(this, http);
    }


    /** Adds the transaction's `nonce` to the authorize URL. */
    override authorizationParams(options: { state?: unknown }): object {
      return nonceParam(options.state);
    }

    /** passport verify callback (arity 6, with `req` and the token response `params`). */
    async validate(req: StrategyRequest, accessToken: string, _refreshToken: unknown, params: Record<string, unknown>): Promise<VerifiedIdentity> {
      const userinfoEndpoint = config.useUserInfo ? metadata.userinfoEndpoint : undefined;
      const { claims, userinfo } = await verifyOidcCallback({
        req,
        providerId: config.id,
        params,
        verifyIdToken: (idToken, nonce) => idTokens.verify(idToken, nonce),
        userinfo: userinfoEndpoint ? () => fetchUserinfo(http, userinfoEndpoint, accessToken) : undefined,
      });
      return oidcIdentity(config.id, config.issuer, claims, userinfo);
    }
  }

  return new OidcStrategy();
}
