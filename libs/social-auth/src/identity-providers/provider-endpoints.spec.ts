import { resolveAuthOptions } from '../auth.options';

const base = { appUrl: 'https://app.test', production: true, tokens: { secret: 's'.repeat(32) } };
const google = { clientId: 'id', clientSecret: 'secret' };
const github = { clientId: 'id', clientSecret: 'secret' };

describe('provider endpoints at boot (threat model B8: never trust plain http in production)', () => {
  it.each([
    ['providers.google.issuer', { google: { ...google, issuer: 'http://accounts.example' } }],
    ['providers.google.authorizationURL', { google: { ...google, authorizationURL: 'http://accounts.example/auth' } }],
    ['providers.google.tokenURL', { google: { ...google, tokenURL: 'http://accounts.example/token' } }],
    ['providers.google.userInfoURL', { google: { ...google, userInfoURL: 'http://accounts.example/userinfo' } }],
    ['providers.google.jwksURL', { google: { ...google, jwksURL: 'http://accounts.example/jwks' } }],
    ['providers.google.discoveryURL', { google: { ...google, discoveryURL: 'http://accounts.example/.well-known/openid-configuration' } }],
    ['providers.github.tokenURL', { github: { ...github, tokenURL: 'http://github.example/token' } }],
    ['providers.github.apiURL', { github: { ...github, apiURL: 'http://api.github.example' } }],
  ])('refuses a plain-http %s, naming it', (option, providers) => {
    expect(() => resolveAuthOptions({ ...base, providers })).toThrow(new RegExp(option.replace(/\./g, '\\.')));
  });

  it('derives the discovery URL from the issuer and keeps RFC 9207 optional by default', () => {
    const resolved = resolveAuthOptions({ ...base, providers: { google: { ...google, issuer: 'https://idp.example/' } } });
    expect(resolved.providers.google).toMatchObject({ discoveryURL: 'https://idp.example/.well-known/openid-configuration', requireIssParameter: false });
  });

  it('allows plain http outside production (tests, sandbox)', () => {
    expect(() => resolveAuthOptions({ ...base, appUrl: 'http://localhost:3000', production: false, providers: { google: { ...google, tokenURL: 'http://127.0.0.1:4000/token' } } })).not.toThrow();
  });
});
