import type { ResolvedGithubOptions } from '../../auth.options';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import type { AuthorizationFacts, OAuthIdentityProvider } from '../oauth-identity-provider';
import { GithubStrategy } from './github.strategy';

/** What the GitHub provider is built from. @internal */
export interface GithubProviderDeps {
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
}

/**
 * GitHub (OAuth 2.0, not OpenID Connect: no nonce, no ID token).
 *
 * GitHub does not implement RFC 9207, so `iss` is not required on its callback; one that is
 * present must equal the authorization server's origin (e.g. `https://github.com`), so a
 * response carrying another provider's issuer (mix-up) is refused.
 * @internal
 */
export class GithubIdentityProvider implements OAuthIdentityProvider {
  readonly id = 'github' as const;
  readonly name = 'GitHub';
  readonly strategy: GithubStrategy;
  private readonly issuer: string;

  constructor(config: ResolvedGithubOptions, deps: GithubProviderDeps) {
    this.strategy = new GithubStrategy(config, deps.callbackURL, deps.store, deps.http);
    this.issuer = new URL(config.authorizationURL).origin;
  }

  prepareAuthorization(): Promise<AuthorizationFacts> {
    return Promise.resolve({ issuer: this.issuer, requireIss: false });
  }
}
