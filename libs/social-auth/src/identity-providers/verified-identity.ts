/**
 * An identity asserted by a provider after every protocol check passed (state, PKCE, ID-token
 * signature and claims, or GitHub's API), normalised for the account-linking service.
 *
 * Invariant: `(provider, subject)` is the key; `subject` is the provider's immutable id (OIDC
 * `sub`, GitHub numeric id as a string), never an email or a login. `emailVerified` is true only
 * when the provider asserted it strictly (boolean `true`, or GitHub's primary+verified entry).
 * @publicApi
 */
export interface VerifiedIdentity {
  /** Provider id as configured: `google`, `github`. */
  provider: string;
  /** Issuer that asserted the identity (OIDC `iss`; GitHub's API base). */
  issuer: string;
  /** Immutable provider user id, ≤ 255 characters. */
  subject: string;
  /** Email as the provider gave it, or null. */
  email: string | null;
  /** True only when the provider verified `email`. */
  emailVerified: boolean;
  /** Display name, or null. */
  displayName: string | null;
  /** Avatar URL, or null. */
  avatarUrl: string | null;
  /**
   * The email is a provider relay unique to this app (Apple's "Hide My Email"): verified, but it
   * links to an existing account only when the provider's options allow relay linking.
   */
  privateRelayEmail?: boolean;
}

/**
 * What a finished OAuth flow asks for: sign in (creating an account if policy allows), or
 * connect the identity to the already signed-in user that started the flow.
 * @publicApi
 */
export type SignInIntent = { kind: 'login' } | { kind: 'link'; userId: string };
