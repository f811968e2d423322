import type { RunnableStrategy } from './passport-runner';

/** Facts a provider binds into a new transaction. @internal */
export interface AuthorizationFacts {
  /** Issuer identifier of the authorization server (RFC 9207 `iss` must equal it when sent). */
  issuer?: string;
  /** The authorization server announced RFC 9207, so a callback without `iss` is refused. */
  requireIss: boolean;
  /** OIDC nonce for the authorization request (OpenID providers only). */
  nonce?: string;
}

/**
 * One enabled identity provider: its passport strategy and what the flow needs to know about it.
 * A new provider is one folder under `identity-providers/` implementing this, plus a registry entry.
 * @internal
 */
export interface OAuthIdentityProvider {
  /** `google`, `github`, or a generic OpenID provider's configured id. */
  readonly id: string;
  /** Human name for buttons: "Google", "GitHub". */
  readonly name: string;
  /** The passport-oauth2 strategy; its `validate` resolves to a `VerifiedIdentity`. */
  readonly strategy: RunnableStrategy;
  /**
   * `form_post`: the provider answers with a cross-site POST to the callback (Apple), which the
   * flow relays through a same-origin page; absent: a GET redirect, and a POST is refused.
   */
  readonly responseMode?: 'form_post';
  /** Decides the facts bound into a new transaction (may consult provider metadata). */
  prepareAuthorization(): Promise<AuthorizationFacts>;
}
