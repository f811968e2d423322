/**
 * Testing kit of `@nest-social-auth/core`: in-process fake Google (OIDC) and GitHub (OAuth 2.0)
 * identity providers with request logs, scripted users and per-test scenario knobs, and machine
 * clients' access tokens for `@Scopes()` routes.
 * @packageDocumentation
 */
export { FAKE_GOOGLE_ISSUER, FakeGoogle, type FakeMintIdTokenOptions } from './fake-google.server';
export { FAKE_GITHUB_ISSUER, FakeGitHub } from './fake-github.server';
export { FakeIdpServer } from './fake-idp.server';
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
