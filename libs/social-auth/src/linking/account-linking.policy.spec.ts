import {
  decideLink,
  decideSignIn,
  decideUnlink,
  LinkDecision,
  PolicyUser,
  SignInDecision,
  SignInFacts,
  SignInPolicyConfig,
  UnlinkDecision,
} from './account-linking.policy';

const user = (over: Partial<PolicyUser> = {}): PolicyUser => ({ id: 'u-linked', emailVerified: true, disabled: false, ...over });
const local = (over: Partial<PolicyUser> = {}): PolicyUser => ({ id: 'u-local', emailVerified: true, disabled: false, ...over });

const OPEN: SignInPolicyConfig = { allowSignUp: true, requireVerifiedEmail: false, trustEmail: false };
const TRUSTED: SignInPolicyConfig = { ...OPEN, trustEmail: true };
const CLOSED: SignInPolicyConfig = { ...OPEN, allowSignUp: false };
const STRICT: SignInPolicyConfig = { ...OPEN, requireVerifiedEmail: true };
const ALL_CONFIGS: Array<[string, SignInPolicyConfig]> = [
  ['open', OPEN],
  ['trusted', TRUSTED],
  ['sign-up off', CLOSED],
  ['verified email required', STRICT],
  ['everything strict and trusted', { allowSignUp: false, requireVerifiedEmail: true, trustEmail: true }],
];

const V = 'victim@example.com';

type Row = [string, Omit<SignInFacts, 'config'>, SignInPolicyConfig, SignInDecision];

describe('decideSignIn', () => {
  // Known identity: the (provider, subject) key decides, whatever the email or the configuration.
  describe.each(ALL_CONFIGS)('known identity, config %s', (_name, config) => {
    it.each<[string, Omit<SignInFacts, 'config'>, SignInDecision]>([
      ['enabled user → signs in', { linked: { user: user(), sameIssuer: true }, verifiedEmail: V, emailMatch: null }, { action: 'sign-in', userId: 'u-linked' }],
      ['email changed at the provider, now another account\'s → still its own user (C4b, C5)', { linked: { user: user(), sameIssuer: true }, verifiedEmail: V, emailMatch: local() }, { action: 'sign-in', userId: 'u-linked' }],
      ['email now unverified → still its own user', { linked: { user: user(), sameIssuer: true }, verifiedEmail: null, emailMatch: null }, { action: 'sign-in', userId: 'u-linked' }],
      ['local email unverified → still its own user', { linked: { user: user({ emailVerified: false }), sameIssuer: true }, verifiedEmail: null, emailMatch: null }, { action: 'sign-in', userId: 'u-linked' }],
      ['disabled user → account_disabled (C9)', { linked: { user: user({ disabled: true }), sameIssuer: true }, verifiedEmail: V, emailMatch: null }, { action: 'refuse', code: 'account_disabled' }],
      ['disabled user, another enabled account with the email → account_disabled, never the other', { linked: { user: user({ disabled: true }), sameIssuer: true }, verifiedEmail: V, emailMatch: local() }, { action: 'refuse', code: 'account_disabled' }],
      ['same subject asserted by another issuer → identity_in_use, not that user (C4)', { linked: { user: user(), sameIssuer: false }, verifiedEmail: V, emailMatch: null }, { action: 'refuse', code: 'identity_in_use' }],
      ['another issuer, user disabled → identity_in_use', { linked: { user: user({ disabled: true }), sameIssuer: false }, verifiedEmail: null, emailMatch: null }, { action: 'refuse', code: 'identity_in_use' }],
      ['user deleted from the store → account_disabled, no re-creation (C9)', { linked: { user: 'missing', sameIssuer: true }, verifiedEmail: V, emailMatch: null }, { action: 'refuse', code: 'account_disabled' }],
    ])('%s', (_row, facts, expected) => {
      expect(decideSignIn({ ...facts, config })).toEqual(expected);
    });
  });

  it.each<Row>([
    // New identity, email unverified or absent: it never matches, never links (C1, C3, C5).
    ['unverified, no account → create', { linked: null, verifiedEmail: null, emailMatch: null }, OPEN, { action: 'create' }],
    ['unverified, store (wrongly) returned a verified match, trusted → ignored, create (C1)', { linked: null, verifiedEmail: null, emailMatch: local() }, TRUSTED, { action: 'create' }],
    ['unverified, store (wrongly) returned a match, untrusted → ignored, create', { linked: null, verifiedEmail: null, emailMatch: local() }, OPEN, { action: 'create' }],
    ['unverified, sign-up off → sign_up_disabled', { linked: null, verifiedEmail: null, emailMatch: null }, CLOSED, { action: 'refuse', code: 'sign_up_disabled' }],
    ['unverified, match, sign-up off → sign_up_disabled (never links)', { linked: null, verifiedEmail: null, emailMatch: local() }, { ...CLOSED, trustEmail: true }, { action: 'refuse', code: 'sign_up_disabled' }],
    ['unverified, verified email required → email_not_verified', { linked: null, verifiedEmail: null, emailMatch: null }, STRICT, { action: 'refuse', code: 'email_not_verified' }],
    ['unverified, match, verified email required, trusted → email_not_verified', { linked: null, verifiedEmail: null, emailMatch: local() }, { ...STRICT, trustEmail: true }, { action: 'refuse', code: 'email_not_verified' }],
    ['unverified, sign-up off and verified email required → sign_up_disabled', { linked: null, verifiedEmail: null, emailMatch: null }, { ...STRICT, allowSignUp: false }, { action: 'refuse', code: 'sign_up_disabled' }],

    // New identity, verified email, no account holds it.
    ['verified, no account → create', { linked: null, verifiedEmail: V, emailMatch: null }, OPEN, { action: 'create' }],
    ['verified, no account, trusted → create', { linked: null, verifiedEmail: V, emailMatch: null }, TRUSTED, { action: 'create' }],
    ['verified, no account, verified email required → create', { linked: null, verifiedEmail: V, emailMatch: null }, STRICT, { action: 'create' }],
    ['verified, no account, sign-up off → sign_up_disabled', { linked: null, verifiedEmail: V, emailMatch: null }, CLOSED, { action: 'refuse', code: 'sign_up_disabled' }],

    // Pre-account-takeover (C2): the local row's email is unverified, so it cannot claim the address.
    ['verified, local account email unverified, trusted → create a separate account (C2)', { linked: null, verifiedEmail: V, emailMatch: local({ emailVerified: false }) }, TRUSTED, { action: 'create' }],
    ['verified, local account email unverified, untrusted → create a separate account (C2)', { linked: null, verifiedEmail: V, emailMatch: local({ emailVerified: false }) }, OPEN, { action: 'create' }],
    ['verified, local account email unverified, sign-up off → sign_up_disabled', { linked: null, verifiedEmail: V, emailMatch: local({ emailVerified: false }) }, { ...CLOSED, trustEmail: true }, { action: 'refuse', code: 'sign_up_disabled' }],

    // Verified on both sides: auto-link only when the provider is trusted for email.
    ['verified, verified account, provider not trusted → account_exists', { linked: null, verifiedEmail: V, emailMatch: local() }, OPEN, { action: 'refuse', code: 'account_exists' }],
    ['verified, verified account, not trusted, sign-up off → account_exists', { linked: null, verifiedEmail: V, emailMatch: local() }, CLOSED, { action: 'refuse', code: 'account_exists' }],
    ['verified, verified account, not trusted, verified email required → account_exists', { linked: null, verifiedEmail: V, emailMatch: local() }, STRICT, { action: 'refuse', code: 'account_exists' }],
    ['verified, disabled verified account, not trusted → account_exists (disabled state not revealed)', { linked: null, verifiedEmail: V, emailMatch: local({ disabled: true }) }, OPEN, { action: 'refuse', code: 'account_exists' }],
    ['verified, verified account, trusted → link to it', { linked: null, verifiedEmail: V, emailMatch: local() }, TRUSTED, { action: 'link', userId: 'u-local' }],
    ['verified, verified account, trusted, sign-up off → link to it (no account is created)', { linked: null, verifiedEmail: V, emailMatch: local() }, { ...CLOSED, trustEmail: true }, { action: 'link', userId: 'u-local' }],
    ['verified, verified account, trusted, verified email required → link to it', { linked: null, verifiedEmail: V, emailMatch: local() }, { ...STRICT, trustEmail: true }, { action: 'link', userId: 'u-local' }],
    ['verified, disabled verified account, trusted → account_disabled (no fresh account either)', { linked: null, verifiedEmail: V, emailMatch: local({ disabled: true }) }, TRUSTED, { action: 'refuse', code: 'account_disabled' }],
  ])('new identity: %s', (_row, facts, config, expected) => {
    expect(decideSignIn({ ...facts, config })).toEqual(expected);
  });
});

describe('decideLink', () => {
  it.each<[string, Parameters<typeof decideLink>[0], LinkDecision]>([
    ['new identity → link', { user: user(), ownerId: null, sameIssuer: true }, { action: 'link' }],
    ['new identity, signed-in user\'s email unverified → link (linking is explicit, not by email)', { user: user({ emailVerified: false }), ownerId: null, sameIssuer: true }, { action: 'link' }],
    ['already linked to this user → no-op', { user: user(), ownerId: 'u-linked', sameIssuer: true }, { action: 'noop' }],
    ['linked to another user → identity_in_use, never moved (C6)', { user: user(), ownerId: 'u-other', sameIssuer: true }, { action: 'refuse', code: 'identity_in_use' }],
    ['already linked to this user but asserted by another issuer → identity_in_use', { user: user(), ownerId: 'u-linked', sameIssuer: false }, { action: 'refuse', code: 'identity_in_use' }],
    ['linked to another user by another issuer → identity_in_use', { user: user(), ownerId: 'u-other', sameIssuer: false }, { action: 'refuse', code: 'identity_in_use' }],
    ['signed-in user disabled → account_disabled', { user: user({ disabled: true }), ownerId: null, sameIssuer: true }, { action: 'refuse', code: 'account_disabled' }],
    ['signed-in user disabled, identity already theirs → account_disabled', { user: user({ disabled: true }), ownerId: 'u-linked', sameIssuer: true }, { action: 'refuse', code: 'account_disabled' }],
    ['signed-in user disabled, identity another\'s → account_disabled', { user: user({ disabled: true }), ownerId: 'u-other', sameIssuer: true }, { action: 'refuse', code: 'account_disabled' }],
    ['signed-in user gone → account_disabled', { user: 'missing', ownerId: null, sameIssuer: true }, { action: 'refuse', code: 'account_disabled' }],
    ['signed-in user gone, identity another\'s → account_disabled', { user: 'missing', ownerId: 'u-other', sameIssuer: true }, { action: 'refuse', code: 'account_disabled' }],
  ])('%s', (_row, facts, expected) => {
    expect(decideLink(facts)).toEqual(expected);
  });
});

describe('decideUnlink', () => {
  it.each<[string, Parameters<typeof decideUnlink>[0], UnlinkDecision]>([
    ['provider not linked → not_found', { identitiesOfProvider: 0, otherIdentities: 2, hasOtherSignInMethod: true }, { action: 'refuse', code: 'not_found' }],
    ['nothing linked at all → not_found', { identitiesOfProvider: 0, otherIdentities: 0, hasOtherSignInMethod: false }, { action: 'refuse', code: 'not_found' }],
    ['another provider remains → unlink', { identitiesOfProvider: 1, otherIdentities: 1, hasOtherSignInMethod: false }, { action: 'unlink' }],
    ['two identities of the provider, another provider remains → unlink', { identitiesOfProvider: 2, otherIdentities: 1, hasOtherSignInMethod: false }, { action: 'unlink' }],
    ['only identity, host says there is a password → unlink', { identitiesOfProvider: 1, otherIdentities: 0, hasOtherSignInMethod: true }, { action: 'unlink' }],
    ['only identity, no other way in → last_login_method', { identitiesOfProvider: 1, otherIdentities: 0, hasOtherSignInMethod: false }, { action: 'refuse', code: 'last_login_method' }],
    ['two identities of the same provider and nothing else → last_login_method (both would go)', { identitiesOfProvider: 2, otherIdentities: 0, hasOtherSignInMethod: false }, { action: 'refuse', code: 'last_login_method' }],
  ])('%s', (_row, facts, expected) => {
    expect(decideUnlink(facts)).toEqual(expected);
  });
});
