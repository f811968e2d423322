import { randomBytes } from 'node:crypto';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import type { Clock } from '../../tokens/clock';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import type { AuthorizationFacts, OAuthIdentityProvider } from '../oauth-identity-provider';
import { OidcIdTokenVerifier } from '../oidc/id-token.verifier';
import { RemoteJwks } from '../remote-jwks';
import { AppleClientSecret } from './apple-client-secret';
import type { ResolvedAppleOptions } from './apple.options';
import { AppleStrategy } from './apple.strategy';

/** What the Apple provider is built from. @internal */
export interface AppleProviderDeps {
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
  clock: Clock;
}

/**
 * Sign in with Apple (`providers.apple`). Apple answers with `response_mode=form_post`, so its
 * callback is the one that accepts POST (see the flow's form-post relay and docs/apple.md).
 * Apple publishes no RFC 9207 support: the transaction binds Apple's issuer, so an `iss` that is
 * present must equal it. ID tokens: RS256, keys from Apple's JWKS.
 * @internal
 */
export class AppleIdentityProvider implements OAuthIdentityProvider {
  readonly id = 'apple' as const;
  readonly name = 'Apple';
  readonly responseMode = 'form_post' as const;
  readonly strategy: AppleStrategy;

  constructor(
    private readonly config: ResolvedAppleOptions,
    deps: AppleProviderDeps,
  ) {
    const jwks = new RemoteJwks(config.jwksURL, deps.http, deps.clock);
    const verifier = new OidcIdTokenVerifier({ issuer: config.issuer, clientId: config.clientId, algorithms: ['RS256'] }, jwks.getKey, deps.clock);
    const secret = new AppleClientSecret(config, deps.clock);
    this.strategy = new AppleStrategy(config, deps.callbackURL, deps.store, deps.http, secret, verifier);
  }

  prepareAuthorization(): Promise<AuthorizationFacts> {
    return Promise.resolve({ issuer: this.config.issuer, requireIss: false, nonce: randomBytes(32).toString('base64url') });
  }
}
