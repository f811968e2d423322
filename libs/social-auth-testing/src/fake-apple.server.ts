import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { escapeHtml, type ConsentPageInput } from './consent-page';
import { applyPatch, duplicatedParams, param, parseRedirectUri } from './fake-idp.http';
import { FakeKeySet } from './fake-idp.keys';
import { FakeIdpServer, randomToken, type FakeIdpContext, type PreparedResponse, type ValidatedAuthorization } from './fake-idp.server';
import type { FakeClaimsPatch, FakeEndpointBehavior, FakeIdpBaseScenario, FakeIdpParams, FakeIdpStartOptions, FakeIdTokenSigning } from './fake-idp.types';
import { isValidS256Challenge } from './pkce';

/** Default issuer of {@link FakeApple} (port-independent, see `FAKE_GOOGLE_ISSUER`). @publicApi */
export const FAKE_APPLE_ISSUER = 'https://fake-apple.test';

/**
 * A scripted Apple account. Fields are emitted as given: Apple sends `email_verified` and
 * `is_private_email` as strings (`"true"`), and the name only in the first authorization's `user`.
 * @publicApi
 */
export interface FakeAppleUser {
  /** Stable subject (Apple: per user and team, e.g. `001234.abcd….0123`). */
  sub: string;
  /** The real address, or a private relay (`…@privaterelay.appleid.com`). */
  email?: string;
  email_verified?: boolean | string;
  is_private_email?: boolean | string;
  /** Posted in `user.name` on the first authorization only. */
  firstName?: string;
  lastName?: string;
}

/**
 * Scripted Apple accounts (factories returning fresh copies).
 *
 * | name | what it exercises |
 * |---|---|
 * | `jane` | real address, `email_verified: "true"`, `is_private_email: "false"` (strings; the default user) |
 * | `relay` | Hide My Email: a private-relay address, `is_private_email: "true"` |
 * | `unverified` | `email_verified: "false"` as a string |
 * @publicApi
 */
export const appleUsers = Object.freeze({
  jane: (o: Partial<FakeAppleUser> = {}): FakeAppleUser => ({
    sub: '001234.0a1b2c3d4e5f60718293a4b5c6d7e8f9.0101',
    email: 'jane@example.com',
    email_verified: 'true',
    is_private_email: 'false',
    firstName: 'Jane',
    lastName: 'Appleseed',
    ...o,
  }),
  relay: (o: Partial<FakeAppleUser> = {}): FakeAppleUser => ({
    sub: '001234.ffeeddccbbaa99887766554433221100.0202',
    email: 'x7k2p9q4rt@privaterelay.appleid.com',
    email_verified: 'true',
    is_private_email: 'true',
    firstName: 'Riley',
    lastName: 'Relay',
    ...o,
  }),
  unverified: (o: Partial<FakeAppleUser> = {}): FakeAppleUser => ({
    sub: '001234.00000000000000000000000000000303.0303',
    email: 'unverified@example.com',
    email_verified: 'false',
    is_private_email: 'false',
    firstName: 'Una',
    ...o,
  }),
});

/**
 * Per-test knobs of {@link FakeApple}. `reset()` restores these defaults (everything off).
 * @publicApi
 */
export interface FakeAppleScenario extends FakeIdpBaseScenario {
  /** The ID token of the token response (see `FakeGoogleScenario.idToken`). */
  idToken: { claims?: FakeClaimsPatch; header?: FakeClaimsPatch; signing?: FakeIdTokenSigning; omit?: boolean };
  /** `POST /auth/token`; `fields` is merged over a successful body. */
  token: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** `GET /auth/keys`. */
  jwks: FakeEndpointBehavior;
  /** Shifts `iat`/`exp` of ID tokens by this many seconds. */
  clockSkewSec?: number;
}

/** Options of {@link FakeApple.start}. @publicApi */
export interface FakeAppleStartOptions extends FakeIdpStartOptions {
  /** @default FAKE_APPLE_ISSUER */
  issuer?: string;
  /** The team id the client secret must be issued by. @default 'FAKETEAM01' */
  teamId?: string;
  /** The key id of the team's Sign in with Apple key. @default 'FAKEKEY001' */
  keyId?: string;
}

/** The `providers.apple` options of `AuthModule` that point the module at a {@link FakeApple}. @publicApi */
export interface FakeAppleProviderOptions {
  clientId: string;
  teamId: string;
  keyId: string;
  /** PKCS#8 PEM of the team key the fake generated (the public half checks client secrets). */
  privateKey: string;
  issuer: string;
  authorizationURL: string;
  tokenURL: string;
  jwksURL: string;
}

const ID_TOKEN_TTL_SEC = 600;
const MAX_CLIENT_SECRET_TTL = 15_777_000;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const SUBMIT_SCRIPT = 'document.forms[0].submit();';
const FORM_POST_CSP = `default-src 'none'; script-src 'sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}'; base-uri 'none'; frame-ancestors 'none'`;

/**
 * An in-process Sign in with Apple, shaped like appleid.apple.com: authorize with
 * `response_mode=form_post` (an auto-submitting page that POSTs `code`, `state` and, on a user's
 * first authorization only, the `user` JSON to the client), a token endpoint that checks the
 * client secret is an ES256 JWT signed by the team key (`kid`, `iss`, `sub`, `aud`, `exp` at most
 * six months), a JWKS, ID tokens with string booleans. PKCE S256 and nonce checked. Never logs.
 * @example
 * const apple = await FakeApple.start();
 * AuthModule.forRoot({ …, providers: { apple: apple.providerOptions() } });
 * @publicApi
 */
export class FakeApple extends FakeIdpServer<FakeAppleUser, FakeAppleScenario> {
  /** @internal */ protected readonly providerName = 'Fake Apple';
  /** @internal */ protected readonly authorizePath = '/auth/authorize';
  readonly issuer: string;
  readonly teamId: string;
  readonly keyId: string;
  private keys!: FakeKeySet;
  private teamPrivatePem!: string;
  private teamPublicKey!: KeyObject;
  /** Subjects that already authorized this client: Apple posts `user` only the first time. */
  private readonly authorized = new Set<string>();

  private constructor(options: FakeAppleStartOptions) {
    super(options, { clientId: 'com.example.fake-apple', clientSecret: '(an ES256 JWT made by the client)', codeTtlSec: 300 });
    this.issuer = options.issuer ?? FAKE_APPLE_ISSUER;
    this.teamId = options.teamId ?? 'FAKETEAM01';
    this.keyId = options.keyId ?? 'FAKEKEY001';
  }

  /** Generates the ID-token keys and the team's P-256 key, and listens on 127.0.0.1. */
  static async start(options: FakeAppleStartOptions = {}): Promise<FakeApple> {
    const fake = new FakeApple(options);
    fake.keys = await FakeKeySet.create();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fake.teamPrivatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    fake.teamPublicKey = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }));
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** `providers.apple` of `AuthModule` for this fake. */
  providerOptions(): FakeAppleProviderOptions {
    return {
      clientId: this.clientId,
      teamId: this.teamId,
      keyId: this.keyId,
      privateKey: this.teamPrivatePem,
      issuer: this.issuer,
      authorizationURL: `${this.url}/auth/authorize`,
      tokenURL: `${this.url}/auth/token`,
      jwksURL: `${this.url}/auth/keys`,
    };
  }

  /** Forgets that `sub` authorized before: its next authorization posts `user` again. */
  forgetAuthorization(sub: string): void {
    this.authorized.delete(sub);
  }

  /** @internal */
  protected createScenario(): FakeAppleScenario {
    return { idToken: {}, token: {}, jwks: {} };
  }

  /** @internal */
  protected createDefaultUser(): FakeAppleUser {
    return appleUsers.jane();
  }

  /** @internal */
  protected consentIdentity(user: FakeAppleUser): ConsentPageInput['user'] {
    return { name: [user.firstName, user.lastName].filter(Boolean).join(' ') || null, email: user.email };
  }

  /** @internal */
  protected override onReset(): void {
    this.authorized.clear();
  }

  /** Apple's codes: `c` + hex + `.0.` + more. @internal */
  protected override newCode(): string {
    return `c${randomToken(24)}.0.mrqx.${randomToken(12)}`;
  }

  /**
   * `response_mode=form_post`: a page whose form POSTs the parameters to the redirect URI (what
   * Apple's page does); `user` is added on the subject's first authorization. @internal
   */
  protected override authorizationResponse(
    authorization: Pick<ValidatedAuthorization, 'redirectUri' | 'state'> & { params?: FakeIdpParams },
    params: Record<string, string | undefined>,
    status: number,
    user?: FakeAppleUser,
  ): PreparedResponse {
    const mode = authorization.params ? param(authorization.params, 'response_mode') : undefined;
    if (mode !== 'form_post') return super.authorizationResponse(authorization, params, status, user);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && k !== 'iss' && k !== 'error_description' && k !== 'error_uri') fields[k] = v;
    const scopes = (authorization.params && param(authorization.params, 'scope')?.split(' ')) ?? [];
    if (user && params.code && !this.authorized.has(user.sub)) {
      this.authorized.add(user.sub);
      const posted: Record<string, unknown> = {};
      if (scopes.includes('name')) posted.name = { firstName: user.firstName, lastName: user.lastName };
      if (scopes.includes('email') && user.email) posted.email = user.email;
      if (Object.keys(posted).length) fields.user = JSON.stringify(posted);
    }
    const inputs = Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('');
    const html =
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Fake Apple</title></head><body>' +
      `<form method="post" action="${escapeHtml(authorization.redirectUri)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form>` +
      `<script>${SUBMIT_SCRIPT}</script></body></html>\n`;
    return {
      status: 200,
      body: html,
      contentType: 'text/html; charset=utf-8',
      headers: { 'Content-Security-Policy': FORM_POST_CSP, 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' },
    };
  }

  /** @internal */
  protected async route(ctx: FakeIdpContext): Promise<void> {
    const { method } = ctx;
    switch (ctx.path) {
      case '/auth/authorize':
        return method === 'GET' ? this.authorize(ctx) : this.send(ctx, this.notAllowed('GET'));
      case '/auth/token':
        return this.send(ctx, await this.tokenAnswer(ctx), this.scenario.token);
      case '/auth/keys':
        return this.send(ctx, method === 'GET' ? this.json(200, this.keys.jwks(false)) : this.notAllowed('GET'), this.scenario.jwks);
      default:
        return this.send(ctx, this.json(404, { error: 'not_found' }, undefined, 'not_found'));
    }
  }

  private authorize(ctx: FakeIdpContext): Promise<void> {
    const params = ctx.query;
    if (duplicatedParams(params, ['client_id', 'redirect_uri']).length) return this.send(ctx, this.errorPage(400, 'invalid_request', 'client_id and redirect_uri must be sent once.', 'duplicate_parameter'));
    const clientId = param(params, 'client_id');
    if (clientId !== this.clientId) return this.send(ctx, this.errorPage(400, 'invalid_client', 'Invalid client id or web redirect url.'));
    const redirectUri = param(params, 'redirect_uri');
    if (!redirectUri || !parseRedirectUri(redirectUri)) return this.send(ctx, this.errorPage(400, 'invalid_request', 'Invalid web redirect url.', 'redirect_uri_invalid'));
    const allowed = this.scenario.allowedRedirectUris;
    if (allowed && !allowed.includes(redirectUri)) return this.send(ctx, this.errorPage(400, 'invalid_request', 'Invalid web redirect url.', 'redirect_uri_mismatch'));
    const authorization = this.acceptAuthorization(params, clientId, redirectUri);
    const fail = (error: string, description: string, rejected?: string) => this.send(ctx, this.errorRedirect(authorization, error, description, rejected));
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return fail('invalid_request', 'Parameters sent more than once.', 'duplicate_parameter');
    if (param(params, 'response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code here.');
    const scope = param(params, 'scope');
    // Apple: requesting name or email requires form_post.
    if (scope && param(params, 'response_mode') !== 'form_post') return fail('invalid_request', 'response_mode must be form_post when name or email scope is requested.', 'form_post_required');
    const pkceError = this.checkPkceRequest(authorization, isValidS256Challenge);
    if (pkceError) return this.send(ctx, pkceError);
    return this.answerAuthorization(ctx, authorization);
  }

  private async tokenAnswer(ctx: FakeIdpContext): Promise<PreparedResponse> {
    if (ctx.method !== 'POST') return this.notAllowed('POST');
    if (ctx.body.kind !== 'form') return this.oauthError(400, 'invalid_request', undefined, 'not_form_encoded');
    const { params } = ctx.body;
    if (duplicatedParams(params).length) return this.oauthError(400, 'invalid_request', undefined, 'duplicate_parameter');
    const secretProblem = this.checkClientSecret(param(params, 'client_id'), param(params, 'client_secret'));
    if (secretProblem) return this.oauthError(400, 'invalid_client', undefined, secretProblem);
    if (param(params, 'grant_type') !== 'authorization_code') return this.oauthError(400, 'unsupported_grant_type');
    const code = param(params, 'code');
    if (!code) return this.oauthError(400, 'invalid_request');
    const result = this.redeemCode(code, param(params, 'redirect_uri'), param(params, 'code_verifier'));
    if (!result.ok) return this.oauthError(400, 'invalid_grant', undefined, result.reason);
    const { authorization, user } = result.grant;
    const accessToken = `a${randomToken(32)}.0.mrqx.${randomToken(12)}`;
    result.grant.tokens.push(accessToken);
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: `r${randomToken(32)}.0.mrqx.${randomToken(12)}` };
    const knobs = this.scenario.idToken;
    if (!knobs.omit) {
      const claims = this.idTokenClaims(user, authorization);
      body.id_token = await this.keys.signJwt(applyPatch(claims, knobs.claims), knobs.signing ?? 'valid', (h) => applyPatch(h, knobs.header));
    }
    return this.json(200, applyPatch(body, this.scenario.token?.fields), NO_STORE);
  }

  /** Why the client secret is refused (the request log's `rejected`), or undefined when it is sound. */
  private checkClientSecret(clientId: string | undefined, secret: string | undefined): string | undefined {
    if (clientId !== this.clientId) return 'invalid_client';
    const parts = secret?.split('.');
    if (!parts || parts.length !== 3) return 'client_secret_malformed';
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return 'client_secret_malformed';
    }
    if (header.alg !== 'ES256' || header.kid !== this.keyId) return 'client_secret_header';
    const signed = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.teamPublicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!signed) return 'client_secret_signature';
    const now = Math.floor(Date.now() / 1000);
    const { iss, sub, aud, iat, exp } = payload;
    if (iss !== this.teamId || sub !== this.clientId || aud !== this.issuer) return 'client_secret_claims';
    if (typeof iat !== 'number' || typeof exp !== 'number' || iat > now + 60 || exp <= now || exp - iat > MAX_CLIENT_SECRET_TTL) return 'client_secret_expired';
    return undefined;
  }

  private idTokenClaims(user: FakeAppleUser, authorization: ValidatedAuthorization): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000) + (this.scenario.clockSkewSec ?? 0);
    const scopes = (authorization.scope ?? '').split(' ');
    const claims: Record<string, unknown> = { iss: this.issuer, aud: this.clientId, exp: now + ID_TOKEN_TTL_SEC, iat: now, sub: user.sub, auth_time: now, real_user_status: 2 };
    if (authorization.nonce !== undefined) Object.assign(claims, { nonce: authorization.nonce, nonce_supported: true });
    if (scopes.includes('email') && user.email !== undefined) Object.assign(claims, { email: user.email, email_verified: user.email_verified, is_private_email: user.is_private_email });
    return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  }
}
