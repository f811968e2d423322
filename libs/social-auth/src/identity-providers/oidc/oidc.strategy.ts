import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as OAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-oauth2';
import { strategyName } from '../../auth.internal-constants';
import { AuthError } from '../../errors/auth.error';
import { ProviderHttpClient, parseJsonObject } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import type { TransactionSeed } from '../../transaction/oauth-transaction.service';
import { TransactionStateStore, verifiedTransaction } from '../../transaction/passport-state.store';
import { isolatedPassport, secureOAuth2Options, type RunnableStrategy } from '../passport-runner';
import type { VerifiedIdentity } from '../verified-identity';
import { oidcIdentity } from './id-token-claims';
import type { OidcIdTokenVerifier } from './id-token.verifier';
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
 * Invariants (SECURITY A5, A6, B1–B9): the same as Google's strategy:
 * - `skipUserProfile`: nothing is fetched until the ID token from the token response has passed
 *   every check (signature, issuer, audience, azp, nonce, times); only then is userinfo called
 *   (access token in the `Authorization` header), and its `sub` must equal the token's.
 * - A token response without `id_token` is refused (`openid` is always requested).
 * - The token exchange and userinfo go through the bounded, strict HTTP client.
 * @internal
 */
export function createOidcStrategy(deps: OidcStrategyDeps): RunnableStrategy {
  const { config, metadata, callbackURL, store, http, idTokens } = deps;

  class OidcStrategy extends PassportStrategy(OAuth2Strategy, strategyName(config.id), 6) {
    constructor() {
      const options = {
        ...secureOAuth2Options(
          { ...config, callbackURL, authorizationURL: metadata.authorizationEndpoint, tokenURL: metadata.tokenEndpoint },
          store,
        ),
        // The profile is read after the ID token is verified (validate), not before it.
        skipUserProfile: true,
      };
      super(options as unknown as StrategyOptionsWithRequest);
      useProviderHttp(this, http);
    }

    /** Strategies register on a passport instance of their own, never on the global singleton. */
    getPassportInstance() {
      return isolatedPassport();
    }

    /** Adds the transaction's `nonce` to the authorize URL. */
    override authorizationParams(options: { state?: unknown }): object {
      const seed = options.state as Partial<TransactionSeed> | undefined;
      return typeof seed?.nonce === 'string' ? { nonce: seed.nonce } : {};
    }

    /** passport verify callback (arity 6, with `req` and the token response `params`). */
    async validate(req: Request, accessToken: string, _refreshToken: unknown, params: Record<string, unknown>): Promise<VerifiedIdentity> {
      const transaction = verifiedTransaction(req);
      if (!transaction || transaction.provider !== config.id) throw new AuthError('invalid_state');
      if (typeof params?.id_token !== 'string') throw new AuthError('invalid_id_token', { cause: new Error('token response without id_token') });
      const claims = await idTokens.verify(params.id_token, transaction.nonce);
      let userinfo: Record<string, unknown> = {};
      if (config.useUserInfo && metadata.userinfoEndpoint) {
        userinfo = await fetchUserinfo(http, metadata.userinfoEndpoint, accessToken);
        // OIDC Core §5.3.2: userinfo for another subject must not be used at all.
        if (userinfo.sub !== claims.sub) throw new AuthError('invalid_id_token', { cause: new Error('userinfo sub differs from ID token sub') });
      }
      return oidcIdentity(config.id, config.issuer, claims, userinfo);
    }
  }

  return new OidcStrategy();
}

async function fetchUserinfo(http: ProviderHttpClient, url: string, accessToken: string): Promise<Record<string, unknown>> {
  const response = await http.requestOk(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } });
  const body = parseJsonObject(response.text);
  if (!body) throw new AuthError('provider_error', { cause: new Error('userinfo is not a JSON object') });
  return body;
}
