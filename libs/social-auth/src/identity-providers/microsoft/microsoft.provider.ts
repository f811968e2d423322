import { randomBytes } from 'node:crypto';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import type { Clock } from '../../tokens/clock';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import type { AuthorizationFacts, OAuthIdentityProvider } from '../oauth-identity-provider';
import { OidcDiscovery } from '../oidc-discovery';
import { OidcIdTokenVerifier } from '../oidc/id-token.verifier';
import { oidcAuthorizationFacts } from '../oidc/oidc-flow';
import { RemoteJwks } from '../remote-jwks';
import { checkMicrosoftClaims, discoveryIssuer, issuerForTenant } from './microsoft-claims';
import { MICROSOFT_TENANT_PLACEHOLDER, TENANT_ID, type ResolvedMicrosoftOptions } from './microsoft.options';
import { MicrosoftStrategy } from './microsoft.strategy';

/** What the Microsoft provider is built from. @internal */
export interface MicrosoftProviderDeps {
  callbackURL: string;
  store: TransactionStateStore;
  http: ProviderHttpClient;
  clock: Clock;
}

/**
 * Microsoft identity platform v2.0 (`providers.microsoft`), single- or multi-tenant.
 *
 * One authorization server serves every tenant, so the issuer is not known when the flow starts:
 * the discovery document's `issuer` must be the configured template (or its filling for one
 * tenant), and each ID token's `iss` must be the template filled with the token's own `tid`
 * (RS256 only, keys from the configured JWKS). For a single tenant the transaction binds that
 * tenant's issuer, so an RFC 9207 `iss` on the callback must equal it; a multi-tenant flow binds
 * none, so any `iss` on its callback is refused (Microsoft sends none).
 * @internal
 */
export class MicrosoftIdentityProvider implements OAuthIdentityProvider {
  readonly id = 'microsoft' as const;
  readonly name = 'Microsoft';
  readonly strategy: MicrosoftStrategy;
  private readonly discovery: OidcDiscovery;
  private readonly fixedIssuer?: string;

  constructor(
    config: ResolvedMicrosoftOptions,
    deps: MicrosoftProviderDeps,
  ) {
    const jwks = new RemoteJwks(config.jwksURL, deps.http, deps.clock);
    const tenantRules = { tenant: config.tenant, allowedTenants: config.allowedTenants, issuerTemplate: config.issuerTemplate };
    const verifier = new OidcIdTokenVerifier(
      {
        issuer: (claims) => typeof claims.tid === 'string' && TENANT_ID.test(claims.tid) && claims.iss === issuerForTenant(config.issuerTemplate, claims.tid),
        clientId: config.clientId,
        algorithms: ['RS256'],
        extraCheck: (claims) => checkMicrosoftClaims(claims, tenantRules),
      },
      jwks.getKey,
      deps.clock,
    );
    this.strategy = new MicrosoftStrategy(config, deps.callbackURL, deps.store, deps.http, verifier);
    const announced = discoveryIssuer(tenantRules);
    this.discovery = new OidcDiscovery(config.discoveryURL, announced, deps.http, deps.clock);
    this.fixedIssuer = announced.includes(MICROSOFT_TENANT_PLACEHOLDER) ? undefined : announced;
  }

  async prepareAuthorization(): Promise<AuthorizationFacts> {
    const metadata = await this.discovery.metadata();
    if (this.fixedIssuer) return oidcAuthorizationFacts(this.fixedIssuer, false, metadata);
    // Multi-tenant: no single issuer to bind, and none to demand on the callback.
    return { requireIss: false, nonce: randomBytes(32).toString('base64url') };
  }
}
