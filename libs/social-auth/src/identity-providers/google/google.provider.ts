import type { ResolvedGoogleOptions } from '../../auth.options';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import type { Clock } from '../../tokens/clock';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import type { AuthorizationFacts, OAuthIdentityProvider } from '../oauth-identity-provider';
import { OidcDiscovery } from '../oidc-discovery';
import { RemoteJwks } from '../remote-jwks';
import { GoogleIdTokenVerifier } from './google-id-token.verifier';
import { GoogleStrategy } from './google.strategy';
import { oidcAuthorizationFacts } from '../oidc/oidc-flow';

/** What the Google provider is built from. @internal */
export interface GoogleProviderDeps {
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
  clock: Clock;
}

/**
 * Google (OpenID Connect). Each authorization request gets a fresh 256-bit `nonce`; the
 * discovery document is checked before a flow starts (issuer must match; RFC 9207 support makes
 * `iss` mandatory on the callback, as does `requireIssParameter`).
 * @internal
 */
export class GoogleIdentityProvider implements OAuthIdentityProvider {
  readonly id = 'google' as const;
  readonly name = 'Google';
  readonly strategy: GoogleStrategy;
  private readonly discovery: OidcDiscovery;

  constructor(
    private readonly config: ResolvedGoogleOptions,
    deps: GoogleProviderDeps,
  ) {
    const jwks = new RemoteJwks(config.jwksURL, deps.http, deps.clock);
    const verifier = new GoogleIdTokenVerifier({ issuer: config.issuer, clientId: config.clientId, hostedDomain: config.hostedDomain }, jwks, deps.clock);
    this.strategy = new GoogleStrategy(config, deps.callbackURL, deps.store, deps.http, verifier);
    this.discovery = new OidcDiscovery(config.discoveryURL, config.issuer, deps.http, deps.clock);
  }

  async prepareAuthorization(): Promise<AuthorizationFacts> {
    return oidcAuthorizationFacts(this.config.issuer, this.config.requireIssParameter, await this.discovery.metadata());
  }
}
