import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { PAGE_CSP, renderConsentPage, renderErrorPage, type ConsentPageInput } from './consent-page';
import {
  duplicatedParams,
  loggedBody,
  param,
  parseBasicAuth,
  readBody,
  safeEqual,
  serializeBody,
  splitTarget,
  withQuery,
  type ParsedBody,
} from './fake-idp.http';
import type {
  FakeEndpointBehavior,
  FakeIdpAuthorization,
  FakeIdpBaseScenario,
  FakeIdpMode,
  FakeIdpParams,
  FakeIdpRequest,
  FakeIdpStartOptions,
} from './fake-idp.types';
import { verifyS256 } from './pkce';

/** One request being answered. @internal */
export interface FakeIdpContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: FakeIdpParams;
  body: ParsedBody;
  record: FakeIdpRequest;
}

/** An answer before scenario knobs apply. @internal */
export interface PreparedResponse {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Reason code stored on the request log entry. */
  rejected?: string;
}

/** An authorization request whose client and redirect URI were validated. @internal */
export interface ValidatedAuthorization {
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  scope?: string;
  codeChallenge?: string;
  params: FakeIdpParams;
}

/** What a code was issued for. @internal */
export interface IssuedCode<TUser> {
  authorization: ValidatedAuthorization;
  user: TUser;
  expiresAt: number;
  used: boolean;
  /** Tokens issued with this code, revoked if the code is replayed (RFC 6749 §4.1.2). */
  tokens: string[];
}

/** An access token the fake issued. @internal */
export interface IssuedAccessToken<TUser> {
  user: TUser;
  scope: string;
  clientId: string;
  /** Epoch ms; undefined = never expires (GitHub OAuth app tokens). */
  expiresAt?: number;
}

/** Why a code could not be redeemed (stored as the request's `rejected`). @internal */
export type CodeRejection =
  | 'unknown_code'
  | 'code_reused'
  | 'code_expired'
  | 'redirect_uri_mismatch'
  | 'pkce_mismatch'
  | 'pkce_downgrade';

const CONSENT_TTL_MS = 10 * 60 * 1000;

/** Unguessable opaque value (base64url of `bytes` random bytes). @internal */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * What both fakes share: the HTTP server and its request log, the scripted user, and the
 * authorization-code machinery (consent transactions, single-use codes with PKCE, client
 * authentication, bearer tokens). Subclasses add the provider's own endpoints and dialect.
 * @publicApi
 */
export abstract class FakeIdpServer<TUser, TScenario extends FakeIdpBaseScenario> {
  /** The only client id this fake knows. */
  readonly clientId: string;
  /** The secret of that client. */
  readonly clientSecret: string;
  /** Auto-approve or consent page. */
  readonly mode: FakeIdpMode;
  /** Every request received, in arrival order (cleared by `reset()`). */
  readonly requests: FakeIdpRequest[] = [];
  /** Every authorization request answered by redirect or consent page (cleared by `reset()`). */
  readonly authorizations: FakeIdpAuthorization[] = [];
  /** Per-test knobs; mutate in place. `reset()` restores the defaults. */
  scenario: TScenario;

  /** @internal */ protected readonly codes = new Map<string, IssuedCode<TUser>>();
  /** @internal */ protected readonly accessTokens = new Map<string, IssuedAccessToken<TUser>>();
  /** @internal */ protected readonly codeTtlMs: number;
  /** @internal */ protected abstract readonly providerName: string;
  /** @internal */ protected abstract readonly authorizePath: string;

  private readonly appName?: string;
  private readonly consents = new Map<string, { authorization: ValidatedAuthorization; user: TUser; expiresAt: number }>();
  private readonly sleepers = new Set<() => void>();
  private readonly server: Server;
  private user: TUser;
  private baseUrl = '';
  private stopped = false;

  /** @internal */
  protected constructor(options: FakeIdpStartOptions, defaults: { clientId: string; clientSecret: string; codeTtlSec: number }) {
    this.clientId = options.clientId ?? defaults.clientId;
    this.clientSecret = options.clientSecret ?? defaults.clientSecret;
    this.mode = options.mode ?? 'auto-approve';
    this.appName = options.appName;
    this.codeTtlMs = (options.codeTtlSec ?? defaults.codeTtlSec) * 1000;
    this.scenario = this.createScenario();
    this.user = this.createDefaultUser();
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Base URL, e.g. `'http://127.0.0.1:53127'` (no trailing slash). */
  get url(): string {
    return this.baseUrl;
  }

  /** The account the next authorizations approve (a copy is taken at approval time). */
  get signedInUser(): TUser {
    return this.user;
  }

  /**
   * Sets the account that the next authorization requests approve. Codes and tokens already
   * issued keep the account they were issued for.
   * @example google.signInAs(googleUsers.bob({ email: 'victim@example.com' }))
   */
  signInAs(user: TUser): this {
    this.user = structuredClone(user);
    return this;
  }

  /**
   * The logged requests to one path (a full URL is reduced to its path).
   * @example expect(google.requestsTo('/token')).toHaveLength(0)
   */
  requestsTo(path: string): FakeIdpRequest[] {
    const wanted = /^https?:\/\//.test(path) ? new URL(path).pathname : path;
    return this.requests.filter((r) => r.path === wanted);
  }

  /**
   * Back to a fresh state: default scenario (mutated in place, so held references stay valid),
   * empty request log and authorizations, default user, and every pending consent, code and
   * token forgotten. Signing keys are kept.
   */
  reset(): void {
    const fresh = this.createScenario();
    for (const key of Object.keys(this.scenario)) Reflect.deleteProperty(this.scenario, key);
    Object.assign(this.scenario, fresh);
    this.requests.length = 0;
    this.authorizations.length = 0;
    this.user = this.createDefaultUser();
    this.codes.clear();
    this.accessTokens.clear();
    this.consents.clear();
    this.onReset();
  }

  /** Stops listening and destroys every open connection (hanging requests included). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** @internal */
  protected abstract createScenario(): TScenario;
  /** @internal */
  protected abstract createDefaultUser(): TUser;
  /** @internal */
  protected abstract route(ctx: FakeIdpContext): Promise<void>;
  /** Name, login and email shown on the consent page. @internal */
  protected abstract consentIdentity(user: TUser): ConsentPageInput['user'];

  /** Extra state to clear on `reset()`. @internal */
  protected onReset(): void {}

  /** A new authorization code. @internal */
  protected newCode(): string {
    return randomToken(24);
  }

  /** RFC 9207 `iss` for authorization responses, if this provider sends one. @internal */
  protected authorizationResponseIssuer(): string | undefined {
    return undefined;
  }

  /** Provider-specific description/URI added to an error redirect. @internal */
  protected errorRedirectDetails(_error: string): { error_description?: string; error_uri?: string } {
    return {};
  }

  /** @internal */
  protected async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = splitTarget(req.url);
    const record: FakeIdpRequest = { method: req.method ?? 'GET', path, query, body: undefined, headers: { ...req.headers }, at: new Date() };
    this.requests.push(record);
    try {
      const body = await readBody(req);
      record.body = loggedBody(body);
      const ctx: FakeIdpContext = { req, res, method: record.method, path, query, body, record };
      if (body.kind === 'too-large') {
        await this.send(ctx, { ...this.oauthError(413, 'invalid_request', 'Request body too large.'), headers: { Connection: 'close' } });
      } else if (path === `${this.authorizePath}/decision`) {
        await this.handleDecision(ctx);
      } else {
        await this.route(ctx);
      }
    } catch {
      // Never crash and never echo internals: a bare OAuth error.
      if (!res.headersSent && !res.destroyed) {
        record.status = 500;
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: 'server_error' }));
      } else {
        res.destroy();
      }
    }
  }

  /**
   * Writes an answer after applying an endpoint's knobs (delay, drop, status, body, type).
   * @internal
   */
  protected async send(ctx: FakeIdpContext, answer: PreparedResponse, knobs?: FakeEndpointBehavior): Promise<void> {
    if (answer.rejected) ctx.record.rejected = answer.rejected;
    if (knobs?.delayMs) await this.sleep(knobs.delayMs);
    if (this.stopped || ctx.res.destroyed) {
      ctx.res.destroy();
      return;
    }
    if (knobs?.drop) {
      ctx.record.status = 0;
      ctx.req.socket.destroy();
      return;
    }
    const status = knobs?.status ?? answer.status;
    const body = knobs?.body !== undefined ? knobs.body : answer.body;
    const contentType = knobs?.contentType ?? answer.contentType ?? 'application/json; charset=utf-8';
    const payload = body === undefined ? '' : serializeBody(body, contentType);
    ctx.record.status = status;
    ctx.res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': String(Buffer.byteLength(payload)),
      'X-Content-Type-Options': 'nosniff',
      ...answer.headers,
    });
    ctx.res.end(payload);
  }

  /** @internal */
  protected json(status: number, body: unknown, headers?: Record<string, string>, rejected?: string): PreparedResponse {
    return { status, body, contentType: 'application/json; charset=utf-8', headers, rejected };
  }

  /** RFC 6749 §5.2 error body, never cached. @internal */
  protected oauthError(status: number, error: string, description?: string, rejected?: string): PreparedResponse {
    const body = description ? { error, error_description: description } : { error };
    return this.json(status, body, { 'Cache-Control': 'no-store', Pragma: 'no-cache' }, rejected ?? error);
  }

  /** HTML error page used where redirecting is not allowed (RFC 6749 §4.1.2.1). @internal */
  protected errorPage(status: number, error: string, description: string, rejected = error): PreparedResponse {
    return this.html(status, renderErrorPage(this.providerName, status, error, description), rejected);
  }

  /** @internal */
  protected notAllowed(allow: string): PreparedResponse {
    return { ...this.oauthError(405, 'invalid_request', `Use ${allow}.`, 'method_not_allowed'), headers: { Allow: allow } };
  }

  /** @internal */
  protected html(status: number, html: string, rejected?: string): PreparedResponse {
    return {
      status,
      body: html,
      contentType: 'text/html; charset=utf-8',
      // A consent page is a click-target: never framed, never sniffed, no referrer to the client.
      headers: { 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' },
      rejected,
    };
  }

  private redirect(location: string, status: number): PreparedResponse {
    return { status, headers: { Location: location, 'Cache-Control': 'no-store' } };
  }

  /** Records a request whose client and redirect URI passed, and returns its parsed view. @internal */
  protected acceptAuthorization(params: FakeIdpParams, clientId: string, redirectUri: string): ValidatedAuthorization {
    const authorization: ValidatedAuthorization = {
      clientId,
      redirectUri,
      state: param(params, 'state'),
      nonce: param(params, 'nonce'),
      scope: param(params, 'scope'),
      codeChallenge: param(params, 'code_challenge'),
      params,
    };
    this.authorizations.push({
      clientId,
      redirectUri,
      state: authorization.state,
      nonce: authorization.nonce,
      scope: authorization.scope,
      codeChallenge: authorization.codeChallenge,
      codeChallengeMethod: param(params, 'code_challenge_method'),
      params,
      at: new Date(),
    });
    return authorization;
  }

  /**
   * The PKCE rules of an authorization request (RFC 7636 §4.3–4.4.1), as an error redirect
   * answer, or undefined when they hold.
   * @internal
   */
  protected checkPkceRequest(authorization: ValidatedAuthorization, isValidChallenge: (c: string) => boolean): PreparedResponse | undefined {
    const method = param(authorization.params, 'code_challenge_method');
    const challenge = authorization.codeChallenge;
    if (!challenge) {
      if (method || !this.scenario.pkceOptional) {
        return this.errorRedirect(authorization, 'invalid_request', 'code_challenge is required (PKCE with S256).', 'pkce_missing');
      }
      return undefined;
    }
    if (method !== 'S256') {
      return this.errorRedirect(authorization, 'invalid_request', 'code_challenge_method must be S256.', 'pkce_method_not_s256');
    }
    if (!isValidChallenge(challenge)) {
      return this.errorRedirect(authorization, 'invalid_request', 'code_challenge must be 43 base64url characters.', 'pkce_challenge_malformed');
    }
    return undefined;
  }

  /**
   * Answers a fully validated authorization request: the forced error of the scenario, the
   * consent page, or (auto-approve) a code.
   * @internal
   */
  protected async answerAuthorization(ctx: FakeIdpContext, authorization: ValidatedAuthorization): Promise<void> {
    const forced = this.scenario.authorizeError;
    if (forced) {
      const { error, error_description } = typeof forced === 'string' ? { error: forced, error_description: undefined } : forced;
      return this.send(ctx, { ...this.errorRedirect(authorization, error, error_description), rejected: undefined });
    }
    const user = structuredClone(this.user);
    if (this.mode === 'auto-approve') return this.send(ctx, this.approve(authorization, user, 302));
    const transactionId = randomToken();
    this.consents.set(transactionId, { authorization, user, expiresAt: Date.now() + CONSENT_TTL_MS });
    const page = renderConsentPage({
      providerName: this.providerName,
      appName: this.appName ?? new URL(authorization.redirectUri).host,
      user: this.consentIdentity(user),
      scopes: (authorization.scope ?? '').split(/[\s,]+/).filter(Boolean),
      action: `${this.authorizePath}/decision`,
      transactionId,
    });
    return this.send(ctx, this.html(200, page));
  }

  /** Error redirect to the client (RFC 6749 §4.1.2.1), with `state` and provider extras. @internal */
  protected errorRedirect(
    authorization: Pick<ValidatedAuthorization, 'redirectUri' | 'state'>,
    error: string,
    description?: string,
    rejected: string = error,
    status = 302,
  ): PreparedResponse {
    const details = this.errorRedirectDetails(error);
    const params = {
      error,
      error_description: description ?? details.error_description,
      error_uri: details.error_uri,
      state: authorization.state,
      iss: this.authorizationResponseIssuer(),
    };
    return { ...this.authorizationResponse(authorization, params, status), rejected };
  }

  /**
   * How an authorization response reaches the client: a redirect with the parameters in the
   * query (RFC 6749 §4.1.2). A provider with `response_mode=form_post` overrides this.
   * @internal
   */
  protected authorizationResponse(
    authorization: Pick<ValidatedAuthorization, 'redirectUri' | 'state'> & { params?: FakeIdpParams },
    params: Record<string, string | undefined>,
    status: number,
    _user?: TUser,
  ): PreparedResponse {
    return this.redirect(withQuery(authorization.redirectUri, params), status);
  }

  private approve(authorization: ValidatedAuthorization, user: TUser, status: number): PreparedResponse {
    const code = this.newCode();
    this.codes.set(code, { authorization, user, expiresAt: Date.now() + this.codeTtlMs, used: false, tokens: [] });
    return this.authorizationResponse(authorization, { code, state: authorization.state, iss: this.authorizationResponseIssuer() }, status, user);
  }

  private async handleDecision(ctx: FakeIdpContext): Promise<void> {
    if (ctx.method !== 'POST') return this.send(ctx, this.notAllowed('POST'));
    const params = ctx.body.kind === 'form' ? ctx.body.params : {};
    const id = duplicatedParams(params).length ? undefined : param(params, 'transaction');
    const pending = id === undefined ? undefined : this.consents.get(id);
    if (id !== undefined) this.consents.delete(id);
    if (!pending || pending.expiresAt < Date.now()) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'This sign-in request has expired or was already answered.', 'unknown_transaction'));
    }
    // 303: the browser follows a POST with a GET to the client's redirect URI.
    switch (param(params, 'decision')) {
      case 'allow':
        return this.send(ctx, this.approve(pending.authorization, pending.user, 303));
      case 'deny':
        return this.send(ctx, { ...this.errorRedirect(pending.authorization, 'access_denied', undefined, 'access_denied', 303), rejected: undefined });
      default:
        return this.send(ctx, this.errorPage(400, 'invalid_request', 'Choose Allow or Deny.', 'invalid_decision'));
    }
  }

  /**
   * Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic` or
   * `client_secret_post`, never both in one request.
   * @internal
   */
  protected authenticateClient(
    ctx: FakeIdpContext,
    params: FakeIdpParams,
  ): { ok: true } | { ok: false; error: 'invalid_client' | 'invalid_request'; description: string; viaBasic: boolean } {
    const basic = parseBasicAuth(ctx.req.headers.authorization);
    const postId = param(params, 'client_id');
    const postSecret = param(params, 'client_secret');
    if (basic === 'malformed') return { ok: false, error: 'invalid_client', description: 'Malformed Basic credentials.', viaBasic: true };
    if (basic !== 'absent') {
      if (postSecret) {
        return { ok: false, error: 'invalid_request', description: 'Use one client authentication method only.', viaBasic: true };
      }
      const ok = (!postId || postId === basic.id) && safeEqual(basic.id, this.clientId) && safeEqual(basic.secret, this.clientSecret);
      return ok ? { ok: true } : { ok: false, error: 'invalid_client', description: 'Unauthorized client.', viaBasic: true };
    }
    const ok = !!postId && !!postSecret && safeEqual(postId, this.clientId) && safeEqual(postSecret, this.clientSecret);
    return ok ? { ok: true } : { ok: false, error: 'invalid_client', description: 'Unauthorized client.', viaBasic: false };
  }

  /**
   * Redeems a code: single use (a replay also revokes what the first use issued, RFC 6749
   * §4.1.2), bound to the redirect URI, not expired, and PKCE S256 verified. (The client binding
   * holds because the fake knows one client and the caller authenticated it.)
   * Any attempt consumes the code, so a wrong verifier cannot be retried.
   * @internal
   */
  protected redeemCode(
    code: string,
    redirectUri: string | undefined,
    codeVerifier: string | undefined,
  ): { ok: true; grant: IssuedCode<TUser> } | { ok: false; reason: CodeRejection } {
    const grant = this.codes.get(code);
    if (!grant) return { ok: false, reason: 'unknown_code' };
    if (grant.used) {
      for (const token of grant.tokens) this.revokeToken(token);
      return { ok: false, reason: 'code_reused' };
    }
    grant.used = true;
    const { authorization } = grant;
    if (grant.expiresAt < Date.now()) return { ok: false, reason: 'code_expired' };
    if (redirectUri !== undefined && redirectUri !== authorization.redirectUri) return { ok: false, reason: 'redirect_uri_mismatch' };
    if (authorization.codeChallenge === undefined) {
      if (codeVerifier !== undefined) return { ok: false, reason: 'pkce_downgrade' };
    } else if (!verifyS256(codeVerifier, authorization.codeChallenge)) {
      return { ok: false, reason: 'pkce_mismatch' };
    }
    return { ok: true, grant };
  }

  /** Forgets a token issued by this fake (access or refresh). @internal */
  protected revokeToken(token: string): void {
    this.accessTokens.delete(token);
  }

  /**
   * The access token of a resource request, from the `Authorization` header only
   * (RFC 6750 §2.1). Tokens in the query or a form body are refused and recorded.
   * @internal
   */
  protected bearerToken(
    ctx: FakeIdpContext,
    schemes: RegExp,
  ): { token: string; grant: IssuedAccessToken<TUser> } | { rejected: 'token_in_query' | 'token_in_body' | 'missing_token' | 'invalid_token' } {
    if (ctx.query.access_token !== undefined) return { rejected: 'token_in_query' };
    if (ctx.body.kind === 'form' && ctx.body.params.access_token !== undefined) return { rejected: 'token_in_body' };
    const match = /^(\S+)\s+(\S+)\s*$/.exec(ctx.req.headers.authorization ?? '');
    if (!match || !schemes.test(match[1])) return { rejected: 'missing_token' };
    const grant = this.accessTokens.get(match[2]);
    if (!grant || (grant.expiresAt !== undefined && grant.expiresAt < Date.now())) return { rejected: 'invalid_token' };
    return { token: match[2], grant };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
