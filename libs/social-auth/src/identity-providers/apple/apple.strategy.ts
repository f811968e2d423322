import { Strategy as OAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-oauth2';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import type { StrategyRequest, TransactionStateStore } from '../../transaction/passport-state.store';
import type { OidcIdTokenVerifier } from '../oidc/id-token.verifier';
import { nonceParam, verifyOidcCallback } from '../oidc/oidc-flow';
import { secureOAuth2Options, validateCallback } from '../passport-runner';
import type { AppleClientSecret } from './apple-client-secret';
import { appleIdentity, type AppleIdentity } from './apple-claims';
import type { ResolvedAppleOptions } from './apple.options';

/**
 * Sign in with Apple on passport-oauth2: Authorization Code with PKCE S256, `state` and `nonce`
 * kept in the transaction cookie, `response_mode=form_post` whenever a scope is asked.
 *
 * Invariants (threat model A5, A6, B1–B7, J1–J4):
 * - `skipUserProfile`, no userinfo (Apple has none): the identity comes from the ID token, after
 *   it passed every check, plus the display name from the posted `user` field.
 * - The client secret is the module's own ES256 JWT (`AppleClientSecret`), read afresh before
 *   every run so a renewed one is used; it is only ever sent to the token endpoint.
 * @internal
 */
export class AppleStrategy extends OAuth2Strategy {
  constructor(
    private readonly config: ResolvedAppleOptions,
    callbackURL: string,
    store: TransactionStateStore,
    http: ProviderHttpClient,
    private readonly secret: AppleClientSecret,
    private readonly idTokens: OidcIdTokenVerifier,
  ) {
    const options = { ...secureOAuth2Options({ ...config, clientSecret: secret.current(), callbackURL }, store), skipUserProfile: true };
    super(options as unknown as StrategyOptionsWithRequest, validateCallback as never);
    this.name = 'apple';
    useProviderHttp(this, http);
  }

  /** Renews the client secret when due, then runs passport-oauth2. */
  override authenticate(req: StrategyRequest, options?: object): void {
    (this as unknown as { _oauth2: { _clientSecret: string } })._oauth2._clientSecret = this.secret.current();
    super.authenticate(req as never, options);
  }

  /** Adds the transaction's `nonce`, and `response_mode=form_post` (Apple requires it with scopes). */
  override authorizationParams(options: { state?: unknown }): object {
    return { ...nonceParam(options.state), ...(this.config.scopes.length > 0 ? { response_mode: 'form_post' } : {}) };
  }

  /** passport verify callback (arity 6, with `req` and the token response `params`). */
  async validate(req: StrategyRequest, _accessToken: string, _refreshToken: unknown, params: Record<string, unknown>): Promise<AppleIdentity> {
    const { claims } = await verifyOidcCallback({ req, providerId: 'apple', params, verifyIdToken: (idToken, nonce) => this.idTokens.verify(idToken, nonce) });
    return appleIdentity(claims, this.config.issuer, req.body?.user);
  }
}
