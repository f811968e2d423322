/**
 * Testing kit of `@nest-social-auth/core`: in-process fake Google (OIDC), GitHub (OAuth 2.0),
 * Microsoft (multi-tenant OIDC) and Apple (form_post) identity providers with request logs,
 * scripted users and per-test scenario knobs, and machine clients' access tokens for `@Scopes()`
 * routes.
 * @packageDocumentation
 */
export { FAKE_GOOGLE_ISSUER, FakeGoogle, type FakeMintIdTokenOptions } from './fake-google.server';
export { FAKE_GITHUB_ISSUER, FakeGitHub } from './fake-github.server';
export { FakeIdpServer } from './fake-idp.server';
export {
  FAKE_APPLE_ISSUER,
  FakeApple,
  appleUsers,
  type FakeAppleProviderOptions,
  type FakeAppleScenario,
  type FakeAppleStartOptions,
  type FakeAppleUser,
} from './fake-apple.server';
export {
  FAKE_MICROSOFT_ISSUER_TEMPLATE,
  FAKE_MICROSOFT_TENANTS,
  FakeMicrosoft,
  microsoftUsers,
  type FakeMicrosoftProviderOptions,
  type FakeMicrosoftScenario,
  type FakeMicrosoftStartOptions,
  type FakeMicrosoftUser,
} from './fake-microsoft.server';
export { googleUsers, githubUsers, type FakeUserFactory } from './fake-idp.users';
export { mintMachineToken, type MachineClientsLike, type MintMachineTokenOptions } from './machine-token';
export { createPkcePair, isValidCodeVerifier, isValidS256Challenge, s256Challenge, verifyS256 } from './pkce';
export type {
  FakeAuthorizeError,
  FakeClaimsPatch,
  FakeEndpointBehavior,
  FakeGitHubEmail,
  FakeGitHubEndpoints,
  FakeGitHubProviderOptions,
  FakeGitHubScenario,
  FakeGitHubStartOptions,
  FakeGitHubUser,
  FakeGoogleEndpoints,
  FakeGoogleProviderOptions,
  FakeGoogleScenario,
  FakeGoogleStartOptions,
  FakeGoogleUser,
  FakeIdpAuthorization,
  FakeIdpBaseScenario,
  FakeIdpMode,
  FakeIdpParams,
  FakeIdpRequest,
  FakeIdpStartOptions,
  FakeIdTokenSigning,
} from './fake-idp.types';
