import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign as signWithKey, type KeyObject } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';
import Provider from 'oidc-provider';
import { CookieJar } from '../../support/oauth-driver';
import request from 'supertest';

/** The account the OP signs in next (auto-approved). */
export interface OpAccount {
  sub: string;
  email?: string;
  email_verified?: boolean | string;
  name?: string;
}

/** A signing key the harness holds (the OP's own, or an attacker's). */
export interface HeldKey {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

/** Per-test mutation of the ID token the OP's token endpoint returns (re-signed by the harness). */
export interface IdTokenScenario {
  /** Changes claims; return the new set. */
  claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** Changes the protected header (e.g. another `kid`, `jku`). */
  header?: (header: Record<string, unknown>) => Record<string, unknown>;
  /** Sign with this key instead of the OP's current key. */
  key?: HeldKey;
  /** Produce the raw compact token yourself (alg none, HS256 with the public key, …). */
  raw?: (claims: Record<string, unknown>, header: Record<string, unknown>) => Promise<string> | string;
}

export interface OpOptions {
  /** Client registrations: `redirect_uris` must be the app's callback URLs. */
  clients: Array<{ client_id: string; client_secret: string; redirect_uris: string[] }>;
  /** Path under the origin the issuer lives at (Keycloak-like `/realms/main`). */
  issuerPath?: string;
}

/**
 * A certified OpenID provider (`oidc-provider` 9) run in-process on a random loopback port, for
 * the generic-OIDC e2e suite. It auto-approves the scripted {@link OpAccount}; tests may mutate
 * the discovery document, the JWKS served and the ID token in the token response (re-signed with
 * keys the harness holds), and read a log of every request path.
 */
export class OidcOp {
  readonly provider: Provider;
  readonly issuer: string;
  readonly log: Array<{ method: string; path: string }> = [];
  account: OpAccount = { sub: 'user-1', email: 'user-1@example.test', email_verified: true, name: 'User One' };
  idToken?: IdTokenScenario;
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** Replaces the token endpoint's JSON answer (after the ID token scenario ran). */
  tokenResponse?: (body: Record<string, unknown>) => unknown;
  /** The last ID token the token endpoint returned (for replays). */
  lastIdToken?: string;
  /** Keys served in addition to the OP's own (rotation, attacker keys are NOT added here). */
  readonly extraKeys: HeldKey[] = [];
  /** Signs every ID token with this key (after a rotation). */
  signingKey: HeldKey;
  private readonly ownKey: HeldKey;

  private constructor(
    private readonly server: Server,
    issuer: string,
    ownKey: HeldKey,
    options: OpOptions,
  ) {
    this.issuer = issuer;
    this.ownKey = ownKey;
    this.signingKey = ownKey;
    const privateJwk = (ownKey as HeldKey & { privateJwk: JWK }).privateJwk;
    this.provider = new Provider(issuer, {
      clients: options.clients.map((c) => ({ ...c, token_endpoint_auth_method: 'client_secret_post', response_types: ['code'], grant_types: ['authorization_code'] })),
      jwks: { keys: [privateJwk] },
      cookies: { keys: ['oidc-op-test-cookie-key-0123456789'] },
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${new URL(issuer).pathname.replace(/\/$/, '')}/interaction/${interaction.uid}` },
      findAccount: (_ctx: unknown, id: string) => ({
        accountId: id,
        claims: () => ({ ...this.account, sub: id }),
      }),
    } as never);
    this.provider.proxy = false;
    this.provider.use(async (ctx, next) => {
      this.log.push({ method: ctx.method, path: ctx.path });
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.path.endsWith('/.well-known/openid-configuration') && this.discovery && body) ctx.body = this.discovery({ ...body });
      if (ctx.path.endsWith('/jwks') && body && Array.isArray(body.keys)) ctx.body = { keys: [...(body.keys as JWK[]), ...this.extraKeys.map((k) => k.publicJwk)] };
      if (ctx.path.endsWith('/token') && ctx.status === 200 && body && typeof body.id_token === 'string') {
        ctx.body = { ...body, id_token: await this.reissue(body.id_token) };
        this.lastIdToken = (ctx.body as { id_token: string }).id_token;
        if (this.tokenResponse) ctx.body = this.tokenResponse({ ...(ctx.body as Record<string, unknown>) });
      }
    });
    const handler = this.provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '').split('?')[0];
      if (path.startsWith(`${new URL(issuer).pathname.replace(/\/$/, '')}/interaction/`)) {
        this.log.push({ method: req.method ?? 'GET', path });
        void this.approve(req, res);
        return;
      }
      // Mounted under the issuer's path (like koa-mount): the OP routes from its root.
      const mount = new URL(issuer).pathname.replace(/\/$/, '');
      if (mount && req.url?.startsWith(mount)) req.url = req.url.slice(mount.length) || '/';
      void handler(req, res);
    });
  }

  /** Starts an OP on a random loopback port. */
  static async start(options: OpOptions): Promise<OidcOp> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const issuer = `http://127.0.0.1:${port}${options.issuerPath ?? ''}`;
    const own = await newKey('op-key-1');
    return new OidcOp(server, issuer, own, options);
  }

  /** A key the OP does not publish (B1), or one to rotate to. */
  static newKey = newKey;

  /** Rotates the OP's signing key: the new key is published and signs every later ID token. */
  async rotate(kid: string): Promise<HeldKey> {
    const key = await newKey(kid);
    this.extraKeys.push(key);
    this.signingKey = key;
    return key;
  }

  /** Requests whose path ends with `suffix`. */
  count(suffix: string): number {
    return this.log.filter((r) => r.path.endsWith(suffix)).length;
  }

  /**
   * Follows an authorize URL through the OP (login + consent auto-approved) and returns the
   * callback URL the OP sends the browser back to. OP cookies stay in an OP-only jar.
   */
  async authorize(authorizeUrl: string): Promise<string> {
    const jar = new CookieJar();
    let url = authorizeUrl;
    for (let hop = 0; hop < 6; hop += 1) {
      const target = new URL(url, this.issuer);
      if (target.origin !== new URL(this.issuer).origin) return target.href;
      const res = await request(target.origin)
        .get(`${target.pathname}${target.search}`)
        .set('Cookie', jar.header(target.pathname))
        .redirects(0)
        .ok(() => true);
      const setCookies = res.headers['set-cookie'] as unknown as string[] | undefined;
      jar.store(setCookies);
      if (res.status !== 302 && res.status !== 303) throw new Error(`OP answered ${res.status} to ${target.pathname}: ${res.text.slice(0, 300)}`);
      url = res.headers.location as string;
    }
    throw new Error('too many OP redirects');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async approve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const details = await this.provider.interactionDetails(req, res);
      const accountId = this.account.sub;
      const grant = new this.provider.Grant({ accountId, clientId: details.params.client_id as string });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await this.provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 500;
      res.end(String((error as Error).message));
    }
  }

  private async reissue(idToken: string): Promise<string> {
    const scenario = this.idToken;
    if (!scenario && this.signingKey === this.ownKey) return idToken;
    let claims = decodeJwt(idToken) as Record<string, unknown>;
    let header = { ...decodeProtectedHeader(idToken) } as Record<string, unknown>;
    const key = scenario?.key ?? this.signingKey;
    header.kid = key.kid;
    if (scenario?.claims) claims = scenario.claims(claims);
    if (scenario?.header) header = scenario.header(header);
    if (scenario?.raw) return scenario.raw(claims, header);
    return new SignJWT(claims).setProtectedHeader(header as never).sign(key.privateKey);
  }
}

async function newKey(kid: string, alg = 'RS256'): Promise<HeldKey & { privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, privateKey, publicJwk, privateJwk };
}

/** Compact JWS over `header` and `claims` signed RSASSA-PKCS1-v1_5 SHA-256, whatever `header.alg` says (or lacks). */
export async function signRaw(header: Record<string, unknown>, claims: Record<string, unknown>, key: HeldKey): Promise<string> {
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = signWithKey('sha256', Buffer.from(input), key.privateKey as KeyObject);
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** base64url of a JSON value. */
export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
