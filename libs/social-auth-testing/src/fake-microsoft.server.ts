import { createHash } from 'node:crypto';
import type { ConsentPageInput } from './consent-page';
import { applyPatch, duplicatedParams, param, parseRedirectUri } from './fake-idp.http';
import { FakeKeySet } from './fake-idp.keys';
import { FakeIdpServer, randomToken, type FakeIdpContext, type PreparedResponse } from './fake-idp.server';
import type { FakeClaimsPatch, FakeEndpointBehavior, FakeIdpBaseScenario, FakeIdpParams, FakeIdpStartOptions, FakeIdTokenSigning } from './fake-idp.types';
import { isValidS256Challenge } from './pkce';

/**
 * Default issuer template of {@link FakeMicrosoft}: `{tenantid}` is replaced by each token's `tid`,
 * as in Microsoft's multi-tenant discovery documents. Port-independent (see `FAKE_GOOGLE_ISSUER`).
 * @publicApi
 */
export const FAKE_MICROSOFT_ISSUER_TEMPLATE = 'https://fake-microsoft.test/{tenantid}/v2.0';

/**
 * Tenant ids the fake's scripted users live in. `consumers` is Microsoft's real tenant id of
 * personal accounts (the module recognises it for `tenant: 'organizations' | 'consumers'`).
 * @publicApi
 */
export const FAKE_MICROSOFT_TENANTS = Object.freeze({
  contoso: 'c0175050-0000-4000-8000-00000000c050',
  fabrikam: 'fab81ca0-0000-4000-8000-00000000fab8',
  consumers: '9188040d-6c67-4c5b-b112-36a304b66dad',
});

/**
 * A scripted Microsoft account: its tenant and object id, and the claims the fake puts in its
 * ID tokens (emitted as given, so `xms_edov: 'true'` reaches the client as a string).
 * @publicApi
 */
export interface FakeMicrosoftUser {
  /** Tenant id (`tid`). */
  tid: string;
  /** Object id in the tenant (`oid`). */
  oid: string;
  /** Display name (`profile` scope). */
  name?: string;
  /** Sign-in name (`profile` scope); not an email, not verified. */
  preferred_username?: string;
  /** `email` scope; set by the tenant, not verified by Microsoft. */
  email?: string;
  /** Optional claim "email domain owner verified". */
  xms_edov?: boolean | string;
}

/**
 * Per-test knobs of {@link FakeMicrosoft}. `reset()` restores these defaults (everything off).
 * @publicApi
 */
export interface FakeMicrosoftScenario extends FakeIdpBaseScenario {
  /** The ID token of the token response (see `FakeGoogleScenario.idToken`). */
  idToken: { claims?: FakeClaimsPatch; header?: FakeClaimsPatch; signing?: FakeIdTokenSigning; omit?: boolean };
  /** `POST /{tenant}/oauth2/v2.0/token`; `fields` is merged over a successful body. */
  token: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** `GET /{tenant}/discovery/v2.0/keys`. */
  jwks: FakeEndpointBehavior;
  /** `GET /{tenant}/v2.0/.well-known/openid-configuration`; `fields` is merged over the document. */
  discovery: FakeEndpointBehavior & { fields?: FakeClaimsPatch };
  /** Shifts `iat`/`nbf`/`exp` of ID tokens by this many seconds. */
  clockSkewSec?: number;
}

/**
 * Options of {@link FakeMicrosoft.start}.
 * @publicApi
 */
export interface FakeMicrosoftStartOptions extends FakeIdpStartOptions {
  /** @default FAKE_MICROSOFT_ISSUER_TEMPLATE */
  issuerTemplate?: string;
}

/**
 * The `providers.microsoft` options of `AuthModule` that point the module at a {@link FakeMicrosoft}.
 * @publicApi
 */
export interface FakeMicrosoftProviderOptions {
  clientId: string;
  clientSecret: string;
  tenant: string;
  issuerTemplate: string;
  authorizationURL: string;
  tokenURL: string;
  jwksURL: string;
  discoveryURL: string;
}

/**
 * Scripted Microsoft accounts (factories returning fresh copies).
 *
 * | name | what it exercises |
 * |---|---|
 * | `adele` | contoso work account, `email` with `xms_edov: true` (the default signed-in user) |
 * | `megan` | fabrikam work account whose tenant set `email` to `alice@example.com`, no `xms_edov` (nOAuth) |
 * | `pat` | personal account (consumers tenant), `xms_edov: "false"` as a string |
 * @publicApi
 */
export const microsoftUsers = Object.freeze({
  adele: (o: Partial<FakeMicrosoftUser> = {}): FakeMicrosoftUser => ({
    tid: FAKE_MICROSOFT_TENANTS.contoso,
    oid: 'ade1e000-0000-4000-8000-00000000ade1',
    name: 'Adele Vance',
    preferred_username: 'adele@contoso.example',
    email: 'adele@contoso.example',
    xms_edov: true,
    ...o,
  }),
  megan: (o: Partial<FakeMicrosoftUser> = {}): FakeMicrosoftUser => ({
    tid: FAKE_MICROSOFT_TENANTS.fabrikam,
    oid: '3e9a0000-0000-4000-8000-000000003e9a',
    name: 'Megan Bowen',
    preferred_username: 'megan@fabrikam.example',
    email: 'alice@example.com',
    ...o,
  }),
  pat: (o: Partial<FakeMicrosoftUser> = {}): FakeMicrosoftUser => ({
    tid: FAKE_MICROSOFT_TENANTS.consumers,
    oid: '00000000-0000-0000-9a70-000000009a70',
    name: 'Pat Personal',
    preferred_username: 'pat@outlook.example',
    email: 'pat@outlook.example',
    xms_edov: 'false',
    ...o,
  }),
});

const ID_TOKEN_TTL_SEC = 3600;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const ROUTE = /^\/([^/]+)\/(oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys|v2\.0\/\.well-known\/openid-configuration)$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An in-process Microsoft identity platform (v2.0) shaped like login.microsoftonline.com: one
 * server for every tenant (`/{tenant}/oauth2/v2.0/…` with `common`, `organizations`, `consumers`
 * or a tenant id), a multi-tenant discovery document whose `issuer` is a `{tenantid}` template,
 * and ID tokens whose `iss` is that template filled with the user's `tid`. PKCE S256, nonce, no
 * RFC 9207 `iss`. Never logs.
 * @example
 * const microsoft = await FakeMicrosoft.start();
 * microsoft.signInAs(microsoftUsers.megan());
 * @publicApi
 */
export class FakeMicrosoft extends FakeIdpServer<FakeMicrosoftUser, FakeMicrosoftScenario> {
  /** @internal */ protected readonly providerName = 'Fake Microsoft';
  /** @internal */ protected readonly authorizePath = '/oauth2/v2.0/authorize';
  /** Issuer template (`{tenantid}` placeholder). */
  readonly issuerTemplate: string;
  private keys!: FakeKeySet;

  private constructor(options: FakeMicrosoftStartOptions) {
    super(options, { clientId: 'fake-microsoft-client', clientSecret: 'fake-microsoft-secret', codeTtlSec: 600 });
    this.issuerTemplate = options.issuerTemplate ?? FAKE_MICROSOFT_ISSUER_TEMPLATE;
  }

  /** Generates the keys and listens on 127.0.0.1. */
  static async start(options: FakeMicrosoftStartOptions = {}): Promise<FakeMicrosoft> {
    const fake = new FakeMicrosoft(options);
    fake.keys = await FakeKeySet.create();
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** The issuer of one tenant: the template filled with `tid`. */
  issuerFor(tid: string): string {
    return this.issuerTemplate.split('{tenantid}').join(tid);
  }

  /**
   * `providers.microsoft` of `AuthModule` for this fake, for one tenant segment.
   * @default tenant 'common'
   */
  providerOptions(tenant = 'common'): FakeMicrosoftProviderOptions {
    return {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      tenant,
      issuerTemplate: this.issuerTemplate,
      authorizationURL: `${this.url}/${tenant}/oauth2/v2.0/authorize`,
      tokenURL: `${this.url}/${tenant}/oauth2/v2.0/token`,
      jwksURL: `${this.url}/${tenant}/discovery/v2.0/keys`,
      discoveryURL: `${this.url}/${tenant}/v2.0/.well-known/openid-configuration`,
    };
  }

  /** `kid` of the current signing key. */
  get currentKid(): string {
    return this.keys.current.kid;
  }

  /** @internal */
  protected createScenario(): FakeMicrosoftScenario {
    return { idToken: {}, token: {}, jwks: {}, discovery: {} };
  }

  /** @internal */
  protected createDefaultUser(): FakeMicrosoftUser {
    return microsoftUsers.adele();
  }

  /** @internal */
  protected consentIdentity(user: FakeMicrosoftUser): ConsentPageInput['user'] {
    return { name: user.name, email: user.preferred_username };
  }

  /** Microsoft's codes are long opaque strings. @internal */
  protected override newCode(): string {
    return `M.C5${randomToken(48)}`;
  }

  /** @internal */
  protected async route(ctx: FakeIdpContext): Promise<void> {
    const match = ROUTE.exec(ctx.path);
    const tenant = match?.[1];
    if (!match || !tenant || !(tenant === 'common' || tenant === 'organizations' || tenant === 'consumers' || GUID.test(tenant))) {
      return this.send(ctx, this.json(404, { error: 'not_found' }, undefined, 'not_found'));
    }
    const { method } = ctx;
    switch (match[2]) {
      case 'v2.0/.well-known/openid-configuration':
        return method === 'GET' ? this.discovery(ctx, tenant) : this.send(ctx, this.notAllowed('GET'));
      case 'oauth2/v2.0/authorize':
        return method === 'GET' ? this.authorize(ctx) : this.send(ctx, this.notAllowed('GET'));
      case 'oauth2/v2.0/token':
        return this.send(ctx, await this.tokenAnswer(ctx), this.scenario.token);
      default:
        return this.send(ctx, method === 'GET' ? this.json(200, this.keys.jwks(false)) : this.notAllowed('GET'), this.scenario.jwks);
    }
  }

  private discovery(ctx: FakeIdpContext, tenant: string): Promise<void> {
    const issuer = tenant === 'consumers' ? this.issuerFor(FAKE_MICROSOFT_TENANTS.consumers) : GUID.test(tenant) ? this.issuerFor(tenant) : this.issuerTemplate;
    const base = `${this.url}/${tenant}`;
    const document = {
      issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'oid', 'name', 'preferred_username', 'email', 'ver'],
      code_challenge_methods_supported: ['plain', 'S256'],
      tenant_region_scope: null,
    };
    return this.send(ctx, this.json(200, applyPatch(document, this.scenario.discovery?.fields)), this.scenario.discovery);
  }

  private authorize(ctx: FakeIdpContext): Promise<void> {
    const params: FakeIdpParams = ctx.query;
    if (duplicatedParams(params, ['client_id', 'redirect_uri']).length) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'client_id and redirect_uri must be sent once.', 'duplicate_parameter'));
    }
    const clientId = param(params, 'client_id');
    if (clientId !== this.clientId) return this.send(ctx, this.errorPage(400, 'unauthorized_client', 'AADSTS700016: Application not found.', 'invalid_client'));
    const redirectUri = param(params, 'redirect_uri');
    if (!redirectUri || !parseRedirectUri(redirectUri)) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'AADSTS90102: redirect_uri is not valid.', 'redirect_uri_invalid'));
    }
    const allowed = this.scenario.allowedRedirectUris;
    if (allowed && !allowed.includes(redirectUri)) {
      return this.send(ctx, this.errorPage(400, 'invalid_request', 'AADSTS50011: The redirect URI does not match the ones configured.', 'redirect_uri_mismatch'));
    }
    const authorization = this.acceptAuthorization(params, clientId, redirectUri);
    const fail = (error: string, description: string, rejected?: string) => this.send(ctx, this.errorRedirect(authorization, error, description, rejected));
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return fail('invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter');
    if (param(params, 'response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported here.');
    const responseMode = param(params, 'response_mode');
    if (responseMode && responseMode !== 'query') return fail('invalid_request', 'Only response_mode=query is supported here.');
    if (!authorization.scope) return fail('invalid_request', 'AADSTS900144: scope is required.', 'scope_missing');
    const pkceError = this.checkPkceRequest(authorization, isValidS256Challenge);
    if (pkceError) return this.send(ctx, pkceError);
    return this.answerAuthorization(ctx, authorization);
  }

  private async tokenAnswer(ctx: FakeIdpContext): Promise<PreparedResponse> {
    if (ctx.method !== 'POST') return this.notAllowed('POST');
    if (ctx.body.kind !== 'form') return this.oauthError(400, 'invalid_request', 'AADSTS900144: form body required.', 'not_form_encoded');
    const { params } = ctx.body;
    const duplicated = duplicatedParams(params);
    if (duplicated.length) return this.oauthError(400, 'invalid_request', `Parameters sent more than once: ${duplicated.join(', ')}.`, 'duplicate_parameter');
    const client = this.authenticateClient(ctx, params);
    if (!client.ok) return this.oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.', client.error);
    if (param(params, 'grant_type') !== 'authorization_code') return this.oauthError(400, 'unsupported_grant_type', 'AADSTS70003: unsupported grant type.');
    const code = param(params, 'code');
    if (!code) return this.oauthError(400, 'invalid_request', 'AADSTS900144: code is required.');
    const result = this.redeemCode(code, param(params, 'redirect_uri'), param(params, 'code_verifier'));
    if (!result.ok) return this.oauthError(400, 'invalid_grant', 'AADSTS70008: The provided authorization code is invalid or has expired.', result.reason);
    const { authorization, user } = result.grant;
    const scope = authorization.scope ?? '';
    const accessToken = `eyJ0eXAi.${randomToken(48)}`;
    result.grant.tokens.push(accessToken);
    const body: Record<string, unknown> = { token_type: 'Bearer', scope, expires_in: 3599, ext_expires_in: 3599, access_token: accessToken };
    const knobs = this.scenario.idToken;
    if (scope.split(' ').includes('openid') && !knobs.omit) {
      const claims = this.idTokenClaims(user, scope, authorization.nonce);
      body.id_token = await this.keys.signJwt(applyPatch(claims, knobs.claims), knobs.signing ?? 'valid', (h) => applyPatch(h, knobs.header));
    }
    return this.json(200, applyPatch(body, this.scenario.token?.fields), NO_STORE);
  }

  private idTokenClaims(user: FakeMicrosoftUser, scope: string, nonce: string | undefined): Record<string, unknown> {
    const scopes = scope.split(' ');
    const now = Math.floor(Date.now() / 1000) + (this.scenario.clockSkewSec ?? 0);
    // `sub` is pairwise: per user and per application, as at Microsoft.
    const sub = createHash('sha256').update(`${this.clientId}|${user.tid}|${user.oid}`).digest('base64url').slice(0, 43);
    const claims: Record<string, unknown> = { ver: '2.0', iss: this.issuerFor(user.tid), sub, aud: this.clientId, exp: now + ID_TOKEN_TTL_SEC, iat: now, nbf: now, tid: user.tid };
    if (nonce !== undefined) claims.nonce = nonce;
    if (scopes.includes('profile')) Object.assign(claims, { oid: user.oid, name: user.name, preferred_username: user.preferred_username });
    if (scopes.includes('email') && user.email !== undefined) claims.email = user.email;
    if (user.xms_edov !== undefined) claims.xms_edov = user.xms_edov;
    return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  }
}
