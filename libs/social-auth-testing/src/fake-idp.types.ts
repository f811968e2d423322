import type { IncomingHttpHeaders } from 'node:http';

/**
 * How a fake identity provider answers an acceptable authorization request.
 *
 * - `'auto-approve'`: redirects straight back to the client with a code (no page), like a
 *   provider where the user is signed in and has already granted the app.
 * - `'consent'`: shows a small HTML page with "Allow" and "Deny" buttons (for browser tests).
 *
 * @publicApi
 */
export type FakeIdpMode = 'auto-approve' | 'consent';

/**
 * Options shared by {@link FakeGoogleStartOptions} and {@link FakeGitHubStartOptions}.
 * @publicApi
 */
export interface FakeIdpStartOptions {
  /**
   * TCP port on 127.0.0.1; `0` picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * The only client id the fake knows.
   * @default 'fake-google-client' (Google) / 'fake-github-client' (GitHub)
   */
  clientId?: string;
  /**
   * The secret of that client.
   * @default 'fake-google-secret' (Google) / 'fake-github-secret' (GitHub)
   */
  clientSecret?: string;
  /**
   * Whether authorization requests are approved at once or show a consent page.
   * @default 'auto-approve'
   */
  mode?: FakeIdpMode;
  /**
   * Name of the relying party shown on the consent page ("Sign in to <appName> with Fake Google").
   * @default the host (and port) of the request's redirect_uri
   */
  appName?: string;
  /**
   * Lifetime of authorization codes, in seconds.
   * @default 60 (Google) / 600 (GitHub, as documented by GitHub)
   */
  codeTtlSec?: number;
}

/**
 * Options of {@link FakeGoogle.start}.
 * @publicApi
 */
export interface FakeGoogleStartOptions extends FakeIdpStartOptions {
  /**
   * The issuer identifier put in discovery, in ID tokens and (with `scenario.issParameter`) on
   * the authorization response. Used verbatim: a trailing slash stays.
   *
   * It does not depend on the port, so identities an app recorded in one run (keyed on
   * provider, issuer and subject) still match in the next run against the same database. It is
   * not a URL of the fake: point the module at `endpoints.discovery` (as
   * {@link FakeGoogle.providerOptions} does) instead of deriving discovery from the issuer.
   * @default FAKE_GOOGLE_ISSUER ('https://fake-google.test')
   */
  issuer?: string;
}

/**
 * Options of {@link FakeGitHub.start}.
 * @publicApi
 */
export interface FakeGitHubStartOptions extends FakeIdpStartOptions {
  /**
   * The issuer an app should record GitHub identities with (`providers.github.issuer` of the
   * module, as {@link FakeGitHub.providerOptions} sets it). GitHub's protocol has no issuer, so
   * the fake never sends it; it only has to stay the same from one run to the next, whatever the
   * port.
   * @default FAKE_GITHUB_ISSUER ('https://fake-github.test')
   */
  issuer?: string;
}

/**
 * The `providers.google` options of `AuthModule` (`@nest-social-auth/core`) that point the module
 * at a {@link FakeGoogle}: every endpoint explicit, discovery included, and the fake's issuer.
 * Spread it to add module-only options: `{ ...google.providerOptions(), trustEmail: true }`.
 * @publicApi
 */
export interface FakeGoogleProviderOptions {
  /** The fake's client id. */
  clientId: string;
  /** The fake's client secret. */
  clientSecret: string;
  /** The fake's issuer (port-independent by default). */
  issuer: string;
  /** `endpoints.authorization` */
  authorizationURL: string;
  /** `endpoints.token` */
  tokenURL: string;
  /** `endpoints.userinfo` */
  userInfoURL: string;
  /** `endpoints.jwks` */
  jwksURL: string;
  /** `endpoints.discovery` (the issuer is not where the fake listens). */
  discoveryURL: string;
}

/**
 * The `providers.github` options of `AuthModule` (`@nest-social-auth/core`) that point the module
 * at a {@link FakeGitHub}, with the fake's port-independent issuer.
 * Spread it to add module-only options: `{ ...github.providerOptions(), trustEmail: true }`.
 * @publicApi
 */
export interface FakeGitHubProviderOptions {
  /** The fake's client id. */
  clientId: string;
  /** The fake's client secret. */
  clientSecret: string;
  /** The fake's issuer: what the module records GitHub identities with. */
  issuer: string;
  /** `endpoints.authorization` */
  authorizationURL: string;
  /** `endpoints.token` */
  tokenURL: string;
  /** `endpoints.api` */
  apiURL: string;
}

/**
 * Query or form parameters as received: a parameter sent more than once becomes an array.
 * @publicApi
 */
export type FakeIdpParams = Record<string, string | string[]>;

/**
 * One entry of a fake's request log (`fake.requests`). Every request is logged on arrival,
 * before any scenario knob (delay, drop) applies, so counts are exact.
 * @publicApi
 */
export interface FakeIdpRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Path without the query string, exactly as sent (not normalised). */
  path: string;
  /** Query parameters. */
  query: FakeIdpParams;
  /**
   * Parsed body: form parameters for `application/x-www-form-urlencoded`, the parsed value for
   * valid JSON, otherwise the raw text; `undefined` when there was no body.
   */
  body: unknown;
  /** Request headers (lower-case names, as Node gives them). */
  headers: IncomingHttpHeaders;
  /** Arrival time. */
  at: Date;
  /** Status code answered; `0` when the socket was dropped; `undefined` while still pending. */
  status?: number;
  /**
   * Why the fake refused the request, when it did: a stable snake_case reason such as
   * `'pkce_mismatch'`, `'code_reused'`, `'code_expired'`, `'unknown_code'`,
   * `'redirect_uri_mismatch'`, `'invalid_client'`, `'token_in_query'`, `'token_in_body'`,
   * `'invalid_token'`, `'missing_token'`, `'duplicate_parameter'`. Scenario-forced answers are
   * not refusals and leave this unset.
   */
  rejected?: string;
}

/**
 * Knobs that change how one endpoint answers. They apply to every answer of that endpoint,
 * success or error. The request is always processed first (a code is consumed, tokens are
 * issued), then the answer is altered, like an upstream that worked but answered badly.
 * @publicApi
 */
export interface FakeEndpointBehavior {
  /** Replaces the status code; the body stays the one normally computed unless `body` is set. */
  status?: number;
  /**
   * Replaces the whole body. A string is sent verbatim; an object is serialised as JSON (or as a
   * form when the content type is `application/x-www-form-urlencoded`).
   */
  body?: string | object;
  /** Replaces the `Content-Type` header (e.g. `'text/html'`). */
  contentType?: string;
  /**
   * Waits this long before answering (a hanging upstream). `stop()` still closes at once.
   * Uses the real `setTimeout`: do not combine with Jest fake timers.
   */
  delayMs?: number;
  /** Destroys the socket instead of answering (after `delayMs`, if set). */
  drop?: boolean;
}

/**
 * A shallow patch: each key replaces the value; a key whose value is `undefined` is deleted.
 * @example { iss: 'https://other', sub: undefined }
 * @publicApi
 */
export type FakeClaimsPatch = Record<string, unknown>;

/**
 * A forced error answer to authorization requests: an OAuth error code, or the code with its
 * description (sent as `error_description`, URL-encoded but otherwise verbatim).
 * @example 'access_denied'
 * @example { error: 'access_denied', error_description: '<script>alert(1)</script>' }
 * @publicApi
 */
export type FakeAuthorizeError = string | { error: string; error_description?: string };

/**
 * Knobs both fakes share. All are off by default.
 * @publicApi
 */
export interface FakeIdpBaseScenario {
  /** Answers every valid authorization request with this error redirect. */
  authorizeError?: FakeAuthorizeError;
  /**
   * Registered redirect URIs. Google: exact string match required, otherwise a 400 page and no
   * redirect. GitHub: GitHub's own rule (same host or a sub-domain, same port, path equal or
   * below the registered one; on loopback any port) and a mismatch redirects to the first
   * registered URI with `error=redirect_uri_mismatch`. Unset: any absolute URI without fragment.
   */
  allowedRedirectUris?: string[];
  /**
   * Lets authorization requests without PKCE through (real Google and GitHub do not require
   * it). Off: `code_challenge` with `code_challenge_method=S256` is mandatory. `plain` is
   * refused either way, and a `code_verifier` for a code issued without a challenge is refused
   * (RFC 9700 §2.1.1 downgrade protection).
   */
  pkceOptional?: boolean;
}

/**
 * How the fake Google signs the ID token of a token response.
 *
 * - `'valid'`: RS256 with the current key (published in JWKS).
 * - `'attacker-key'`: RS256 with a second RSA key the fake holds, never published; the header
 *   keeps the real `kid`.
 * - `'none'`: `alg: "none"`, no `kid`, empty signature.
 * - `'hs256-with-public-key'`: HS256 whose HMAC key is the bytes of the current RSA public key
 *   as SPKI PEM (`-----BEGIN PUBLIC KEY-----…` with a trailing newline, as jose's `exportSPKI`
 *   prints it); header keeps the real `kid`.
 * - `'es256'`: ES256 with a P-256 key whose `kid` is `fakeGoogle.ecJwk.kid`. That key is NOT in
 *   the JWKS unless `scenario.jwks.publishEcKey` is set.
 * - `'null-alg'`: header without `alg`, RS256 signature with the current key.
 *
 * @publicApi
 */
export type FakeIdTokenSigning = 'valid' | 'attacker-key' | 'none' | 'hs256-with-public-key' | 'es256' | 'null-alg';

/**
 * Per-test knobs of {@link FakeGoogle}. `reset()` restores these defaults (everything off).
 * Mutate in place: `google.scenario.token.status = 503`.
 * @publicApi
 */
export interface FakeGoogleScenario extends FakeIdpBaseScenario {
  /** The ID token of the token response. */
  idToken: {
    /** Merged over the claims (`undefined` deletes), e.g. `{ aud: ['fake-google-client', 'evil'] }`. */
    claims?: FakeClaimsPatch;
    /** Merged over the protected header (`undefined` deletes), e.g. `{ kid: 'unknown' }`, `{ jku: 'http://evil' }`. */
    header?: FakeClaimsPatch;
    /** @default 'valid' */
    signing?: FakeIdTokenSigning;
    /** Token response without `id_token`. */
    omit?: boolean;
  };
  /** `POST /token`; `fields` is merged over a successful JSON body (`{ expires_in: '3599' }`, `{ access_token: undefined }`). */
  token: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** `GET /userinfo`; `claims` is merged over a successful body (`{ sub: 'someone-else' }`). */
  userinfo: FakeEndpointBehavior & { claims?: FakeClaimsPatch };
  /** `GET /jwks`; `publishEcKey` adds the ES256 key (see {@link FakeIdTokenSigning}). */
  jwks: FakeEndpointBehavior & { publishEcKey?: boolean };
  /** `GET /.well-known/openid-configuration`; `fields` is merged over the document (`{ issuer: 'https://other' }`). */
  discovery: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** Shifts `iat`/`exp` of ID tokens by this many seconds (negative: the fake's clock is behind). */
  clockSkewSec?: number;
  /**
   * RFC 9207: discovery advertises `authorization_response_iss_parameter_supported: true` and
   * every authorization response (success and error) carries `iss`.
   */
  issParameter?: boolean;
  /**
   * The `iss` value put on authorization responses instead of the issuer; also adds `iss` when
   * `issParameter` is off. `null` omits `iss` even when `issParameter` is on (RFC 9207 (a) case).
   */
  issOverride?: string | null;
}

/**
 * Per-test knobs of {@link FakeGitHub}. `reset()` restores these defaults (everything off).
 * @publicApi
 */
export interface FakeGitHubScenario extends FakeIdpBaseScenario {
  /** `POST /login/oauth/access_token`; `fields` is merged over a successful body (form or JSON). */
  token: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** `GET /user`; `fields` is merged over a successful body (`{ id: '1001' }`, `{ email: 'victim@example.com' }`). */
  user: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** `GET /user/emails`; `list` replaces the JSON array of a successful answer (any JSON value). */
  emails: FakeEndpointBehavior & { list?: unknown };
}

/**
 * A scripted Google account: the claims the fake puts in ID tokens and userinfo. Fields are
 * emitted as given (so `email_verified: 'false'` reaches the client as a string).
 * @publicApi
 */
export interface FakeGoogleUser {
  /** Stable subject identifier (Google: up to 255 ASCII chars, usually 21 digits). */
  sub: string;
  /** Omitted from tokens when absent or when the `email` scope was not requested. */
  email?: string;
  /** Boolean, or a string for the "false"-as-string quirk. */
  email_verified?: boolean | string;
  /** Full name (`profile` scope). */
  name?: string;
  /** Given name (`profile` scope). */
  given_name?: string;
  /** Family name (`profile` scope). */
  family_name?: string;
  /** Picture URL (`profile` scope). */
  picture?: string;
  /** Google Workspace hosted domain; emitted regardless of scope, like Google. */
  hd?: string;
}

/**
 * One entry of GitHub's `GET /user/emails`.
 * @publicApi
 */
export interface FakeGitHubEmail {
  /** The address. */
  email: string;
  /** Whether it is the account's primary address. */
  primary: boolean;
  /** Whether GitHub verified it. */
  verified: boolean;
  /** @default 'public' for the primary address, null for others */
  visibility?: 'public' | 'private' | null;
}

/**
 * A scripted GitHub account.
 * @publicApi
 */
export interface FakeGitHubUser {
  /** Immutable numeric id (the only stable key). */
  id: number;
  /** Username; renamable and recyclable on GitHub. */
  login: string;
  /** Display name. */
  name: string | null;
  /** Public profile email of `GET /user`: may be null, and is not necessarily verified. */
  email?: string | null;
  /** @default `https://avatars.example.com/u/<id>` */
  avatar_url?: string;
  /** What `GET /user/emails` lists. */
  emails: FakeGitHubEmail[];
}

/**
 * An authorization request the fake accepted for answering by redirect (after `client_id` and
 * `redirect_uri` were validated), in arrival order: `fake.authorizations`.
 * @publicApi
 */
export interface FakeIdpAuthorization {
  /** The `client_id` sent. */
  clientId: string;
  /** The effective redirect URI (GitHub: the registered one when none was sent). */
  redirectUri: string;
  /** The `state` sent, if any. */
  state?: string;
  /** The `nonce` sent, if any. */
  nonce?: string;
  /** The `scope` sent, if any. */
  scope?: string;
  /** The `code_challenge` sent, if any. */
  codeChallenge?: string;
  /** The `code_challenge_method` sent, if any. */
  codeChallengeMethod?: string;
  /** Every parameter as received. */
  params: FakeIdpParams;
  /** Arrival time. */
  at: Date;
}

/**
 * Absolute endpoint URLs of {@link FakeGoogle}.
 * @publicApi
 */
export interface FakeGoogleEndpoints {
  /** `GET /authorize` */
  authorization: string;
  /** `POST /token` */
  token: string;
  /** `GET /userinfo` */
  userinfo: string;
  /** `GET /jwks` */
  jwks: string;
  /** `GET /.well-known/openid-configuration` */
  discovery: string;
}

/**
 * Absolute endpoint URLs of {@link FakeGitHub}.
 * @publicApi
 */
export interface FakeGitHubEndpoints {
  /** `GET /login/oauth/authorize` */
  authorization: string;
  /** `POST /login/oauth/access_token` */
  token: string;
  /** API base URL (the `https://api.github.com` equivalent), no trailing slash. */
  api: string;
  /** `GET {api}/user` */
  user: string;
  /** `GET {api}/user/emails` */
  emails: string;
}
