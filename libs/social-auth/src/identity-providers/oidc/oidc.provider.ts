import type { StrategyRequest } from '../../transaction/passport-state.store';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import type { Clock } from '../../tokens/clock';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import type { AuthorizationFacts, OAuthIdentityProvider } from '../oauth-identity-provider';
import { RunnableStrategy, runStrategy } from '../passport-runner';
import { RemoteJwks } from '../remote-jwks';
import { OidcIdTokenVerifier } from './id-token.verifier';
import { OidcMetadataSource, type OidcProviderMetadata } from './oidc-metadata';
import type { ResolvedOidcProviderOptions } from './oidc.options';
import { createOidcStrategy } from './oidc.strategy';
import { oidcAuthorizationFacts } from './oidc-flow';

/** What a generic OpenID provider is built from. @internal */
export interface OidcProviderDeps {
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
  clock: Clock;
  production: boolean;
}

/** The passport actions `runStrategy` puts on a strategy run. */
interface StrategyActions {
  redirect(url: string): void;
  success(user: unknown): void;
  fail(challenge: unknown): void;
  error(error: unknown): void;
  pass(): void;
}

/**
 * A generic OpenID Connect provider, configured by issuer (`providers.oidc[]`).
 *
 * Discovery is lazy: the first sign-in (start or callback) fetches and checks the discovery
 * document, then builds the passport strategy and the JWKS from its endpoints; both are rebuilt
 * when a refreshed document names other endpoints. Until the provider answers, sign-ins with it
 * fail with `provider_unavailable`/`provider_error`, while the app and the other providers run.
 *
 * Each authorization request gets a fresh 256-bit `nonce`; RFC 9207 `iss` is mandatory on the
 * callback when discovery announces it (or `requireIssParameter`), and must equal the issuer
 * whenever present.
 * @internal
 */
export class OidcIdentityProvider implements OAuthIdentityProvider {
  readonly id: string;
  readonly name: string;
  readonly strategy: RunnableStrategy;
  private readonly discovery: OidcMetadataSource;
  private built?: { metadata: OidcProviderMetadata; strategy: RunnableStrategy; jwks: RemoteJwks };

  constructor(
    private readonly config: ResolvedOidcProviderOptions,
    private readonly deps: OidcProviderDeps,
  ) {
    this.id = config.id;
    this.name = config.name;
    this.discovery = new OidcMetadataSource(config.id, config.discoveryURL, { issuer: config.issuer, algorithms: config.idTokenAlgorithms, production: deps.production }, deps.http, deps.clock);
    const current = () => this.current();
    // Delegates each run to the strategy built from the current metadata, forwarding its outcome
    // to the actions `runStrategy` attached to this run.
    this.strategy = {
      authenticate(this: StrategyActions, req: StrategyRequest, options?: object): void {
        current()
          .then((strategy) => runStrategy(strategy, req, options ?? {}))
          .then(
            (outcome) => {
              if (outcome.kind === 'redirect') this.redirect(outcome.url);
              else if (outcome.kind === 'success') this.success(outcome.user);
              else if (outcome.kind === 'fail') this.fail(outcome.challenge);
              else if (outcome.kind === 'error') this.error(outcome.error);
              else this.pass();
            },
            (error: unknown) => this.error(error),
          );
      },
    };
  }

  async prepareAuthorization(): Promise<AuthorizationFacts> {
    return oidcAuthorizationFacts(this.config.issuer, this.config.requireIssParameter, await this.discovery.metadata());
  }

  private async current(): Promise<RunnableStrategy> {
    const metadata = await this.discovery.metadata();
    if (this.built && sameEndpoints(this.built.metadata, metadata)) return this.built.strategy;
    const jwks = this.built?.metadata.jwksUri === metadata.jwksUri ? this.built.jwks : new RemoteJwks(metadata.jwksUri, this.deps.http, this.deps.clock);
    const idTokens = new OidcIdTokenVerifier({ issuer: this.config.issuer, clientId: this.config.clientId, algorithms: this.config.idTokenAlgorithms }, jwks.getKey, this.deps.clock);
    const strategy = createOidcStrategy({ config: this.config, metadata, callbackURL: this.deps.callbackURL, store: this.deps.store, http: this.deps.http, idTokens });
    this.built = { metadata, strategy, jwks };
    return strategy;
  }
}

function sameEndpoints(a: OidcProviderMetadata, b: OidcProviderMetadata): boolean {
  return a.authorizationEndpoint === b.authorizationEndpoint && a.tokenEndpoint === b.tokenEndpoint && a.jwksUri === b.jwksUri && a.userinfoEndpoint === b.userinfoEndpoint;
}
