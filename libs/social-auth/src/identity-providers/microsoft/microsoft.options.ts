import { ArrayNotEmpty, IsArray, IsBoolean, IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { InvalidAuthOptionsError } from '../../errors/auth.error';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?::\d+)?(\/[^\s?#]*)?$/i;
/** A Microsoft Entra tenant id: a GUID in lower case, as tokens carry it in `tid`. @internal */
export const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * The tenant id of personal Microsoft accounts (outlook.com, xbox, …): every consumer account's
 * token carries this `tid`.
 * @publicApi
 */
export const MICROSOFT_CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** The placeholder Microsoft's multi-tenant discovery documents put in their `issuer`. @publicApi */
export const MICROSOFT_TENANT_PLACEHOLDER = '{tenantid}';

/**
 * Sign in with Microsoft (Microsoft identity platform v2.0, OpenID Connect), single- or
 * multi-tenant. See docs/microsoft.md.
 *
 * The identity key is `(microsoft, "<tid>:<oid>")`: the tenant and the user's object id in it.
 * An ID token is accepted only when its `iss` is `issuerTemplate` filled with the token's own
 * `tid`, that `tid` fits `tenant` (and `allowedTenants` when set).
 * @example { clientId: process.env.MS_CLIENT_ID, clientSecret: process.env.MS_SECRET, tenant: 'organizations', allowedTenants: ['<contoso tid>'] }
 * @publicApi
 */
export class MicrosoftProviderOptions {
  /** Application (client) id of the app registration. Required. */
  @IsString() @MinLength(1)
  clientId!: string;

  /** Client secret of the app registration (sent as `client_secret_post`). Required. Never logged. */
  @IsString() @MinLength(1)
  clientSecret!: string;

  /**
   * Who may sign in: `'common'` (work, school and personal accounts), `'organizations'` (work and
   * school only), `'consumers'` (personal only), or one tenant id (a lower-case GUID; domain names
   * are refused because tokens carry the GUID).
   * @default 'common'
   */
  @IsOptional() @Matches(/^(common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, {
    message: "tenant must be 'common', 'organizations', 'consumers' or a tenant id (lower-case GUID)",
  })
  tenant?: string;

  /**
   * Tenant ids (`tid`) whose users may sign in; a token from any other tenant is refused. Unset:
   * every tenant `tenant` admits.
   * @default undefined (no list)
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @Matches(TENANT_ID, { each: true, message: 'allowedTenants must list tenant ids (lower-case GUIDs)' })
  allowedTenants?: string[];

  /**
   * Scopes requested; must include `openid`. `profile` is needed for the `oid` claim (the key).
   * @default ['openid', 'email', 'profile']
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true })
  scopes?: string[];

  /**
   * Whether an email the token marks as verified by its domain owner (`xms_edov: true`, an
   * optional claim to configure in the app registration) may link to an existing local account
   * with the same verified email. Microsoft's `email` is otherwise never treated as verified
   * (nOAuth): without `xms_edov` it never links, whatever this says.
   * @default false
   */
  @IsOptional() @IsBoolean()
  trustEmail?: boolean;

  /**
   * Issuer template of ID tokens; `{tenantid}` is replaced by each token's `tid`.
   * @default 'https://login.microsoftonline.com/{tenantid}/v2.0'
   */
  @IsOptional() @Matches(/^https?:\/\/\S*\{tenantid\}\S*$/, { message: 'issuerTemplate must be an http(s) URL containing {tenantid}' })
  issuerTemplate?: string;

  /** @default `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize` */
  @IsOptional() @Matches(HTTP_URL)
  authorizationURL?: string;

  /** @default `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token` */
  @IsOptional() @Matches(HTTP_URL)
  tokenURL?: string;

  /** @default `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys` */
  @IsOptional() @Matches(HTTP_URL)
  jwksURL?: string;

  /**
   * Discovery document, checked before each flow: its `issuer` must be the template (multi-tenant)
   * or the template filled with the configured tenant.
   * @default `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`
   */
  @IsOptional() @Matches(HTTP_URL)
  discoveryURL?: string;
}

/** Microsoft options with every default applied. @publicApi */
export interface ResolvedMicrosoftOptions {
  clientId: string;
  clientSecret: string;
  tenant: string;
  allowedTenants?: string[];
  scopes: string[];
  trustEmail: boolean;
  issuerTemplate: string;
  authorizationURL: string;
  tokenURL: string;
  jwksURL: string;
  discoveryURL: string;
}

const AUTHORITY = 'https://login.microsoftonline.com';

/**
 * Applies defaults to the (already class-validated) Microsoft options and checks what a field
 * decorator cannot: `openid` scope, https in production, an allow-list that fits the tenant.
 * @internal
 */
export function resolveMicrosoftOptions(raw: MicrosoftProviderOptions | undefined, production: boolean): ResolvedMicrosoftOptions | undefined {
  if (!raw) return undefined;
  const tenant = raw.tenant ?? 'common';
  const resolved: ResolvedMicrosoftOptions = {
    clientId: raw.clientId,
    clientSecret: raw.clientSecret,
    tenant,
    ...(raw.allowedTenants ? { allowedTenants: [...raw.allowedTenants] } : {}),
    scopes: raw.scopes ?? ['openid', 'email', 'profile'],
    trustEmail: raw.trustEmail ?? false,
    issuerTemplate: raw.issuerTemplate ?? `${AUTHORITY}/${MICROSOFT_TENANT_PLACEHOLDER}/v2.0`,
    authorizationURL: raw.authorizationURL ?? `${AUTHORITY}/${tenant}/oauth2/v2.0/authorize`,
    tokenURL: raw.tokenURL ?? `${AUTHORITY}/${tenant}/oauth2/v2.0/token`,
    jwksURL: raw.jwksURL ?? `${AUTHORITY}/${tenant}/discovery/v2.0/keys`,
    discoveryURL: raw.discoveryURL ?? `${AUTHORITY}/${tenant}/v2.0/.well-known/openid-configuration`,
  };
  const at = 'Invalid AuthModule option providers.microsoft';
  if (!resolved.scopes.includes('openid')) throw new InvalidAuthOptionsError(`${at}.scopes: must include "openid"`);
  if (resolved.allowedTenants && TENANT_ID.test(tenant) && resolved.allowedTenants.some((t) => t !== tenant)) {
    throw new InvalidAuthOptionsError(`${at}.allowedTenants: lists a tenant other than the configured tenant`);
  }
  if (production) {
    for (const key of ['issuerTemplate', 'authorizationURL', 'tokenURL', 'jwksURL', 'discoveryURL'] as const) {
      if (!resolved[key].startsWith('https://')) throw new InvalidAuthOptionsError(`${at}.${key}: production requires https endpoints`);
    }
  }
  return resolved;
}
