import { InvalidAuthOptionsError } from '../../errors/auth.error';
import { AuthModuleOptions, resolveAuthOptions } from '../../auth.options';

const base = { appUrl: 'https://app.example.com', tokens: { secret: 's'.repeat(32) } };
const keycloak = { id: 'keycloak', name: 'Keycloak', issuer: 'https://sso.example.com/realms/main', clientId: 'app', clientSecret: 'secret' };
const resolve = (oidc: unknown[], extra: object = {}) => resolveAuthOptions({ ...base, ...extra, providers: { oidc } } as unknown as AuthModuleOptions);

describe('providers.oidc options', () => {
  it('applies defaults', () => {
    expect(resolve([keycloak]).providers.oidc).toEqual([
      {
        ...keycloak,
        scopes: ['openid', 'email', 'profile'],
        idTokenAlgorithms: ['RS256'],
        discoveryURL: 'https://sso.example.com/realms/main/.well-known/openid-configuration',
        trustEmail: false,
        requireIssParameter: false,
        useUserInfo: true,
      },
    ]);
  });

  it('keeps the issuer exactly as configured (a trailing slash is part of it)', () => {
    const [p] = resolve([{ ...keycloak, issuer: 'https://login.example.com/tenant/v2.0/' }]).providers.oidc;
    expect(p.issuer).toBe('https://login.example.com/tenant/v2.0/');
    expect(p.discoveryURL).toBe('https://login.example.com/tenant/v2.0/.well-known/openid-configuration');
  });

  it('is an empty list when none is configured', () => {
    expect(resolveAuthOptions(base as AuthModuleOptions).providers.oidc).toEqual([]);
  });

  it.each([
    ['a built-in id', [{ ...keycloak, id: 'google' }], /providers\.oidc\[0\]\.id: "google" is reserved/],
    ['a fixed route name', [{ ...keycloak, id: 'token' }], /"token" is reserved/],
    ['another fixed route name', [{ ...keycloak, id: 'me' }], /"me" is reserved/],
    ['a duplicated id', [keycloak, { ...keycloak, name: 'Again' }], /providers\.oidc\[1\]\.id: "keycloak" is used by another provider/],
    ['an id with capitals', [{ ...keycloak, id: 'KeyCloak' }], /providers\.oidc\.0\.id|oidc.*id/],
    ['an id with a slash', [{ ...keycloak, id: 'a/b' }], /id/],
    ['scopes without openid', [{ ...keycloak, scopes: ['email'] }], /providers\.oidc\[0\]\.scopes: must include "openid"/],
    ['an HMAC algorithm', [{ ...keycloak, idTokenAlgorithms: ['HS256'] }], /idTokenAlgorithms/],
    ['alg none', [{ ...keycloak, idTokenAlgorithms: ['none'] }], /idTokenAlgorithms/],
    ['a relative issuer', [{ ...keycloak, issuer: '/realms/main' }], /issuer/],
    ['a missing client secret', [{ ...keycloak, clientSecret: undefined }], /clientSecret/],
  ])('refuses %s', (_name, oidc, message) => {
    expect(() => resolve(oidc)).toThrow(InvalidAuthOptionsError);
    expect(() => resolve(oidc)).toThrow(message);
  });

  it('requires https issuer and discovery in production (B8)', () => {
    expect(() => resolve([{ ...keycloak, issuer: 'http://sso.example.com' }], { production: true })).toThrow(/providers\.oidc\[0\]\.issuer: production requires https/);
    expect(() => resolve([{ ...keycloak, discoveryURL: 'http://sso.example.com/.well-known/openid-configuration' }], { production: true })).toThrow(/discoveryURL: production requires https/);
    expect(resolve([keycloak], { production: true }).providers.oidc).toHaveLength(1);
  });
});
