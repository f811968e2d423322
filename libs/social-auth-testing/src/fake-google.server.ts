import { createHash } from 'node:crypto';
import type { JWK } from './fake-idp.keys';

import type { ConsentPageInput } from './consent-page';
import { applyPatch, duplicatedParams, param, parseRedirectUri } from './fake-idp.http';
import { FakeKeySet } from './fake-idp.keys';
import { FakeIdpServer, randomToken, type CodeRejection, type FakeIdpContext, type PreparedResponse } from './fake-idp.server';
import type {
  FakeClaimsPatch,
  FakeGoogleEndpoints,
  FakeGoogleProviderOptions,
  FakeGoogleScenario,
  FakeGoogleStartOptions,
  FakeGoogleUser,
  FakeIdpParams,
  FakeIdTokenSigning,
} from './fake-idp.types';
import { googleUsers } from './fake-idp.users';
import { isValidS256Challenge } from './pkce';

/**
 * Default issuer of {@link FakeGoogle}. Fixed rather than the fake's URL: an app records each
 * identity with its issuer, and a port-derived issuer would make the same fake user a different
 * identity (`identity_in_use`) on the next run against a kept database. The `.test` domain
 * (RFC 2606) never resolves: nothing should fetch from the issuer.
 * @publicApi
 */
export const FAKE_GOOGLE_ISSUER = 'https://fake-google.test';

/** Google's answer is 3599 s for a one-hour token. */
const ACCESS_TOKEN_TTL_SEC = 3599;
const ID_TOKEN_TTL_SEC = 3600;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

const GRANT_ERRORS: Record<CodeRejection, string> = {
  unknown_code: 'Malformed auth code.',
  code_reused: 'Bad Request',
  code_expired: 'Bad Request',
  redirect_uri_mismatch: 'Bad Request',
  pkce_mismatch: 'Invalid code verifier.',
  pkce_downgrade: 'code_verifier sent for a code issued without code_challenge.',
};

/**
 * Options of {@link FakeGoogle.mintIdToken}.
 * @publicApi
 */
export interface FakeMintIdTokenOptions {
  /** @default the signed-in user */
  user?: FakeGoogleUser;
  /** Decides which claims appear, as at the token endpoint. @default 'openid email profile' */
  scope?: string;
  /** Adds the `nonce` claim. */
  nonce?: string;
  /** Adds the `at_hash` claim for this access token. */
  accessToken?: string;
  /** Merged over the claims (`undefined` deletes). */
  claims?: FakeClaimsPatch;
  /** Merged over the protected header (`undefined` deletes). */
  header?: FakeClaimsPatch;
  /** @default 'valid' */
  signing?: FakeIdTokenSigning;
}

/**
 * An in-process OpenID Connect provider shaped like accounts.google.com: discovery, authorize
 * (PKCE S256), token (`client_secret_basic` / `client_secret_post`), userinfo and a rotatable
 * JWKS, with per-test scenario knobs for every ID-token and upstream failure the module must
 * withstand. Never logs.
 *
 * @example
 * const google = await FakeGoogle.start();
 * google.signInAs(googleUsers.bob());
 * google.scenario.idToken.signing = 'attacker-key';
 * // … drive the app …
 * expect(google.requestsTo('/userinfo')).toHaveLength(0);
 * await google.stop();
 * @publicApi
 */
export class FakeGoogle extends FakeIdpServer<FakeGoogleUser, FakeGoogleScenario> {
  /** @internal */ protected readonly providerName = 'Fake Google';
  /** @internal */ protected readonly authorizePath = '/authorize';

  /** The issuer identifier (discovery `issuer`, ID-token `iss`); never derived from the port. */
  readonly issuer: string;

  private keys!: FakeKeySet;
  private readonly refreshTokens = new Map<string, { user: FakeGoogleUser; scope: string }>();

  private constructor(options: FakeGoogleStartOptions) {
    super(options, { clientId: 'fake-google-client', clientSecret: 'fake-google-secret', codeTtlSec: 60 });
    this.issuer = options.issuer ?? FAKE_GOOGLE_ISSUER;
  }

  /**
   * Generates the keys (RSA 2048 signing key, attacker RSA key, P-256 key) and listens on
   * 127.0.0.1.
   * @example const google = await FakeGoogle.start({ mode: 'consent' });
   */
  static async start(options: FakeGoogleStartOptions = {}): Promise<FakeGoogle> {
    const fake = new FakeGoogle(options);
    fake.keys = await FakeKeySet.create();
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /**
   * `providers.google` of `AuthModule` for this fake: client, issuer and every endpoint, discovery
   * included (the module's default discovery URL derives from the issuer, which is not where the
   * fake listens).
   * @example AuthModule.forRoot({ appUrl, tokens, providers: { google: google.providerOptions() } })
   */
  providerOptions(): FakeGoogleProviderOptions {
    const e = this.endpoints;
    return {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      issuer: this.issuer,
      authorizationURL: e.authorization,
      tokenURL: e.token,
      userInfoURL: e.userinfo,
      jwksURL: e.jwks,
      discoveryURL: e.discovery,
    };
  }

  /** Absolute URLs of the endpoints. */
  get endpoints(): FakeGoogleEndpoints {
    return {
      authorization: `${this.url}/authorize`,
      token: `${this.url}/token`,
      userinfo: `${this.url}/userinfo`,
      jwks: `${this.url}/jwks`,
      discovery: `${this.url}/.well-known/openid-configuration`,
    };
  }

  /** `kid` of the current signing key. */
  get currentKid(): string {
    return this.keys.current.kid;
  }

  /** `kid`s the JWKS publishes, current first (EC key excluded). */
  get publishedKids(): string[] {
    return this.keys.publishedKids;
  }

  /** Public JWK of the never-published attacker RSA key (for `jwk`-header injection tests). */
  get attackerJwk(): JWK {
    return { ...this.keys.attacker.publicJwk };
  }

  /** Public JWK of the P-256 key used by `signing: 'es256'`. */
  get ecJwk(): JWK {
    return { ...this.keys.ec.publicJwk };
  }

  /**
   * Makes a new RSA key the current signing key (new `kid`). The previous key(s) leave the JWKS
   * unless `keepOld` is set. Resolves to the new `kid`.
   * @example await google.rotateKeys({ keepOld: true })
   */
  rotateKeys(options: { keepOld?: boolean } = {}): Promise<string> {
    return this.keys.rotate(options.keepOld ?? false);
  }

  /**
   * Signs an ID token outside the browser flow (for unit-level tests of token validation).
   * The scenario's `idToken` knobs are not applied; pass `claims` / `header` / `signing`.
   * @example const idToken = await google.mintIdToken({ nonce: 'n-1', claims: { aud: 'other' } });
   */
  mintIdToken(options: FakeMintIdTokenOptions = {}): Promise<string> {
    const claims = this.idTokenClaims(options.user ?? this.signedInUser, options.scope ?? 'openid email profile', options.nonce, options.accessToken, 0);
    return this.keys.signJwt(applyPatch(claims, options.claims), options.signing ?? 'valid', (h) => applyPatch(h, options.header));
  }

  /** @internal */
  protected createScenario(): FakeGoogleScenario {
    return { idToken: {}, token: {}, userinfo: {}, jwks: {}, discovery: {} };
  }

  /** @internal */
  protected createDefaultUser(): FakeGoogleUser {
    return googleUsers.alice();
  }

  /** @internal */
  protected consentIdentity(user: FakeGoogleUser): ConsentPageInput['user'] {
    return { name: user.name, email: user.email };
  }

  /** Google's codes look like `4/0A…`: the slash forces clients to URL-decode. @internal */
  protected override newCode(): string {
    return `4/0${randomToken(32)}`;
  }

  /** @internal */
  protected override onReset(): void {
    this.refreshTokens.clear();
  }

  /** @internal */
  protected override revokeToken(token: string): void {
    super.revokeToken(token);
    this.refreshTokens.delete(token);
  }

  /** @internal */
  protected override authorizationResponseIssuer(): string | undefined {
    const { issParameter, issOverride } = this.scenario;
    if (issOverride === null) return undefined;
    if (typeof issOverride === 'string') return issOverride;
    return issParameter ? this.issuer : undefined;
  }

  /** @internal */
  protected async route(ctx: FakeIdpContext): Promise<void> {
    const { method } = ctx;
    switch (ctx.path) {
      case '/.well-known/openid-configuration':
        return method === 'GET' ? this.discovery(ctx) : this.send(ctx, this.notAllowed('GET'));
      case '/authorize':
        // OIDC Core §3.1.2.1: GET and POST (form) must both be supported.
        return method === 'GET' || method === 'POST' ? this.authorize(ctx) : this.send(ctx, this.notAllowed('GET, POST'));
      case '/token':
        return this.send(ctx, await this.tokenAnswer(ctx), this.scenario.token);
      case '/userinfo':
        return this.send(ctx, this.userinfoAnswer(ctx), this.scenario.userinfo);
      case '/jwks':
        return this.send(ctx, method === 'GET' ? this.json(200, this.keys.jwks(!!this.scenario.jwks?.publishEcKey)) : this.notAllowed('GET'), this.scenario.jwks);
      default:
        return this.send(ctx, this.json(404, { error: 'not_found' }, undefined, 'not_found'));
    }
  }

  private discovery(ctx: FakeIdpContext): Promise<void> {
    const e = this.endpoints;
    const document: Record<string, unknown> = {
      issuer: this.issuer,
      authorization_endpoint: e.authorization,
      token_endpoint: e.token,
      userinfo_endpoint: e.userinfo,
      jwks_uri: e.jwks,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      claims_supported: ['aud', 'azp', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'hd', 'iat', 'iss', 'name', 'nonce', 'picture', 'sub'],
      code_challenge_methods_supported: ['S256'],
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
    };
    if (this.scenario.issParameter) document.authorization_response_iss_parameter_supported = true;
    return this.send(ctx, this.json(200, applyPatch(document, this.scenario.discovery?.fields)), this.scenario.discovery);
  }

  private authorize(ctx: FakeIdpContext): Promise<void> {
    const params: FakeIdpParams = ctx.method === 'POST' ? (ctx.body.kind === 'form' ? ctx.body.params : {}) : ctx.query;
    // Until client and redirect URI are trusted, errors are shown, never redirected (RFC 6749 §4.1.2.1).
    if (duplicatedParams(params, ['client_id', 'redirect_uri']).length) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'client_id and redirect_uri must be sent once.', 'duplicate_parameter'));
    }
    const clientId = param(params, 'client_id');
    if (clientId !== this.clientId) {
      return this.send(ctx, this.errorPage(401, 'invalid_client', 'The OAuth client was not found.'));
    }
    const redirectUri = param(params, 'redirect_uri');
    if (!redirectUri || !parseRedirectUri(redirectUri)) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'redirect_uri must be an absolute http(s) URI without fragment.', 'redirect_uri_invalid'));
    }
    const allowed = this.scenario.allowedRedirectUris;
    if (allowed && !allowed.includes(redirectUri)) {
      return this.send(ctx, this.errorPage(400, 'redirect_uri_mismatch', 'The redirect URI in the request does not match the ones authorized for the OAuth client.'));
    }

    const authorization = this.acceptAuthorization(params, clientId, redirectUri);
    const fail = (error: string, description: string, rejected?: string) => this.send(ctx, this.errorRedirect(authorization, error, description, rejected));
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return fail('invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter');
    const responseType = param(params, 'response_type');
    if (!responseType) return fail('invalid_request', 'Missing required parameter: response_type.');
    if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    if (params.request !== undefined) return fail('request_not_supported', 'Request objects are not supported.');
    if (params.request_uri !== undefined) return fail('request_uri_not_supported', 'request_uri is not supported.');
    const responseMode = param(params, 'response_mode');
    if (responseMode && responseMode !== 'query') return fail('invalid_request', 'Only response_mode=query is supported.');
    if (!authorization.scope) return fail('invalid_request', 'Missing required parameter: scope.', 'scope_missing');
    const pkceError = this.checkPkceRequest(authorization, isValidS256Challenge);
    if (pkceError) return this.send(ctx, pkceError);
    return this.answerAuthorization(ctx, authorization);
  }

  private async tokenAnswer(ctx: FakeIdpContext): Promise<PreparedResponse> {
    if (ctx.method !== 'POST') return this.notAllowed('POST');
    if (ctx.body.kind !== 'form') {
      return this.oauthError(400, 'invalid_request', 'Token requests must be application/x-www-form-urlencoded.', 'not_form_encoded');
    }
    const { params } = ctx.body;
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return this.oauthError(400, 'invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter');
    const client = this.authenticateClient(ctx, params);
    if (!client.ok) {
      if (client.error === 'invalid_request') return this.oauthError(400, 'invalid_request', client.description, 'multiple_client_auth');
      const answer = this.oauthError(401, 'invalid_client', client.description);
      // RFC 6749 §5.2: a client that tried the Authorization header gets a challenge back.
      return client.viaBasic ? { ...answer, headers: { ...answer.headers, 'WWW-Authenticate': 'Basic realm="fake-google"' } } : answer;
    }
    switch (param(params, 'grant_type')) {
      case undefined:
        return this.oauthError(400, 'invalid_request', 'Missing required parameter: grant_type.');
      case 'authorization_code':
        return this.codeGrant(params);
      case 'refresh_token':
        return this.refreshGrant(params);
      default:
        return this.oauthError(400, 'unsupported_grant_type', 'Invalid grant_type.');
    }
  }

  private async codeGrant(params: FakeIdpParams): Promise<PreparedResponse> {
    const code = param(params, 'code');
    if (!code) return this.oauthError(400, 'invalid_request', 'Missing required parameter: code.');
    const redirectUri = param(params, 'redirect_uri');
    if (!redirectUri) return this.oauthError(400, 'invalid_request', 'Missing required parameter: redirect_uri.', 'redirect_uri_missing');
    const result = this.redeemCode(code, redirectUri, param(params, 'code_verifier'));
    if (!result.ok) return this.oauthError(400, 'invalid_grant', GRANT_ERRORS[result.reason], result.reason);

    const { grant } = result;
    const { authorization, user } = grant;
    const scope = authorization.scope ?? '';
    const accessToken = this.newAccessToken(user, scope);
    grant.tokens.push(accessToken);
    const body: Record<string, unknown> = { access_token: accessToken, expires_in: ACCESS_TOKEN_TTL_SEC, scope, token_type: 'Bearer' };
    if (param(authorization.params, 'access_type') === 'offline') {
      const refreshToken = `1//${randomToken(48)}`;
      this.refreshTokens.set(refreshToken, { user, scope });
      grant.tokens.push(refreshToken);
      body.refresh_token = refreshToken;
    }
    const idToken = await this.scenarioIdToken(user, scope, authorization.nonce, accessToken);
    if (idToken) body.id_token = idToken;
    return this.tokenSuccess(body);
  }

  /** Google refresh tokens are reusable; the refreshed ID token carries no nonce. */
  private async refreshGrant(params: FakeIdpParams): Promise<PreparedResponse> {
    const refreshToken = param(params, 'refresh_token');
    if (!refreshToken) return this.oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token.');
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant) return this.oauthError(400, 'invalid_grant', 'Token has been expired or revoked.', 'unknown_refresh_token');
    const accessToken = this.newAccessToken(grant.user, grant.scope);
    const body: Record<string, unknown> = { access_token: accessToken, expires_in: ACCESS_TOKEN_TTL_SEC, scope: grant.scope, token_type: 'Bearer' };
    const idToken = await this.scenarioIdToken(grant.user, grant.scope, undefined, accessToken);
    if (idToken) body.id_token = idToken;
    return this.tokenSuccess(body);
  }

  private tokenSuccess(body: Record<string, unknown>): PreparedResponse {
    return this.json(200, applyPatch(body, this.scenario.token?.fields), NO_STORE);
  }

  private newAccessToken(user: FakeGoogleUser, scope: string): string {
    const token = `ya29.${randomToken(48)}`;
    this.accessTokens.set(token, { user, scope, clientId: this.clientId, expiresAt: Date.now() + ACCESS_TOKEN_TTL_SEC * 1000 });
    return token;
  }

  /** The ID token of a token response, as the scenario wants it (undefined: none). */
  private async scenarioIdToken(user: FakeGoogleUser, scope: string, nonce: string | undefined, accessToken: string): Promise<string | undefined> {
    const knobs = this.scenario.idToken ?? {};
    if (!scope.split(' ').includes('openid') || knobs.omit) return undefined;
    const claims = this.idTokenClaims(user, scope, nonce, accessToken, this.scenario.clockSkewSec ?? 0);
    return this.keys.signJwt(applyPatch(claims, knobs.claims), knobs.signing ?? 'valid', (h) => applyPatch(h, knobs.header));
  }

  /** ID-token claims: the protocol claims around the user's scoped claims. */
  private idTokenClaims(user: FakeGoogleUser, scope: string, nonce: string | undefined, accessToken: string | undefined, skewSec: number) {
    const iat = Math.floor(Date.now() / 1000) + skewSec;
    const claims: Record<string, unknown> = { iss: this.issuer, azp: this.clientId, aud: this.clientId, ...this.userClaims(user, scope) };
    // OIDC Core §3.1.3.6: left half of SHA-256 of the ASCII access token, base64url.
    if (accessToken) claims.at_hash = createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
    if (nonce !== undefined) claims.nonce = nonce;
    claims.iat = iat;
    claims.exp = iat + ID_TOKEN_TTL_SEC;
    return claims;
  }

  /**
   * What Google releases about the user, in ID tokens and userinfo alike: `sub` and `hd`
   * always, email claims with the `email` scope, profile claims with `profile`.
   */
  private userClaims(user: FakeGoogleUser, scope: string): Record<string, unknown> {
    const scopes = scope.split(' ');
    const { sub, hd, email, email_verified, name, picture, given_name, family_name } = user;
    const released: Record<string, unknown> = { sub, hd };
    if (scopes.includes('email') && email !== undefined) Object.assign(released, { email, email_verified });
    if (scopes.includes('profile')) Object.assign(released, { name, picture, given_name, family_name });
    return Object.fromEntries(Object.entries(released).filter(([, v]) => v !== undefined));
  }

  private userinfoAnswer(ctx: FakeIdpContext): PreparedResponse {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return this.notAllowed('GET, POST');
    const auth = this.bearerToken(ctx, /^Bearer$/i);
    if ('rejected' in auth) {
      // RFC 6750 §3.1: no error code when no (supported) credentials were presented.
      const invalid = auth.rejected === 'invalid_token';
      const challenge = invalid
        ? 'Bearer realm="fake-google", error="invalid_token", error_description="Invalid Credentials"'
        : 'Bearer realm="fake-google"';
      const body = { error: invalid ? 'invalid_token' : 'invalid_request', error_description: 'Invalid Credentials' };
      return this.json(401, body, { 'WWW-Authenticate': challenge }, auth.rejected);
    }
    const { user, scope } = auth.grant;
    return this.json(200, applyPatch(this.userClaims(user, scope), this.scenario.userinfo?.claims));
  }
}
