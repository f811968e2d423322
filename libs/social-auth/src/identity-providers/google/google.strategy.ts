import type { StrategyRequest } from '../../transaction/passport-state.store';
import { Strategy as GoogleOAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-google-oauth20';
import type { ResolvedGoogleOptions } from '../../auth.options';
import type { ProviderHttpClient } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import type { TransactionStateStore } from '../../transaction/passport-state.store';
import { fetchUserinfo, nonceParam, verifyOidcCallback } from '../oidc/oidc-flow';
import { secureOAuth2Options, validateCallback } from '../passport-runner';
import type { VerifiedIdentity } from '../verified-identity';
import { googleIdentity } from './google-claims';
import type { GoogleIdTokenVerifier } from './google-id-token.verifier';

/**
 * Google sign-in on passport-google-oauth20: Authorization Code with PKCE S256, `state` and
 * `nonce` kept in the transaction cookie.
 *
 * Invariants (threat model A5, A6, B1–B9):
 * - `skipUserProfile`: passport-oauth2 would fetch the profile *before* the verify callback; here
 *   nothing is fetched until the ID token from the token response has passed every check
 *   (signature, issuer, audience, nonce, times). Only then is userinfo called, with the access
 *   token in the `Authorization` header, and its `sub` must equal the token's.
 * - The callback URL is absolute, built from `appUrl`; the token exchange and userinfo go
 *   through the bounded HTTP client (`useProviderHttp`).
 * @internal
 */
export class GoogleStrategy extends GoogleOAuth2Strategy {
  constructor(
    private readonly config: ResolvedGoogleOptions,
    callbackURL: string,
    store: TransactionStateStore,
    private readonly http: ProviderHttpClient,
    private readonly idTokens: GoogleIdTokenVerifier,
  ) {
    const options = {
      ...secureOAuth2Options({ ...config, callbackURL }, store),
      userProfileURL: config.userInfoURL,
      // The profile is read after the ID token is verified (validate), not before it.
      skipUserProfile: true,
    };
    super(options as unknown as StrategyOptionsWithRequest, validateCallback as never);
    useProviderHttp(this, http);
  }


  /** Adds the transaction's `nonce` (and `hd` when a hosted domain is configured) to the authorize URL. */
  override authorizationParams(options: { state?: unknown }): object {
    return { ...nonceParam(options.state), ...(this.config.hostedDomain ? { hd: this.config.hostedDomain } : {}) };
  }

  /** passport verify callback (arity 6, with `req` and the token response `params`). */
  async validate(req: StrategyRequest, accessToken: string, _refreshToken: unknown, params: Record<string, unknown>): Promise<VerifiedIdentity> {
    const { claims, userinfo } = await verifyOidcCallback({
      req,
      providerId: 'google',
      params,
      verifyIdToken: (idToken, nonce) => this.idTokens.verify(idToken, nonce),
      userinfo: () => fetchUserinfo(this.http, this.config.userInfoURL, accessToken),
    });
    return googleIdentity(claims, userinfo, this.config.issuer);
  }
}
