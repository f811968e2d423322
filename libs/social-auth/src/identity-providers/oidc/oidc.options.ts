import { ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { InvalidAuthOptionsError } from '../../errors/auth.error';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?::\d+)?(\/[^\s?#]*)?$/i;

/**
 * Signature algorithms an OpenID provider may sign ID tokens with. Asymmetric only: `none` and
 * the HMAC family (a token MAC'd with the client secret or with the provider's public key) are
 * never accepted (threat model B2).
 * @publicApi
 */
export const OIDC_ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/**
 * Provider ids a generic OpenID provider may not take: the built-in providers and the fixed
 * routes under the auth prefix (`/auth/me`, `/auth/token`, …), which would otherwise shadow or be
 * shadowed by `/auth/:provider`.
 * @publicApi
 */
export const RESERVED_PROVIDER_IDS: readonly string[] = [
  'google',
  'github',
  'oidc',
  'me',
  'providers',
  'sessions',
  'identities',
  'refresh',
  'logout',
  'logout-all',
  'token',
  'link',
  'callback',
  'docs',
  'well-known',
];

/**
 * A generic OpenID Connect provider (Microsoft Entra ID, GitLab, Keycloak, Okta, Auth0, …),
 * configured by its issuer: endpoints and keys come from its discovery document.
 *
 * The identity key is `(id, sub)`, and one `id` is bound to exactly one `issuer`, so two
 * providers (or two tenants) can never assert the same account.
 * @example { id: 'keycloak', name: 'Keycloak', issuer: 'https://sso.example.com/realms/main', clientId: 'app', clientSecret: process.env.KEYCLOAK_SECRET }
 * @publicApi
 */
export class OidcProviderOptions {
  /**
   * Provider id: the route segment (`/auth/<id>`, `/auth/<id>/callback`) and the stored identity's
   * provider. Lowercase letters, digits and `-`, starting with a letter, at most 32 characters;
   * not a built-in provider or a fixed route name (see `RESERVED_PROVIDER_IDS`). Required.
   */
  @Matches(/^[a-z][a-z0-9-]{0,31}$/, { message: 'id must be 1-32 lowercase letters, digits or "-", starting with a letter' })
  id!: string;

  /** Human name for the "Sign in with …" button. Required. */
  @IsString() @MinLength(1) @MaxLength(64)
  name!: string;

  /**
   * Issuer identifier, compared as an exact string with the discovery document's `issuer` and
   * every ID token's `iss` (no trailing-slash leniency). Required.
   */
  @Matches(HTTP_URL, { message: 'issuer must be an absolute http(s) URL' })
  issuer!: string;

  /** OAuth client id registered at the provider. Required. */
  @IsString() @MinLength(1)
  clientId!: string;

  /** OAuth client secret (sent as `client_secret_post`). Required. Never logged. */
  @IsString() @MinLength(1)
  clientSecret!: string;

  /**
   * Scopes requested; must include `openid`.
   * @default ['openid', 'email', 'profile']
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true })
  scopes?: string[];

  /**
   * Algorithms accepted on ID-token signatures (asymmetric only).
   * @default ['RS256']
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsIn(OIDC_ID_TOKEN_ALGORITHMS, { each: true })
  idTokenAlgorithms?: string[];

  /**
   * Discovery document URL.
   * @default `${issuer without trailing slash}/.well-known/openid-configuration`
   */
  @IsOptional() @Matches(HTTP_URL)
  discoveryURL?: string;

  /**
   * Whether this provider's verified email (`email_verified: true`) may link to an existing
   * local account with the same verified email. Leave off for multi-tenant providers whose
   * email claims are not verified by the provider (Microsoft Entra ID: see nOAuth).
   * @default false
   */
  @IsOptional() @IsBoolean()
  trustEmail?: boolean;

  /**
   * Refuse callbacks without RFC 9207 `iss` even when discovery does not announce
   * `authorization_response_iss_parameter_supported`.
   * @default false
   */
  @IsOptional() @IsBoolean()
  requireIssParameter?: boolean;

  /**
   * Call the userinfo endpoint (when discovered) after the ID token passed; its `sub` must equal
   * the token's. Off uses the ID token's claims alone.
   * @default true
   */
  @IsOptional() @IsBoolean()
  useUserInfo?: boolean;
}

/** A generic OpenID provider's options with every default applied. @publicApi */
export interface ResolvedOidcProviderOptions {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  idTokenAlgorithms: string[];
  discoveryURL: string;
  trustEmail: boolean;
  requireIssParameter: boolean;
  useUserInfo: boolean;
}

/**
 * Applies defaults to the (already class-validated) generic providers and checks what a
 * per-field decorator cannot: unique ids, reserved ids, `openid` scope, https in production.
 * @internal
 */
export function resolveOidcProviders(list: OidcProviderOptions[] | undefined, production: boolean): ResolvedOidcProviderOptions[] {
  const seen = new Set<string>();
  return (list ?? []).map((p, index) => {
    const at = `providers.oidc[${index}]`;
    if (RESERVED_PROVIDER_IDS.includes(p.id)) throw new InvalidAuthOptionsError(`Invalid AuthModule option ${at}.id: "${p.id}" is reserved (a built-in provider or a fixed route)`);
    if (seen.has(p.id)) throw new InvalidAuthOptionsError(`Invalid AuthModule option ${at}.id: "${p.id}" is used by another provider`);
    seen.add(p.id);
    const resolved: ResolvedOidcProviderOptions = {
      id: p.id,
      name: p.name,
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret: p.clientSecret,
      scopes: p.scopes ?? ['openid', 'email', 'profile'],
      idTokenAlgorithms: p.idTokenAlgorithms ?? ['RS256'],
      discoveryURL: p.discoveryURL ?? `${p.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      trustEmail: p.trustEmail ?? false,
      requireIssParameter: p.requireIssParameter ?? false,
      useUserInfo: p.useUserInfo ?? true,
    };
    if (!resolved.scopes.includes('openid')) throw new InvalidAuthOptionsError(`Invalid AuthModule option ${at}.scopes: must include "openid"`);
    if (production) {
      for (const key of ['issuer', 'discoveryURL'] as const) {
        if (!resolved[key].startsWith('https://')) throw new InvalidAuthOptionsError(`Invalid AuthModule option ${at}.${key}: production requires https endpoints`);
      }
    }
    return resolved;
  });
}
