import { checkMicrosoftClaims, discoveryIssuer, microsoftIdentity } from './microsoft-claims';
import { MICROSOFT_CONSUMERS_TENANT_ID } from './microsoft.options';

const TEMPLATE = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const CONTOSO = 'c0175050-1111-4111-8111-11111111abcd';
const FABRIKAM = '22222222-2222-4222-8222-222222222222';
const OID = '00000000-0000-4000-8000-00000000a11c';
const iss = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
const claims = { iss: iss(CONTOSO), tid: CONTOSO, oid: OID, sub: 'pairwise-sub' };
const common = { tenant: 'common', issuerTemplate: TEMPLATE };

describe('checkMicrosoftClaims', () => {
  it.each([
    ['common, a work tenant', claims, common],
    ['common, a personal account', { ...claims, tid: MICROSOFT_CONSUMERS_TENANT_ID, iss: iss(MICROSOFT_CONSUMERS_TENANT_ID) }, common],
    ['organizations, a work tenant', claims, { ...common, tenant: 'organizations' }],
    ['consumers, a personal account', { ...claims, tid: MICROSOFT_CONSUMERS_TENANT_ID, iss: iss(MICROSOFT_CONSUMERS_TENANT_ID) }, { ...common, tenant: 'consumers' }],
    ['one tenant, its own token', claims, { ...common, tenant: CONTOSO }],
    ['an allowed tenant', claims, { ...common, allowedTenants: [FABRIKAM, CONTOSO] }],
  ])('accepts %s', (_name, c, e) => {
    expect(checkMicrosoftClaims(c, e)).toBeUndefined();
  });

  // Threat model B10 (issuer template), B11 (tenant rules).
  it.each([
    ['iss of another tenant than tid (mix-up)', { ...claims, iss: iss(FABRIKAM) }, common, 'iss'],
    ['iss the unfilled template', { ...claims, iss: TEMPLATE }, common, 'iss'],
    ['iss with a trailing slash', { ...claims, iss: `${iss(CONTOSO)}/` }, common, 'iss'],
    ['iss of the v1 endpoint (sts.windows.net)', { ...claims, iss: `https://sts.windows.net/${CONTOSO}/` }, common, 'iss'],
    ['tid missing', { ...claims, tid: undefined }, common, 'tid'],
    ['tid not a GUID', { ...claims, tid: 'contoso.onmicrosoft.com', iss: iss('contoso.onmicrosoft.com') }, common, 'tid'],
    ['tid in upper case', { ...claims, tid: CONTOSO.toUpperCase(), iss: iss(CONTOSO.toUpperCase()) }, common, 'tid'],
    ['tid a placeholder injection', { ...claims, tid: '{tenantid}', iss: TEMPLATE }, common, 'tid'],
    ['one tenant, a token of another', { ...claims, tid: FABRIKAM, iss: iss(FABRIKAM) }, { ...common, tenant: CONTOSO }, 'tid'],
    ['organizations, a personal account', { ...claims, tid: MICROSOFT_CONSUMERS_TENANT_ID, iss: iss(MICROSOFT_CONSUMERS_TENANT_ID) }, { ...common, tenant: 'organizations' }, 'tid'],
    ['consumers, a work tenant', claims, { ...common, tenant: 'consumers' }, 'tid'],
    ['a tenant outside allowedTenants', claims, { ...common, allowedTenants: [FABRIKAM] }, 'tid'],
    ['oid missing', { ...claims, oid: undefined }, common, 'oid'],
    ['oid not a GUID', { ...claims, oid: 'x' }, common, 'oid'],
  ])('refuses %s', (_name, c, e, reason) => {
    expect(checkMicrosoftClaims(c as Record<string, unknown>, e)).toBe(reason);
  });
});

describe('discoveryIssuer', () => {
  it.each([
    ['common', TEMPLATE],
    ['organizations', TEMPLATE],
    ['consumers', iss(MICROSOFT_CONSUMERS_TENANT_ID)],
    [CONTOSO, iss(CONTOSO)],
  ])('%s → %s', (tenant, expected) => {
    expect(discoveryIssuer({ tenant, issuerTemplate: TEMPLATE })).toBe(expected);
  });
});

describe('microsoftIdentity', () => {
  it('keys on tid:oid, not on sub or email', () => {
    expect(microsoftIdentity({ ...claims, email: 'a@contoso.com', name: 'A' })).toEqual({
      provider: 'microsoft',
      issuer: iss(CONTOSO),
      subject: `${CONTOSO}:${OID}`,
      email: 'a@contoso.com',
      emailVerified: false,
      displayName: 'A',
      avatarUrl: null,
    });
  });

  it.each([
    [undefined, false],
    [false, false],
    ['false', false],
    [1, false],
    ['TRUE', false],
    [true, true],
    ['true', true],
  ])('xms_edov %p → email verified %p', (xms_edov, verified) => {
    expect(microsoftIdentity({ ...claims, email: 'a@contoso.com', xms_edov }).emailVerified).toBe(verified);
  });

  it('an email_verified claim does not count (Microsoft does not assert it)', () => {
    expect(microsoftIdentity({ ...claims, email: 'a@contoso.com', email_verified: true }).emailVerified).toBe(false);
  });
});
