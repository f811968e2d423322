import { Type, plainToInstance } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  ValidationError,
  validateSync,
} from 'class-validator';
import { InvalidAuthOptionsError } from './errors/auth.error';
import { OidcProviderOptions, ResolvedOidcProviderOptions, resolveOidcProviders } from './identity-providers/oidc/oidc.options';
import { MicrosoftProviderOptions, ResolvedMicrosoftOptions, resolveMicrosoftOptions } from './identity-providers/microsoft/microsoft.options';
import { AppleProviderOptions, ResolvedAppleOptions, resolveAppleOptions } from './identity-providers/apple/apple.options';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?::\d+)?(\/[^\s?#]*)?$/i;
const ORIGIN = /^https?:\/\/[^\s/?#]+(?::\d+)?$/i;

/**
 * Google sign-in (OpenID Connect). Every endpoint is overridable so tests and sandboxes
 * can point the module at a local peer.
 * @publicApi
 */
export class GoogleProviderOptions {
  /** OAuth client id. Required. */
  @IsString() @MinLength(1)
  clientId!: string;

  /** OAuth client secret. Required. Never logged. */
  @IsString() @MinLength(1)
  clientSecret!: string;

  /**
   * Expected `iss` of ID tokens, compared as an exact string.
   * @default 'https://accounts.google.com'
   */
  @IsOptional() @Matches(HTTP_URL)
  issuer?: string;

  /** @default 'https://accounts.google.com/o/oauth2/v2/auth' */
  @IsOptional() @Matches(HTTP_URL)
  authorizationURL?: string;

  /** @default 'https://oauth2.googleapis.com/token' */
  @IsOptional() @Matches(HTTP_URL)
  tokenURL?: string;

  /** @default 'https://openidconnect.googleapis.com/v1/userinfo' */
  @IsOptional() @Matches(HTTP_URL)
  userInfoURL?: string;

  /** @default 'https://www.googleapis.com/oauth2/v3/certs' */
  @IsOptional() @Matches(HTTP_URL)
  jwksURL?: string;

  /**
   * Scopes requested. `openid` is always required.
   * @default ['openid', 'email', 'profile']
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true })
  scopes?: string[];

  /**
   * When set, only ID tokens whose verified `hd` claim equals this domain are accepted.
   * @default undefined
   */
  @IsOptional() @IsString() @MinLength(1)
  hostedDomain?: string;

  /**
   * Whether a Google-verified email may link to an existing local account whose email is
   * also verified. Off means such a sign-in is refused with `account_exists`.
   * @default false
   */
  @IsOptional() @IsBoolean()
  trustEmail?: boolean;

  /**
   * Discovery document, checked before each flow (cached per its `max-age`): its `issuer` must
   * equal `issuer`, and `authorization_response_iss_parameter_supported` makes `iss` mandatory.
   * @default `${issuer}/.well-known/openid-configuration`
   */
  @IsOptional() @Matches(HTTP_URL)
  discoveryURL?: string;

  /**
   * Refuse callbacks without RFC 9207 `iss`, even if discovery does not announce it (real Google
   * does not send `iss` today). An `iss` that is present must equal `issuer` either way.
   * @default false
   */
  @IsOptional() @IsBoolean()
  requireIssParameter?: boolean;
}

/**
 * GitHub sign-in (OAuth 2.0 with PKCE). The subject is GitHub's numeric user id, never the login.
 * @publicApi
 */
export class GithubProviderOptions {
  /** OAuth App client id. Required. */
  @IsString() @MinLength(1)
  clientId!: string;

  /** OAuth App client secret. Required. Never logged. */
  @IsString() @MinLength(1)
  clientSecret!: string;

  /** @default 'https://github.com/login/oauth/authorize' */
  @IsOptional() @Matches(HTTP_URL)
  authorizationURL?: string;

  /** @default 'https://github.com/login/oauth/access_token' */
  @IsOptional() @Matches(HTTP_URL)
  tokenURL?: string;

  /**
   * REST API base for `/user` and `/user/emails`.
   * @default 'https://api.github.com'
   */
  @IsOptional() @Matches(HTTP_URL)
  apiURL?: string;

  /**
   * Issuer recorded with every GitHub identity: accounts are keyed on (provider, issuer, subject),
   * so a sign-in whose issuer differs from the stored one is refused with `identity_in_use`. Keep
   * it stable across deployments; set it when `apiURL` changes with the environment (a test fake
   * on a random port) but the accounts must not.
   * @default apiURL (without trailing slash), e.g. 'https://api.github.com'
   */
  @IsOptional() @Matches(HTTP_URL)
  issuer?: string;

  /** @default ['read:user', 'user:email'] */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true })
  scopes?: string[];

  /**
   * Whether GitHub's primary + verified email may link to an existing local account whose
   * email is verified.
   * @default false
   */
  @IsOptional() @IsBoolean()
  trustEmail?: boolean;
}

/** The identity providers to enable. A provider is enabled when its block is present. @publicApi */
export class ProvidersOptions {
  /** @default undefined (Google disabled) */
  @IsOptional() @ValidateNested() @Type(() => GoogleProviderOptions)
  google?: GoogleProviderOptions;

  /** @default undefined (GitHub disabled) */
  @IsOptional() @ValidateNested() @Type(() => GithubProviderOptions)
  github?: GithubProviderOptions;

  /**
   * Generic OpenID Connect providers (Microsoft, GitLab, Keycloak, …), each configured by issuer
   * (discovery) and keyed by its `id`. See `OidcProviderOptions`.
   * @default [] (none)
   */
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => OidcProviderOptions)
  oidc?: OidcProviderOptions[];

  /** Sign in with Microsoft, single- or multi-tenant (docs/microsoft.md). @default undefined (Microsoft disabled) */
  @IsOptional() @ValidateNested() @Type(() => MicrosoftProviderOptions)
  microsoft?: MicrosoftProviderOptions;

  /** Sign in with Apple (docs/apple.md). @default undefined (Apple disabled) */
  @IsOptional() @ValidateNested() @Type(() => AppleProviderOptions)
  apple?: AppleProviderOptions;
}

/**
 * Access tokens (JWT) and refresh tokens.
 * Either `secret` (HS256) or `privateKey` (ES256 PEM, JWKS served) must be set.
 * @publicApi
 */
export class TokenOptions {
  /**
   * HS256 secret, at least 32 characters. Also the root of the keys that encrypt the
   * OAuth transaction cookie when no `privateKey` is given.
   * @default undefined
   */
  @IsOptional() @IsString() @MinLength(32)
  secret?: string;

  /**
   * PKCS#8 PEM of an EC P-256 private key (ES256); when set, access tokens are signed
   * asymmetrically and the public key is served at `/.well-known/jwks.json`.
   * @default undefined
   */
  @IsOptional() @IsString() @Matches(/-----BEGIN PRIVATE KEY-----/)
  privateKey?: string;

  /**
   * Public keys (PEM) or HS256 secrets of previous signing keys that are still accepted
   * during a rotation overlap window.
   * @default []
   */
  @IsOptional() @IsArray() @IsString({ each: true })
  previousKeys?: string[];

  /**
   * `iss` of access tokens.
   * @default appUrl
   */
  @IsOptional() @IsString() @MinLength(1)
  issuer?: string;

  /**
   * `aud` of access tokens.
   * @default appUrl
   */
  @IsOptional() @IsString() @MinLength(1)
  audience?: string;

  /**
   * Access-token lifetime in seconds, at most 900.
   * @default 600
   */
  @IsOptional() @IsInt() @Min(30) @Max(900)
  accessTtl?: number;

  /**
   * A session (refresh family) unused for this many seconds expires.
   * @default 1209600 (14 days)
   */
  @IsOptional() @IsInt() @Min(60)
  refreshIdleTtl?: number;

  /**
   * A session expires this many seconds after sign-in, however often it is refreshed.
   * @default 2592000 (30 days)
   */
  @IsOptional() @IsInt() @Min(60)
  refreshAbsoluteTtl?: number;

  /**
   * Seconds during which the immediate predecessor of a refresh token may be presented
   * again (parallel tabs) and receives the same successor instead of revoking the family.
   * @default 5
   */
  @IsOptional() @IsInt() @Min(0) @Max(60)
  refreshReuseGrace?: number;

  /**
   * Upper bound, in seconds, on how long a revoked session may still pass the guard on one
   * instance: the guard caches "session is live" answers for at most this long.
   * @default 5
   */
  @IsOptional() @IsInt() @Min(0) @Max(60)
  revocationCacheTtl?: number;

  /**
   * Clock tolerance in seconds when verifying access tokens.
   * @default 5
   */
  @IsOptional() @IsInt() @Min(0) @Max(60)
  clockTolerance?: number;

  /**
   * Seconds an ended session (expired or revoked) and its refresh tokens are kept before
   * `SessionService.purgeEnded` deletes them. While kept, a replayed old refresh token of that
   * session is still recognised as one (and refused); after, it is just unknown (also refused).
   * @default 604800 (7 days)
   */
  @IsOptional() @IsInt() @Min(0)
  endedSessionRetention?: number;

  /**
   * At most how often, in seconds, each instance purges ended sessions on its own (in the
   * background of a session opening, like the single-use store's sweep). 0 turns that off: call
   * `SessionService.purgeEnded()` from your own scheduler instead.
   * @default 3600
   */
  @IsOptional() @IsInt() @Min(0)
  purgeInterval?: number;

  /**
   * Seconds after a rotation during which the rotated token, presented again past
   * `refreshReuseGrace`, counts as a client retrying a lost answer (a crash or a dropped
   * connection after the rotation committed) instead of reuse — only while its successor has never
   * been presented. The retry gets a fresh successor and the undelivered one dies, so a thief who
   * replays it is still caught at the real client's next refresh (the family is revoked then).
   * 0: every replay past the grace window is reuse.
   * @default 300 (0 when `refreshReuseGrace` is 0: a host that turned the grace off counts every replay as reuse)
   */
  @IsOptional() @IsInt() @Min(0) @Max(86_400)
  refreshRetryWindow?: number;
}

/** Auth cookies. @publicApi */
export class CookieOptions {
  /**
   * Set the `Secure` attribute (and use `__Host-` cookie names, which no sibling subdomain can set).
   * @default true when appUrl is https
   */
  @IsOptional() @IsBoolean()
  secure?: boolean;

  /**
   * Prefix of the cookie names before the `__Host-` prefix is added.
   * @default 'sa'
   */
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_-]{0,15}$/i)
  namePrefix?: string;
}

/** The stateless OAuth transaction (state, PKCE verifier, nonce, returnTo) carried in a cookie. @publicApi */
export class TransactionOptions {
  /**
   * Seconds a sign-in may take between the redirect to the provider and the callback.
   * @default 600
   */
  @IsOptional() @IsInt() @Min(30) @Max(3600)
  ttl?: number;
}

/** Login-code hand-off to SPAs and native apps (`code_challenge` at the start, `POST /<prefix>/token`). @publicApi */
export class HandoffOptions {
  /**
   * Extra landing URLs for hand-off flows only, matched exactly: a native app's redirect URI
   * such as `com.example.app:/oauth` or a claimed `https` link. Each must be an absolute URL
   * without credentials or fragment (`javascript:`, `data:`, `file:`, `blob:` and `vbscript:` are
   * refused). Cookie sign-ins never land on them; other `returnTo` values follow the usual policy.
   * @default []
   */
  @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(2048, { each: true })
  redirectUris?: string[];
}

/** Account linking policy. @publicApi */
export class LinkingOptions {
  /**
   * Create a new local account when an unknown identity signs in.
   * Off means only identities already linked (or connected while signed in) may sign in.
   * @default true
   */
  @IsOptional() @IsBoolean()
  allowSignUp?: boolean;

  /**
   * Require a provider-verified email to create an account.
   * @default false
   */
  @IsOptional() @IsBoolean()
  requireVerifiedEmail?: boolean;

  /**
   * Seconds since sign-in within which the current session may connect another provider.
   * @default 3600
   */
  @IsOptional() @IsInt() @Min(60)
  maxAuthAgeForLink?: number;

  /**
   * Write every auth event to the `auth_audit_events` table.
   * @default false
   */
  @IsOptional() @IsBoolean()
  audit?: boolean;
}

/** Outbound HTTP to identity providers. @publicApi */
export class HttpOptions {
  /**
   * Timeout of every call to a provider, in milliseconds.
   * @default 10000
   */
  @IsOptional() @IsInt() @Min(100) @Max(10000)
  timeoutMs?: number;

  /**
   * Largest provider response body accepted, in bytes.
   * @default 1048576
   */
  @IsOptional() @IsInt() @Min(1024)
  maxResponseBytes?: number;
}

/**
 * Machine clients: the OAuth 2.0 client-credentials grant (`POST /<prefix>/oauth/token`) for
 * server-to-server calls, and `@Scopes()` routes that accept the tokens it issues.
 * See docs/machine-clients.md.
 * @publicApi
 */
export class MachineClientOptions {
  /**
   * Serve the token endpoint and accept machine tokens on `@Scopes()` routes. Off: the endpoint
   * answers `404 not_found`, machine tokens are refused everywhere, and the app does not need the
   * `auth_machine_clients` table.
   * @default false
   */
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  /**
   * Lifetime of a machine access token in seconds, at most 900.
   * @default 300
   */
  @IsOptional() @IsInt() @Min(30) @Max(900)
  tokenTtl?: number;

  /**
   * Longest lifetime (`exp` minus now) a `private_key_jwt` client assertion may claim, in seconds.
   * @default 300
   */
  @IsOptional() @IsInt() @Min(10) @Max(3600)
  maxAssertionLifetime?: number;

  /**
   * Token requests per client id (authenticated or not) per `clientRateLimitTtl`, counted in the
   * host's `ThrottlerModule` storage; the per-address budget is the `token` kind of `authThrottler`.
   * @default 60
   */
  @IsOptional() @IsInt() @Min(1)
  clientRateLimit?: number;

  /**
   * Window of `clientRateLimit`, in milliseconds.
   * @default 60000
   */
  @IsOptional() @IsInt() @Min(1000)
  clientRateLimitTtl?: number;
}

/**
 * Options of {@link AuthModule}.
 * @publicApi
 */
export class AuthModuleOptions {
  /**
   * Public base URL of the app (`https://app.example.com`): where a browser reaches the root of
   * this Nest app's HTTP server. Callback URLs are built from it, never from request headers.
   * Add a path only when a reverse proxy serves the app under it and strips it
   * (`https://x.example/app`); a global prefix (`app.setGlobalPrefix('api')`) is not part of it,
   * the module adds it where Nest serves its routes. Required.
   */
  @IsDefined({ message: 'appUrl is required: the public base URL of the app, such as https://app.example.com' })
  @Matches(HTTP_URL, { message: 'appUrl must be an absolute http(s) URL' })
  appUrl!: string;

  /**
   * Route prefix of the module's controller.
   * @default 'auth'
   */
  @IsOptional() @Matches(/^[a-z0-9][a-z0-9/_-]*$/i)
  routePrefix?: string;

  /**
   * Where a failed sign-in lands, with `?error=<code>`; a path of the app.
   * @default '/'
   */
  @IsOptional() @Matches(/^\/(?![/\\])[^\s]*$/)
  errorRedirect?: string;

  /**
   * Where a successful sign-in lands when no valid `returnTo` was given.
   * @default '/'
   */
  @IsOptional() @Matches(/^\/(?![/\\])[^\s]*$/)
  defaultReturnTo?: string;

  /**
   * Extra origins (besides appUrl's) accepted for `returnTo` and for the CSRF origin check.
   * @default []
   */
  @IsOptional() @IsArray() @Matches(ORIGIN, { each: true, message: 'allowedOrigins must hold origins like https://app.example.com' })
  allowedOrigins?: string[];

  /**
   * Production mode refuses plain-http provider endpoints and insecure cookies.
   * @default process.env.NODE_ENV === 'production'
   */
  @IsOptional() @IsBoolean()
  production?: boolean;

  /** @default {} (no provider enabled) */
  @IsOptional() @ValidateNested() @Type(() => ProvidersOptions)
  providers?: ProvidersOptions;

  /** Required: at least `tokens.secret` or `tokens.privateKey`. */
  // ValidateNested alone skips an undefined value: IsDefined makes a missing block an option error.
  @IsDefined({ message: 'tokens is required: set tokens.secret (HS256) or tokens.privateKey (ES256)' })
  @ValidateNested() @Type(() => TokenOptions)
  tokens!: TokenOptions;

  /** @default {} */
  @IsOptional() @ValidateNested() @Type(() => CookieOptions)
  cookies?: CookieOptions;

  /** @default {} */
  @IsOptional() @ValidateNested() @Type(() => TransactionOptions)
  transaction?: TransactionOptions;

  /** @default {} */
  @IsOptional() @ValidateNested() @Type(() => LinkingOptions)
  linking?: LinkingOptions;

  /** @default {} (no extra hand-off landing URL) */
  @IsOptional() @ValidateNested() @Type(() => HandoffOptions)
  handoff?: HandoffOptions;

  /** @default {} */
  @IsOptional() @ValidateNested() @Type(() => HttpOptions)
  http?: HttpOptions;

  /** @default {} (machine clients off) */
  @IsOptional() @ValidateNested() @Type(() => MachineClientOptions)
  machineClients?: MachineClientOptions;
}

type DeepRequired<T> = { [K in keyof T]-?: NonNullable<T[K]> extends object ? (NonNullable<T[K]> extends unknown[] ? NonNullable<T[K]> : DeepRequired<NonNullable<T[K]>>) : NonNullable<T[K]> };

/** Google options with every default applied. */
export type ResolvedGoogleOptions = Required<Omit<GoogleProviderOptions, 'hostedDomain'>> & { hostedDomain?: string };
/** GitHub options with every default applied. */
export type ResolvedGithubOptions = Required<GithubProviderOptions>;

/**
 * The options the module runs with: validated, with every default applied.
 * @publicApi
 */
export interface ResolvedAuthOptions {
  appUrl: string;
  appOrigin: string;
  routePrefix: string;
  errorRedirect: string;
  defaultReturnTo: string;
  allowedOrigins: string[];
  production: boolean;
  providers: {
    google?: ResolvedGoogleOptions;
    github?: ResolvedGithubOptions;
    oidc: ResolvedOidcProviderOptions[];
    microsoft?: ResolvedMicrosoftOptions;
    apple?: ResolvedAppleOptions;
  };
  tokens: Omit<DeepRequired<TokenOptions>, 'secret' | 'privateKey'> & { secret?: string; privateKey?: string };
  cookies: DeepRequired<CookieOptions>;
  transaction: DeepRequired<TransactionOptions>;
  linking: DeepRequired<LinkingOptions>;
  handoff: DeepRequired<HandoffOptions>;
  http: DeepRequired<HttpOptions>;
  machineClients: DeepRequired<MachineClientOptions>;
}

/**
 * Validates the host's options and applies defaults. Throws {@link InvalidAuthOptionsError}
 * naming the first wrong option, so a misconfigured app refuses to start.
 * @publicApi
 */
export function resolveAuthOptions(raw: AuthModuleOptions): ResolvedAuthOptions {
  if (raw === null || typeof raw !== 'object') {
    throw new InvalidAuthOptionsError('AuthModule options must be an object');
  }
  const instance = plainToInstance(AuthModuleOptions, raw);
  const errors = validateSync(instance, { forbidUnknownValues: false, whitelist: false });
  if (errors.length > 0) {
    throw new InvalidAuthOptionsError(`Invalid AuthModule option ${describeValidationError(errors[0])}`);
  }
  const tokens = raw.tokens;
  if (!tokens.secret && !tokens.privateKey) {
    throw new InvalidAuthOptionsError('Invalid AuthModule option tokens: set tokens.secret (HS256) or tokens.privateKey (ES256)');
  }
  const appUrl = raw.appUrl.replace(/\/+$/, '');
  const appOrigin = new URL(appUrl).origin;
  const production = raw.production ?? process.env.NODE_ENV === 'production';
  const secure = raw.cookies?.secure ?? appUrl.startsWith('https://');
  if (production && !secure) {
    throw new InvalidAuthOptionsError('Invalid AuthModule option cookies.secure: production requires an https appUrl and secure cookies');
  }
  const google = raw.providers?.google;
  const github = raw.providers?.github;
  const resolved: ResolvedAuthOptions = {
    appUrl,
    appOrigin,
    routePrefix: (raw.routePrefix ?? 'auth').replace(/^\/+|\/+$/g, ''),
    errorRedirect: raw.errorRedirect ?? '/',
    defaultReturnTo: raw.defaultReturnTo ?? '/',
    allowedOrigins: (raw.allowedOrigins ?? []).map((o) => new URL(o).origin),
    production,
    providers: {
      google: google ? {
        clientId: google.clientId,
        clientSecret: google.clientSecret,
        issuer: google.issuer ?? 'https://accounts.google.com',
        authorizationURL: google.authorizationURL ?? 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenURL: google.tokenURL ?? 'https://oauth2.googleapis.com/token',
        userInfoURL: google.userInfoURL ?? 'https://openidconnect.googleapis.com/v1/userinfo',
        jwksURL: google.jwksURL ?? 'https://www.googleapis.com/oauth2/v3/certs',
        scopes: google.scopes ?? ['openid', 'email', 'profile'],
        hostedDomain: google.hostedDomain,
        trustEmail: google.trustEmail ?? false,
        discoveryURL: google.discoveryURL ?? `${(google.issuer ?? 'https://accounts.google.com').replace(/\/+$/, '')}/.well-known/openid-configuration`,
        requireIssParameter: google.requireIssParameter ?? false,
      } : undefined,
      github: github ? {
        clientId: github.clientId,
        clientSecret: github.clientSecret,
        authorizationURL: github.authorizationURL ?? 'https://github.com/login/oauth/authorize',
        tokenURL: github.tokenURL ?? 'https://github.com/login/oauth/access_token',
        apiURL: (github.apiURL ?? 'https://api.github.com').replace(/\/+$/, ''),
        // Defaults to the resolved apiURL: the value identities were recorded with before this option.
        issuer: github.issuer ?? (github.apiURL ?? 'https://api.github.com').replace(/\/+$/, ''),
        scopes: github.scopes ?? ['read:user', 'user:email'],
        trustEmail: github.trustEmail ?? false,
      } : undefined,
      oidc: resolveOidcProviders(raw.providers?.oidc, production),
      microsoft: resolveMicrosoftOptions(raw.providers?.microsoft, production),
      apple: resolveAppleOptions(raw.providers?.apple, production),
    },
    tokens: {
      secret: tokens.secret,
      privateKey: tokens.privateKey,
      previousKeys: tokens.previousKeys ?? [],
      issuer: tokens.issuer ?? appUrl,
      audience: tokens.audience ?? appUrl,
      accessTtl: tokens.accessTtl ?? 600,
      refreshIdleTtl: tokens.refreshIdleTtl ?? 14 * 24 * 3600,
      refreshAbsoluteTtl: tokens.refreshAbsoluteTtl ?? 30 * 24 * 3600,
      refreshReuseGrace: tokens.refreshReuseGrace ?? 5,
      revocationCacheTtl: tokens.revocationCacheTtl ?? 5,
      clockTolerance: tokens.clockTolerance ?? 5,
      endedSessionRetention: tokens.endedSessionRetention ?? 7 * 24 * 3600,
      purgeInterval: tokens.purgeInterval ?? 3600,
      refreshRetryWindow: tokens.refreshRetryWindow ?? ((tokens.refreshReuseGrace ?? 5) > 0 ? 300 : 0),
    },
    cookies: { secure, namePrefix: raw.cookies?.namePrefix ?? 'sa' },
    transaction: { ttl: raw.transaction?.ttl ?? 600 },
    linking: {
      allowSignUp: raw.linking?.allowSignUp ?? true,
      requireVerifiedEmail: raw.linking?.requireVerifiedEmail ?? false,
      maxAuthAgeForLink: raw.linking?.maxAuthAgeForLink ?? 3600,
      audit: raw.linking?.audit ?? false,
    },
    handoff: { redirectUris: [...(raw.handoff?.redirectUris ?? [])] },
    http: { timeoutMs: raw.http?.timeoutMs ?? 10000, maxResponseBytes: raw.http?.maxResponseBytes ?? 1024 * 1024 },
    machineClients: {
      enabled: raw.machineClients?.enabled ?? false,
      tokenTtl: raw.machineClients?.tokenTtl ?? 300,
      maxAssertionLifetime: raw.machineClients?.maxAssertionLifetime ?? 300,
      clientRateLimit: raw.machineClients?.clientRateLimit ?? 60,
      clientRateLimitTtl: raw.machineClients?.clientRateLimitTtl ?? 60_000,
    },
  };
  for (const uri of resolved.handoff.redirectUris) {
    if (!isHandoffRedirectUri(uri)) throw new InvalidAuthOptionsError(`Invalid AuthModule option handoff.redirectUris: ${JSON.stringify(uri.slice(0, 80))} is not an absolute URL without credentials or fragment`);
  }
  if (resolved.tokens.refreshAbsoluteTtl < resolved.tokens.refreshIdleTtl) {
    throw new InvalidAuthOptionsError('Invalid AuthModule option tokens.refreshAbsoluteTtl: must be at least tokens.refreshIdleTtl');
  }
  if (resolved.tokens.refreshRetryWindow > 0 && resolved.tokens.refreshReuseGrace === 0) {
    // Without a grace window parallel duplicates would each count as a retry, each replacing the last successor.
    throw new InvalidAuthOptionsError('Invalid AuthModule option tokens.refreshRetryWindow: needs tokens.refreshReuseGrace > 0 (or set it to 0)');
  }
  if (google && !resolved.providers.google!.scopes.includes('openid')) {
    throw new InvalidAuthOptionsError('Invalid AuthModule option providers.google.scopes: must include "openid"');
  }
  // `microsoft` and `apple` stay usable as generic OpenID ids (an existing single-tenant setup),
  // but not next to the built-in provider of the same id.
  for (const id of ['microsoft', 'apple'] as const) {
    if (resolved.providers[id] && resolved.providers.oidc.some((p) => p.id === id)) {
      throw new InvalidAuthOptionsError(`Invalid AuthModule option providers.oidc: id "${id}" is taken by providers.${id}`);
    }
  }
  if (production) {
    for (const [name, url] of providerEndpoints(resolved)) {
      if (!url.startsWith('https://')) {
        throw new InvalidAuthOptionsError(`Invalid AuthModule option ${name}: production requires https endpoints`);
      }
    }
  }
  return resolved;
}

const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'blob:', 'vbscript:']);

/**
 * Whether `uri` may be listed in `handoff.redirectUris`: an absolute URL of a safe scheme (not
 * `javascript:`, `data:`, `file:`, `blob:`, `vbscript:`), as written (no normalisation), without
 * credentials or fragment. For hosts that read the list from their own configuration.
 * @publicApi
 */
export function isHandoffRedirectUri(uri: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (!/^[a-z][a-z0-9+.-]*:[^\s\u0000-\u001f\\#]+$/i.test(uri)) return false;
  try {
    const url = new URL(uri);
    return !UNSAFE_SCHEMES.has(url.protocol) && !url.username && !url.password && !url.hash;
  } catch {
    return false;
  }
}

function providerEndpoints(o: ResolvedAuthOptions): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const g = o.providers.google;
  if (g) {
    for (const k of ['issuer', 'authorizationURL', 'tokenURL', 'userInfoURL', 'jwksURL', 'discoveryURL'] as const) out.push([`providers.google.${k}`, g[k]]);
  }
  const h = o.providers.github;
  if (h) {
    for (const k of ['authorizationURL', 'tokenURL', 'apiURL'] as const) out.push([`providers.github.${k}`, h[k]]);
  }
  return out;
}

function describeValidationError(error: ValidationError, path = ''): string {
  const name = path ? `${path}.${error.property}` : error.property;
  if (error.constraints) {
    return `${name}: ${Object.values(error.constraints)[0]}`;
  }
  if (error.children && error.children.length > 0) return describeValidationError(error.children[0], name);
  return name;
}

