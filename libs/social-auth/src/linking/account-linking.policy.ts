/**
 * The account-linking decisions, as pure functions of facts the service has read from the
 * database. No I/O here: every row of the decision tables is unit-tested
 * (`account-linking.policy.spec.ts`), and the service only gathers facts and carries out the
 * decision.
 *
 * Invariants (threat model group C):
 * - An identity is found by `(provider, subject)` only; once linked, the email it carries plays no
 *   part in sign-in, so a changed or recycled email never moves a sign-in to another account.
 * - An email takes part in a decision only when the provider verified it *and* it has a canonical
 *   form (`canonicalEmail`); an unverified email never links and never matches.
 * - Linking a new identity to an existing account by email needs all three: provider-verified
 *   email, a verified email on the local account, and the provider trusted for email by
 *   configuration (`providers.<id>.trustEmail`). Anything less is `account_exists`.
 * - Fail closed: every branch not listed ends in a refusal, never in a sign-in.
 * @internal
 */

/** A local account as the policy needs to see it. @internal */
export interface PolicyUser {
  id: string;
  /** The local account's email was verified (by a provider or by the host). */
  emailVerified: boolean;
  disabled: boolean;
}

/** The linking options the sign-in decision depends on. @internal */
export interface SignInPolicyConfig {
  /** `linking.allowSignUp` */
  allowSignUp: boolean;
  /** `linking.requireVerifiedEmail` */
  requireVerifiedEmail: boolean;
  /**
   * `providers.<identity.provider>.trustEmail`; false for a provider without configuration, and
   * for a private-relay email (Apple) unless `providers.apple.linkPrivateRelayEmail`.
   */
  trustEmail: boolean;
}

/** What the service knows when an identity signs in. @internal */
export interface SignInFacts {
  /**
   * The identity's `(provider, subject)` row: `null` when the identity is new; otherwise the user
   * it is linked to (`'missing'` when that user no longer exists in the user store) and whether
   * the row was asserted by the same issuer as this sign-in.
   */
  linked: null | { user: PolicyUser | 'missing'; sameIssuer: boolean };
  /**
   * Canonical form of the provider-verified email, or null when the provider did not verify it or
   * it has no canonical form.
   */
  verifiedEmail: string | null;
  /** The local account whose verified email equals `verifiedEmail` (looked up only when set). */
  emailMatch: PolicyUser | null;
  config: SignInPolicyConfig;
}

/** Why a sign-in is refused; each is an `AuthErrorCode`. @internal */
export type SignInRefusal = 'account_disabled' | 'account_exists' | 'email_not_verified' | 'identity_in_use' | 'sign_up_disabled';

/** The outcome of {@link decideSignIn}. @internal */
export type SignInDecision =
  /** Known identity: sign in to its user (refresh the identity's attributes, never re-key it). */
  | { action: 'sign-in'; userId: string }
  /** New identity, trusted verified email of an existing account: link it there, then sign in. */
  | { action: 'link'; userId: string }
  /** New identity, no account to link to: create user and identity in one transaction. */
  | { action: 'create' }
  | { action: 'refuse'; code: SignInRefusal };

/**
 * Decides what a sign-in with an external identity does.
 *
 * | identity | email | local account with that email | config | outcome |
 * |---|---|---|---|---|
 * | linked, other issuer | any | — | any | `identity_in_use` |
 * | linked | any | — | any | its user; `account_disabled` if disabled or gone |
 * | new | unverified / none | ignored | sign-up off | `sign_up_disabled` |
 * | new | unverified / none | ignored | verified email required | `email_not_verified` |
 * | new | unverified / none | ignored | otherwise | create |
 * | new | verified | none, or one whose email is unverified | sign-up off | `sign_up_disabled` |
 * | new | verified | none, or one whose email is unverified | otherwise | create |
 * | new | verified | verified, provider not trusted | any | `account_exists` |
 * | new | verified | verified, trusted, disabled | any | `account_disabled` |
 * | new | verified | verified, trusted, enabled | any | link to it |
 * @internal
 */
export function decideSignIn(facts: SignInFacts): SignInDecision {
  const { linked, verifiedEmail, config } = facts;
  if (linked) {
    // A subject is only unique within its issuer (C4): the same string from another issuer
    // configured under the same provider id (a sandbox, a tenant) is another person.
    if (!linked.sameIssuer) return refuse('identity_in_use');
    // The key decides; the email on the identity is an attribute and is not consulted.
    if (linked.user === 'missing' || linked.user.disabled) return refuse('account_disabled');
    return { action: 'sign-in', userId: linked.user.id };
  }

  // An unverified email is as good as none: it neither matches nor links (C1, C3, C5). A match the
  // user store returned for it is ignored rather than trusted.
  // A local account whose own email is unverified cannot claim the address either (C2,
  // pre-account-takeover): the newcomer gets a separate account instead of the squatter's.
  const match = verifiedEmail !== null && facts.emailMatch?.emailVerified === true ? facts.emailMatch : null;

  if (match) {
    if (!config.trustEmail) return refuse('account_exists');
    // Not "create a fresh account instead": that would let a disabled user back in under a new id.
    if (match.disabled) return refuse('account_disabled');
    return { action: 'link', userId: match.id };
  }

  if (!config.allowSignUp) return refuse('sign_up_disabled');
  if (config.requireVerifiedEmail && verifiedEmail === null) return refuse('email_not_verified');
  return { action: 'create' };
}

/** What the service knows when a signed-in user connects an identity. @internal */
export interface LinkFacts {
  /** The signed-in user, or `'missing'` when the user store no longer has it. */
  user: PolicyUser | 'missing';
  /** The user the identity's `(provider, subject)` is already linked to, or null when new. */
  ownerId: string | null;
  /** The existing row was asserted by the same issuer (irrelevant when `ownerId` is null). */
  sameIssuer: boolean;
}

/** The outcome of {@link decideLink}. @internal */
export type LinkDecision =
  | { action: 'link' }
  /** Already linked to this very user: succeed without writing. */
  | { action: 'noop' }
  | { action: 'refuse'; code: 'account_disabled' | 'identity_in_use' };

/**
 * Decides what connecting an identity to the signed-in user does.
 *
 * | signed-in user | identity | outcome |
 * |---|---|---|
 * | disabled or gone | any | `account_disabled` |
 * | enabled | linked to another user | `identity_in_use` (never moved) |
 * | enabled | linked to this user by another issuer | `identity_in_use` |
 * | enabled | linked to this user | no-op |
 * | enabled | new | link |
 *
 * A second identity of the same provider (another GitHub account) is a new identity and links:
 * identities are keyed by subject, not by provider.
 * @internal
 */
export function decideLink(facts: LinkFacts): LinkDecision {
  if (facts.user === 'missing' || facts.user.disabled) return { action: 'refuse', code: 'account_disabled' };
  if (facts.ownerId === null) return { action: 'link' };
  // Moving an identity would hand the other account's sign-in to this user (C6).
  if (facts.ownerId !== facts.user.id || !facts.sameIssuer) return { action: 'refuse', code: 'identity_in_use' };
  return { action: 'noop' };
}

/** What the service knows when a signed-in user disconnects a provider. @internal */
export interface UnlinkFacts {
  /** How many of the user's identities belong to the provider being disconnected. */
  identitiesOfProvider: number;
  /** How many of the user's identities belong to other providers. */
  otherIdentities: number;
  /** The user store says the user can sign in without any identity (password, passkey, …). */
  hasOtherSignInMethod: boolean;
}

/** The outcome of {@link decideUnlink}. @internal */
export type UnlinkDecision = { action: 'unlink' } | { action: 'refuse'; code: 'not_found' | 'last_login_method' };

/**
 * Decides what disconnecting a provider does. Every identity of that provider goes, so the
 * account must keep another way in.
 *
 * | identities of the provider | other identities | other sign-in method | outcome |
 * |---|---|---|---|
 * | 0 | any | any | `not_found` |
 * | ≥ 1 | ≥ 1 | any | unlink |
 * | ≥ 1 | 0 | yes | unlink |
 * | ≥ 1 | 0 | no | `last_login_method` |
 * @internal
 */
export function decideUnlink(facts: UnlinkFacts): UnlinkDecision {
  if (facts.identitiesOfProvider <= 0) return { action: 'refuse', code: 'not_found' };
  if (facts.otherIdentities > 0 || facts.hasOtherSignInMethod) return { action: 'unlink' };
  return { action: 'refuse', code: 'last_login_method' };
}

function refuse(code: SignInRefusal): SignInDecision {
  return { action: 'refuse', code };
}
