import { readEmailVerified } from '../oidc/id-token-claims';
import { cleanEmail, cleanText } from '../profile-values';
import type { VerifiedIdentity } from '../verified-identity';
import { MICROSOFT_CONSUMERS_TENANT_ID, MICROSOFT_TENANT_PLACEHOLDER, TENANT_ID } from './microsoft.options';

/**
 * Pure checks and mapping of Microsoft identity platform (v2.0) ID-token claims. Signature,
 * `aud`, `azp`, `nonce`, `sub`, `exp`, `iat` and `nbf` are checked by the shared OpenID verifier;
 * these add what a multi-tenant issuer needs.
 * @internal
 */

const MAX_NAME = 200;

/** What the tenant checks need to know. @internal */
export interface MicrosoftTenantExpectations {
  /** `'common'`, `'organizations'`, `'consumers'` or a tenant id. */
  tenant: string;
  /** When set, the only tenant ids accepted. */
  allowedTenants?: readonly string[];
  /** `https://login.microsoftonline.com/{tenantid}/v2.0` (or the configured override). */
  issuerTemplate: string;
}

/** The template filled with one tenant id. @internal */
export function issuerForTenant(template: string, tid: string): string {
  return template.split(MICROSOFT_TENANT_PLACEHOLDER).join(tid);
}

/**
 * The issuer the discovery document of the configured tenant announces: the template itself for
 * `common` and `organizations`, the filled template for `consumers` and a tenant id.
 * @internal
 */
export function discoveryIssuer(expected: Pick<MicrosoftTenantExpectations, 'tenant' | 'issuerTemplate'>): string {
  if (expected.tenant === 'consumers') return issuerForTenant(expected.issuerTemplate, MICROSOFT_CONSUMERS_TENANT_ID);
  return TENANT_ID.test(expected.tenant) ? issuerForTenant(expected.issuerTemplate, expected.tenant) : expected.issuerTemplate;
}

/**
 * The refused claim's name, or undefined when the token's tenant is acceptable.
 *
 * Invariants (threat model B10, B11):
 * - `tid` is a tenant id (lower-case GUID) and `iss` equals the issuer template filled with that
 *   very `tid`: a token one tenant issued can never claim another tenant's issuer, and a token
 *   whose `iss` names a tenant other than its `tid` is refused (multi-tenant mix-up).
 * - `tid` fits the configured tenant: equal to it (one tenant), the consumers tenant
 *   (`consumers`), anything but the consumers tenant (`organizations`), anything (`common`).
 * - With `allowedTenants`, `tid` is one of them.
 * - `oid` (the key, with `tid`) is a GUID.
 * @internal
 */
export function checkMicrosoftClaims(claims: Record<string, unknown>, expected: MicrosoftTenantExpectations): string | undefined {
  const { tid, iss, oid } = claims;
  if (typeof tid !== 'string' || !TENANT_ID.test(tid)) return 'tid';
  if (typeof iss !== 'string' || iss !== issuerForTenant(expected.issuerTemplate, tid)) return 'iss';
  if (!tenantAdmitted(tid, expected.tenant)) return 'tid';
  if (expected.allowedTenants && !expected.allowedTenants.includes(tid)) return 'tid';
  if (typeof oid !== 'string' || !TENANT_ID.test(oid)) return 'oid';
  return undefined;
}

function tenantAdmitted(tid: string, tenant: string): boolean {
  switch (tenant) {
    case 'common':
      return true;
    case 'organizations':
      return tid !== MICROSOFT_CONSUMERS_TENANT_ID;
    case 'consumers':
      return tid === MICROSOFT_CONSUMERS_TENANT_ID;
    default:
      return tid === tenant;
  }
}

/**
 * The identity of a Microsoft sign-in, from an ID token that passed every check.
 *
 * - `subject` is `"<tid>:<oid>"`: `oid` is the user's object id in the tenant, the same for every
 *   app registration of the host (unlike `sub`, which is pairwise per client id and would orphan
 *   every account when the app is re-registered); the tenant prefix keeps the key unique and
 *   readable across tenants, as Microsoft recommends (`tid` + `oid`).
 * - `issuer` is the tenant's own issuer (the filled template).
 * - `email` is verified only when `xms_edov` (domain owner verified) is `true` or `"true"`:
 *   Microsoft lets a tenant admin put any address in `email`.
 * @internal
 */
export function microsoftIdentity(claims: Record<string, unknown>): VerifiedIdentity {
  const email = cleanEmail(claims.email);
  return {
    provider: 'microsoft',
    issuer: claims.iss as string,
    subject: `${claims.tid as string}:${claims.oid as string}`,
    email,
    emailVerified: email !== null && readEmailVerified(claims.xms_edov),
    displayName: cleanText(claims.name ?? claims.preferred_username, MAX_NAME),
    avatarUrl: null,
  };
}
