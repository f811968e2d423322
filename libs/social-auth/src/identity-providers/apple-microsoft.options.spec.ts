import { generateKeyPairSync } from 'node:crypto';
import { resolveAuthOptions } from '../auth.options';

const base = { appUrl: 'https://app.test', production: true, tokens: { secret: 's'.repeat(32) } };
const microsoft = { clientId: 'id', clientSecret: 'secret' };
const TENANT = 'c0175050-0000-4000-8000-00000000c050';
const apple = {
  clientId: 'com.example.web',
  teamId: 'TEAM123456',
  keyId: 'KEY1234567',
  privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
};

describe('providers.microsoft and providers.apple options', () => {
  it('defaults Microsoft to the common tenant on login.microsoftonline.com, email not trusted', () => {
    expect(resolveAuthOptions({ ...base, providers: { microsoft } }).providers.microsoft).toEqual({
      ...microsoft,
      tenant: 'common',
      scopes: ['openid', 'email', 'profile'],
      trustEmail: false,
      issuerTemplate: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      authorizationURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      tokenURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      jwksURL: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
      discoveryURL: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
    });
  });

  it('defaults Apple to appleid.apple.com, six-month secrets, no email trust and no relay linking', () => {
    expect(resolveAuthOptions({ ...base, providers: { apple } }).providers.apple).toMatchObject({
      scopes: ['name', 'email'],
      clientSecretTtl: 15_777_000,
      trustEmail: false,
      linkPrivateRelayEmail: false,
      issuer: 'https://appleid.apple.com',
      tokenURL: 'https://appleid.apple.com/auth/token',
    });
  });

  it.each([
    ['a tenant domain name', { microsoft: { ...microsoft, tenant: 'contoso.onmicrosoft.com' } }, /providers\.microsoft\.tenant/],
    ['an upper-case tenant id', { microsoft: { ...microsoft, tenant: TENANT.toUpperCase() } }, /providers\.microsoft\.tenant/],
    ['allowedTenants that are not ids', { microsoft: { ...microsoft, allowedTenants: ['contoso'] } }, /providers\.microsoft\.allowedTenants/],
    ['allowedTenants beyond the one configured tenant', { microsoft: { ...microsoft, tenant: TENANT, allowedTenants: ['fab81ca0-0000-4000-8000-00000000fab8'] } }, /allowedTenants: lists a tenant other than/],
    ['an issuer template without {tenantid}', { microsoft: { ...microsoft, issuerTemplate: 'https://login.microsoftonline.com/common/v2.0' } }, /issuerTemplate/],
    ['no openid scope', { microsoft: { ...microsoft, scopes: ['email'] } }, /providers\.microsoft\.scopes/],
    ['a plain-http Microsoft endpoint in production', { microsoft: { ...microsoft, tokenURL: 'http://login.example/token' } }, /providers\.microsoft\.tokenURL: production requires https/],
    ['an Apple secret lifetime over six months', { apple: { ...apple, clientSecretTtl: 15_777_001 } }, /providers\.apple\.clientSecretTtl/],
    ['a malformed team id', { apple: { ...apple, teamId: 'team' } }, /providers\.apple\.teamId/],
    ['a plain-http Apple endpoint in production', { apple: { ...apple, jwksURL: 'http://apple.example/keys' } }, /providers\.apple\.jwksURL: production requires https/],
    ['a generic provider "microsoft" next to providers.microsoft', { microsoft, oidc: [{ id: 'microsoft', name: 'MS', issuer: 'https://login.microsoftonline.com/x/v2.0', clientId: 'a', clientSecret: 'b' }] }, /id "microsoft" is taken by providers\.microsoft/],
  ])('refuses %s', (_name, providers, message) => {
    expect(() => resolveAuthOptions({ ...base, providers } as never)).toThrow(message);
  });

  it('keeps "microsoft" usable as a generic OpenID id when the built-in provider is off (single-tenant setups)', () => {
    const oidc = [{ id: 'microsoft', name: 'MS', issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`, clientId: 'a', clientSecret: 'b' }];
    expect(resolveAuthOptions({ ...base, providers: { oidc } }).providers.oidc[0].id).toBe('microsoft');
  });

  it('never quotes the Apple private key in an error', () => {
    const bad = `-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n`;
    expect(() => resolveAuthOptions({ ...base, providers: { apple: { ...apple, privateKey: bad } } })).toThrow(/^(?!.*SECRETSECRET)/s);
  });
});
