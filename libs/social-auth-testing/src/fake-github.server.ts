import { randomBytes } from 'node:crypto';

import type { ConsentPageInput } from './consent-page';
import { applyPatch, duplicatedParams, param, parseRedirectUri } from './fake-idp.http';
import { FakeIdpServer, type FakeIdpContext, type PreparedResponse } from './fake-idp.server';
import type {
  FakeGitHubEndpoints,
  FakeGitHubProviderOptions,
  FakeGitHubScenario,
  FakeGitHubStartOptions,
  FakeGitHubUser,
  FakeIdpParams,
} from './fake-idp.types';
import { githubUsers } from './fake-idp.users';
import { isValidS256Challenge } from './pkce';

/**
 * Default issuer of {@link FakeGitHub}: what an app records its GitHub identities with
 * (`providers.github.issuer`). Fixed, unlike the fake's URL, so the same fake user is the same
 * identity from one run to the next against a kept database. The `.test` domain (RFC 2606) never
 * resolves.
 * @publicApi
 */
export const FAKE_GITHUB_ISSUER = 'https://fake-github.test';

const DOCS = 'https://docs.github.com/apps/managing-oauth-apps';
const AUTHORIZE_ERRORS = `${DOCS}/troubleshooting-authorization-request-errors`;
const TOKEN_ERRORS = `${DOCS}/troubleshooting-oauth-app-access-token-request-errors`;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** GitHub's documented token-endpoint errors (all answered with HTTP 200). */
const TOKEN_ERROR_TEXT: Record<string, { description: string; uri: string }> = {
  incorrect_client_credentials: {
    description: 'The client_id and/or client_secret passed are incorrect.',
    uri: `${TOKEN_ERRORS}#incorrect-client-credentials`,
  },
  redirect_uri_mismatch: {
    description: 'The redirect_uri MUST match the registered callback URL for this application.',
    uri: `${AUTHORIZE_ERRORS}#redirect-uri-mismatch2`,
  },
  bad_verification_code: { description: 'The code passed is incorrect or expired.', uri: `${TOKEN_ERRORS}#bad-verification-code` },
  unsupported_grant_type: { description: 'The grant type is not supported.', uri: `${TOKEN_ERRORS}#unsupported-grant-type` },
};

/**
 * GitHub's redirect rule: same scheme; host equal to, or a sub-domain of, the registered host;
 * same port (a loopback callback registered without port accepts any port); path equal to or
 * below the registered path.
 */
function githubRedirectMatches(registered: string, candidate: URL): boolean {
  const reg = parseRedirectUri(registered);
  if (!reg || reg.protocol !== candidate.protocol) return false;
  if (candidate.hostname !== reg.hostname && !candidate.hostname.endsWith(`.${reg.hostname}`)) return false;
  const anyPort = reg.port === '' && ['127.0.0.1', 'localhost', '[::1]'].includes(reg.hostname);
  if (!anyPort && candidate.port !== reg.port) return false;
  const below = reg.pathname.endsWith('/') ? reg.pathname : `${reg.pathname}/`;
  return candidate.pathname === reg.pathname || candidate.pathname.startsWith(below);
}

/** Token-endpoint parameters from a form or a JSON object body (GitHub accepts both). */
function tokenParams(ctx: FakeIdpContext): FakeIdpParams | undefined {
  const { body } = ctx;
  if (body.kind === 'none') return {};
  if (body.kind === 'form') return body.params;
  if (body.kind === 'json' && body.value && typeof body.value === 'object' && !Array.isArray(body.value)) {
    const out: FakeIdpParams = {};
    for (const [key, value] of Object.entries(body.value)) {
      if (typeof value === 'string' || typeof value === 'number') out[key] = String(value);
    }
    return out;
  }
  return undefined;
}

/**
 * An in-process OAuth 2.0 server shaped like GitHub (not OIDC): `/login/oauth/authorize`
 * (PKCE S256 only), `/login/oauth/access_token` (form answer unless `Accept: application/json`,
 * errors as HTTP 200 with an `error` field), and the API's `/user` and `/user/emails`.
 * Never logs.
 *
 * @example
 * const github = await FakeGitHub.start();
 * github.signInAs(githubUsers.unverifiedPrimary());
 * github.scenario.emails.status = 503;
 * await github.stop();
 * @publicApi
 */
export class FakeGitHub extends FakeIdpServer<FakeGitHubUser, FakeGitHubScenario> {
  /** @internal */ protected readonly providerName = 'Fake GitHub';
  /** @internal */ protected readonly authorizePath = '/login/oauth/authorize';

  /**
   * The issuer an app should record this fake's identities with. GitHub's protocol has none, so
   * the fake never sends it; {@link FakeGitHub.providerOptions} hands it to the module.
   */
  readonly issuer: string;

  private constructor(options: FakeGitHubStartOptions) {
    super(options, { clientId: 'fake-github-client', clientSecret: 'fake-github-secret', codeTtlSec: 600 });
    this.issuer = options.issuer ?? FAKE_GITHUB_ISSUER;
  }

  /**
   * Listens on 127.0.0.1.
   * @example const github = await FakeGitHub.start({ port: 4001 });
   */
  static async start(options: FakeGitHubStartOptions = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** Absolute URLs of the endpoints (`api` is the base for `/user` and `/user/emails`). */
  get endpoints(): FakeGitHubEndpoints {
    return {
      authorization: `${this.url}/login/oauth/authorize`,
      token: `${this.url}/login/oauth/access_token`,
      api: this.url,
      user: `${this.url}/user`,
      emails: `${this.url}/user/emails`,
    };
  }

  /**
   * `providers.github` of `AuthModule` for this fake: client, endpoints, and the issuer, so the
   * identities the app records do not change with the fake's port.
   * @example AuthModule.forRoot({ appUrl, tokens, providers: { github: github.providerOptions() } })
   */
  providerOptions(): FakeGitHubProviderOptions {
    const e = this.endpoints;
    return {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      issuer: this.issuer,
      authorizationURL: e.authorization,
      tokenURL: e.token,
      apiURL: e.api,
    };
  }

  /**
   * Issues an access token without the browser flow, for tests of code that calls the API.
   * @param options.user the account @default the signed-in user
   * @param options.scope space- or comma-separated scopes @default 'read:user user:email'
   * @example const token = github.issueAccessToken({ scope: 'read:user' }); // /user/emails → 404
   */
  issueAccessToken(options: { user?: FakeGitHubUser; scope?: string } = {}): string {
    return this.newAccessToken(structuredClone(options.user ?? this.signedInUser), options.scope ?? 'read:user user:email').token;
  }

  /** @internal */
  protected createScenario(): FakeGitHubScenario {
    return { token: {}, user: {}, emails: {} };
  }

  /** @internal */
  protected createDefaultUser(): FakeGitHubUser {
    return githubUsers.octo();
  }

  /** @internal */
  protected consentIdentity(user: FakeGitHubUser): ConsentPageInput['user'] {
    return { name: user.name, login: user.login, email: user.email };
  }

  /** GitHub codes are 20 hex characters. @internal */
  protected override newCode(): string {
    return randomBytes(10).toString('hex');
  }

  /** @internal */
  protected override errorRedirectDetails(error: string): { error_description?: string; error_uri?: string } {
    if (error === 'access_denied') {
      return { error_description: 'The user has denied your application access.', error_uri: `${AUTHORIZE_ERRORS}#access-denied` };
    }
    if (error === 'redirect_uri_mismatch') {
      return { error_description: TOKEN_ERROR_TEXT.redirect_uri_mismatch.description, error_uri: `${AUTHORIZE_ERRORS}#redirect-uri-mismatch` };
    }
    return { error_uri: AUTHORIZE_ERRORS };
  }

  /** @internal */
  protected async route(ctx: FakeIdpContext): Promise<void> {
    const { method } = ctx;
    switch (ctx.path) {
      case '/login/oauth/authorize':
        return method === 'GET' ? this.authorize(ctx) : this.send(ctx, this.notAllowed('GET'));
      case '/login/oauth/access_token':
        return this.send(ctx, this.tokenAnswer(ctx), this.scenario.token);
      case '/user':
        return this.send(ctx, method === 'GET' ? this.userAnswer(ctx) : this.notAllowed('GET'), this.scenario.user);
      case '/user/emails':
        return this.send(ctx, method === 'GET' ? this.emailsAnswer(ctx) : this.notAllowed('GET'), this.scenario.emails);
      default:
        return this.send(ctx, this.apiError(404, 'Not Found', 'not_found'));
    }
  }

  private authorize(ctx: FakeIdpContext): Promise<void> {
    const params = ctx.query;
    if (duplicatedParams(params, ['client_id', 'redirect_uri']).length) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'client_id and redirect_uri must be sent once.', 'duplicate_parameter'));
    }
    const clientId = param(params, 'client_id');
    if (clientId !== this.clientId) {
      return this.send(ctx, this.errorPage(404, 'not_found', 'No OAuth app has this client_id.', 'invalid_client'));
    }
    const registered = this.scenario.allowedRedirectUris ?? [];
    const given = param(params, 'redirect_uri');
    let redirectUri: string;
    if (given === undefined) {
      // GitHub falls back to the registered callback URL.
      if (!registered.length) {
        return this.send(
          ctx,
          this.errorPage(400, 'invalid_request', 'Send redirect_uri (no callback URL is registered: scenario.allowedRedirectUris).', 'redirect_uri_invalid'),
        );
      }
      redirectUri = registered[0];
    } else {
      const url = parseRedirectUri(given);
      if (!url) return this.send(ctx, this.errorPage(400, 'invalid_request', 'redirect_uri must be an absolute http(s) URI without fragment.', 'redirect_uri_invalid'));
      if (registered.length && !registered.some((r) => githubRedirectMatches(r, url))) {
        // GitHub reports this mismatch to the registered callback, not to the given URI.
        return this.send(ctx, this.errorRedirect({ redirectUri: registered[0], state: param(params, 'state') }, 'redirect_uri_mismatch'));
      }
      redirectUri = given;
    }

    const authorization = this.acceptAuthorization(params, clientId, redirectUri);
    const duplicated = duplicatedParams(params);
    if (duplicated.length) {
      return this.send(ctx, this.errorRedirect(authorization, 'invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter'));
    }
    const pkceError = this.checkPkceRequest(authorization, isValidS256Challenge);
    if (pkceError) return this.send(ctx, pkceError);
    return this.answerAuthorization(ctx, authorization);
  }

  private tokenAnswer(ctx: FakeIdpContext): PreparedResponse {
    if (ctx.method !== 'POST') return this.notAllowed('POST');
    const params = tokenParams(ctx);
    if (!params) return this.oauthError(400, 'invalid_request', 'Problems parsing the request body.', 'unparsable_body');
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return this.oauthError(400, 'invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter');

    const wantsJson = /application\/json/i.test(ctx.req.headers.accept ?? '');
    const reply = (body: Record<string, unknown>, rejected?: string): PreparedResponse =>
      wantsJson
        ? this.json(200, body, NO_STORE, rejected)
        : { status: 200, body, contentType: 'application/x-www-form-urlencoded; charset=utf-8', headers: NO_STORE, rejected };
    // GitHub quirk: token errors are HTTP 200 with an `error` field.
    const fail = (error: keyof typeof TOKEN_ERROR_TEXT, rejected: string = error) =>
      reply({ error, error_description: TOKEN_ERROR_TEXT[error].description, error_uri: TOKEN_ERROR_TEXT[error].uri }, rejected);

    const client = this.authenticateClient(ctx, params);
    if (!client.ok) return fail('incorrect_client_credentials', client.error === 'invalid_request' ? 'multiple_client_auth' : 'invalid_client');
    const grantType = param(params, 'grant_type');
    if (grantType !== undefined && grantType !== 'authorization_code') return fail('unsupported_grant_type');
    const code = param(params, 'code');
    if (!code) return fail('bad_verification_code', 'missing_code');
    const result = this.redeemCode(code, param(params, 'redirect_uri'), param(params, 'code_verifier'));
    if (!result.ok) return fail(result.reason === 'redirect_uri_mismatch' ? 'redirect_uri_mismatch' : 'bad_verification_code', result.reason);

    const { grant } = result;
    const { token, scope } = this.newAccessToken(grant.user, grant.authorization.scope ?? '');
    grant.tokens.push(token);
    return reply(applyPatch({ access_token: token, token_type: 'bearer', scope }, this.scenario.token?.fields));
  }

  /** `gho_` + 36 alphanumerics; scopes stored comma-separated, as GitHub reports them. */
  private newAccessToken(user: FakeGitHubUser, requested: string): { token: string; scope: string } {
    const token = `gho_${Array.from(randomBytes(36), (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('')}`;
    const scope = requested.split(/[\s,]+/).filter(Boolean).join(',');
    this.accessTokens.set(token, { user, scope, clientId: this.clientId });
    return { token, scope };
  }

  private apiError(status: number, message: string, rejected?: string, documentationUrl = 'https://docs.github.com/rest'): PreparedResponse {
    return this.json(status, { message, documentation_url: documentationUrl, status: String(status) }, undefined, rejected);
  }

  /** The API's checks: a User-Agent, then a token in the Authorization header (`Bearer` or `token`). */
  private apiAuth(ctx: FakeIdpContext): { user: FakeGitHubUser; scopes: string[] } | PreparedResponse {
    if (!ctx.req.headers['user-agent']) {
      return {
        status: 403,
        body: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.\n',
        contentType: 'text/plain; charset=utf-8',
        rejected: 'missing_user_agent',
      };
    }
    const auth = this.bearerToken(ctx, /^(Bearer|token)$/i);
    if ('rejected' in auth) return this.apiError(401, auth.rejected === 'invalid_token' ? 'Bad credentials' : 'Requires authentication', auth.rejected);
    return { user: auth.grant.user, scopes: auth.grant.scope.split(',').filter(Boolean) };
  }

  private scopeHeaders(scopes: string[], accepted: string): Record<string, string> {
    return { 'X-OAuth-Scopes': scopes.join(', '), 'X-Accepted-OAuth-Scopes': accepted };
  }

  private userAnswer(ctx: FakeIdpContext): PreparedResponse {
    const auth = this.apiAuth(ctx);
    if ('status' in auth) return auth;
    const { user } = auth;
    const body = {
      login: user.login,
      id: user.id,
      node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
      avatar_url: user.avatar_url ?? `https://avatars.example.com/u/${user.id}`,
      gravatar_id: '',
      url: `${this.url}/users/${encodeURIComponent(user.login)}`,
      type: 'User',
      site_admin: false,
      name: user.name,
      company: null,
      blog: '',
      location: null,
      email: user.email ?? null,
      hireable: null,
      bio: null,
      public_repos: 0,
      followers: 0,
      following: 0,
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
    };
    return this.json(200, applyPatch(body, this.scenario.user?.fields), this.scopeHeaders(auth.scopes, ''));
  }

  /** Like GitHub, a token without `user:email` (or `user`) gets 404, not 403. */
  private emailsAnswer(ctx: FakeIdpContext): PreparedResponse {
    const auth = this.apiAuth(ctx);
    if ('status' in auth) return auth;
    if (!auth.scopes.includes('user:email') && !auth.scopes.includes('user')) {
      return this.apiError(404, 'Not Found', 'insufficient_scope', 'https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user');
    }
    const list =
      this.scenario.emails?.list !== undefined
        ? this.scenario.emails.list
        : auth.user.emails.map((e) => ({
            email: e.email,
            primary: e.primary,
            verified: e.verified,
            visibility: e.visibility !== undefined ? e.visibility : e.primary ? 'public' : null,
          }));
    return this.json(200, list, this.scopeHeaders(auth.scopes, 'user, user:email'));
  }
}
